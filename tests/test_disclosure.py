"""Disclosure control rules, on hand-worked examples (k = min_cell_count)."""

from __future__ import annotations

import itertools

import pytest

from nenbone.presentation import disclosure as D


@pytest.mark.parametrize("n, k, shown", [
    (0, 5, "0"), (1, 5, "<5"), (4, 5, "<5"), (5, 5, "5"), (85, 5, "85"),
    (3, 0, "3"), (1, 1, "1"), (2, 3, "<3"),
])
def test_a_count_from_1_to_k_minus_1_is_hidden(n, k, shown):
    assert D.suppress_count(n, k) == shown


def test_lb_other_cannot_be_recovered_by_subtraction():
    # LB bone sites 14 + 9 + 2 = 25 (the column's n is printed): hiding 2 alone gives 25 - 14 - 9 = 2,
    # so the smallest other cell, 9, is hidden too; 25 - 14 = 11 = hidden sum, not a small count
    assert D.protect_cells([14, 9, 2], 5) == [False, True, True]
    assert D.cell_texts([14, 9, 2], 5) == ["14", "suppressed", "<5"]


def test_two_small_cells_whose_sum_is_small_take_a_third():
    # 1 + 1 = 2 would be known from 22 - 20: hide 20 as well (then the hidden sum is 22)
    assert D.protect_cells([1, 1, 20], 5) == [True, True, True]
    # 3 + 4 = 7 >= 5 and two cells hidden: enough
    assert D.protect_cells([3, 4, 30], 5) == [True, True, False]


def test_zeros_are_shown_and_never_taken_as_complement():
    assert D.protect_cells([0, 3, 10, 12], 5) == [False, True, True, False]


def test_a_count_whose_complement_is_small_is_hidden():
    # 23 of 25 with a yes/no variable: 25 - 23 = 2 patients without; the complement is not printed
    hidden = D.protect_cells([23, 2], 5, shown=[True, False])
    assert hidden == [True, True]
    assert D.protect_cells([20, 5], 5, shown=[True, False]) == [False, False]


def test_unprinted_cells_are_hidden_last():
    # levels 2, 30, 40 and an unprinted 'missing' remainder of 6: hide a printed level (30), not 'missing'
    assert D.protect_cells([2, 30, 40, 6], 5, shown=[True, True, True, False]) == [True, True, False, False]


def test_without_a_known_total_only_small_cells_are_hidden():
    assert D.protect_cells([14, 9, 2], 5, total_known=False) == [False, False, True]


def test_off_when_k_is_0_or_1():
    assert D.protect_cells([1, 2, 3], 0) == [False, False, False]
    assert D.protect_cells([1, 2, 3], 1) == [False, False, False]
    assert D.extreme_shown(0) and D.extreme_shown(1) and not D.extreme_shown(5)


def _recoverable(counts, hidden, k):
    """Brute force: can an attacker who knows the total and the shown cells pin a hidden small cell?

    Every hidden cell is known to be 1..k-1 if shown as '<k' and >= k if 'suppressed', 0 never hidden.
    A hidden small cell is recoverable if it takes one value in every assignment consistent with the total.
    """
    total = sum(counts)
    idx = [i for i, h in enumerate(hidden) if h]
    rest = total - sum(c for c, h in zip(counts, hidden) if not h)
    ranges = [range(1, k) if D.is_small(counts[i], k) else range(k, rest + 1) for i in idx]
    solutions = [s for s in itertools.product(*ranges) if sum(s) == rest]
    for j, i in enumerate(idx):
        if D.is_small(counts[i], k) and len({s[j] for s in solutions}) == 1:
            return True
    return False


@pytest.mark.parametrize("counts", [
    [14, 9, 2], [1, 1, 20], [3, 4, 30], [0, 3, 10, 12], [1, 2, 3, 4, 50], [23, 2], [4, 6], [1, 30, 31, 32],
    [2, 5, 5, 5], [17, 6, 3, 0],
])
def test_no_hidden_small_cell_is_recoverable(counts):
    hidden = D.protect_cells(counts, 5)
    assert all(h for c, h in zip(counts, hidden) if D.is_small(c, 5))
    assert not _recoverable(counts, hidden, 5), hidden
    assert not D.group_exposed(counts, hidden, 5)


# --------------------------------------------------------------------------- numbers at risk


def test_numbers_at_risk_that_differ_by_1_to_k_minus_1_from_the_last_printed_are_hidden():
    # by hand, k = 5: 40 printed; 38 (40 - 38 = 2 left) hidden; 30 (10 below 40) printed; 29 (1 below 30)
    # hidden; 22 (8 below 30), 9 (13 below 22) printed; 3 is '<5'; 0 printed (9 below the last printed, 9)
    counts = [40, 38, 30, 29, 22, 9, 3, 0]
    assert D.at_risk_texts(counts, 5) == ["40", "–", "30", "–", "22", "9", "<5", "0"]
    assert D.at_risk_hidden(counts, 5) == [False, True, False, True, False, False, False, False]
    # equal numbers (nobody left) are printed; control off prints everything
    assert D.at_risk_texts([12, 12, 7, 7], 5) == ["12", "12", "7", "7"]
    assert D.at_risk_texts(counts, 0) == [str(c) for c in counts]
    assert D.at_risk_texts(counts, 1) == [str(c) for c in counts]
    # a number hidden for another reason (equal to a hidden curve size) is no reference: 14 is hidden,
    # 11 is the first printed, 7 (4 below 11) hidden, 5 (6 below 11) printed
    assert D.at_risk_texts([14, 11, 7, 5], 5, start_hidden=[True, False, False, False]) == ["–", "11", "–", "5"]


@pytest.mark.parametrize("k", [3, 5])
def test_no_two_printed_numbers_at_risk_differ_by_1_to_k_minus_1(k):
    """Every non-increasing series of 5 numbers at risk from 0 to 12: any two printed exact numbers
    (so any subset of the times a figure labels) differ by 0 or by k or more."""
    checked = 0
    for series in itertools.combinations_with_replacement(range(12, -1, -1), 5):
        texts = D.at_risk_texts(list(series), k)
        exact = [int(t) for t in texts if t.isdigit()]
        assert all(a - b == 0 or a - b >= k for a, b in itertools.combinations(exact, 2)), (series, texts)
        # and nothing is hidden that could be printed as is: a printed number is the true one
        assert all(t == str(n) or t in ("–", f"<{k}") for t, n in zip(texts, series))
        checked += 1
    assert checked == 6188  # C(13 + 5 - 1, 5) series


def test_a_curve_is_cut_after_the_last_step_with_k_or_more_at_risk():
    # steps at 2, 3, 5, 7, 8 months with 6, 5, 3, 2, 1 at risk (the six-patient example in test_figures)
    times, at_risk = [2.0, 3.0, 5.0, 7.0, 8.0], [6, 5, 3, 2, 1]
    assert D.km_truncation_time(times, at_risk, 3) == 5.0
    assert D.km_truncation_time(times, at_risk, 6) == 2.0
    assert D.km_truncation_time(times, at_risk, 7) == 0.0  # fewer than 7 patients: nothing past time 0
    assert D.km_truncation_time(times, at_risk, 0) is None and D.km_truncation_time(times, at_risk, 1) is None


def test_a_median_of_fewer_than_k_patients_is_hidden():
    assert [D.summary_shown(n, 5) for n in (0, 1, 4, 5, 85)] == [True, False, False, True, True]
    assert D.summary_shown(2, 0) and D.summary_shown(2, 1) and not D.summary_shown(2, 3)


def test_cells_hidden_by_another_relation_start_hidden():
    # [10, 7, 3] add up to a known 20; 3 is small; 10 was hidden already (another relation): 10 + 3
    # hidden, nothing more (without it, 7 is taken as the complement)
    assert D.protect_cells([10, 7, 3], 5, already=[True, False, False]) == [True, False, True]
    # 'already' alone (no small cell) hides nothing more
    assert D.protect_cells([10, 7, 6], 5, already=[False, True, False]) == [False, True, False]
    assert D.protect_cells([10, 7, 3], 5) == [False, True, True]  # without it: 7 taken as the complement
