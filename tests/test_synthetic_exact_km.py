"""Exact Kaplan-Meier step across S = 1/2, checked by hand."""

from fractions import Fraction

import numpy as np

from nenbone.synthetic.exact_km import km_step_across_half


def test_distinct_times_step_at_the_second_death():
    # 4 at risk: S = 3/4 after day 1, 3/4 x 2/3 = 1/2 after day 2
    assert km_step_across_half(np.array([1, 2, 3, 4]), np.array([1, 1, 1, 1])) == (2, Fraction(3, 4), Fraction(1, 2))


def test_tied_deaths_and_censoring():
    # day 1: one censored of 5, S stays 1
    times, events = np.array([1, 2, 2, 3, 4]), np.array([0, 1, 1, 1, 0])
    # day 2: 4 at risk, 2 die -> S = 1/2
    assert km_step_across_half(times, events) == (2, Fraction(1), Fraction(1, 2))


def test_never_reaching_half_is_none():
    assert km_step_across_half(np.array([1, 2, 3]), np.array([1, 0, 0])) is None
