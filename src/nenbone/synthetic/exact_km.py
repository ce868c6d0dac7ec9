"""Exact Kaplan-Meier arithmetic for placing event times around a target median (both twins).

Fractions, not floats: a designed curve must step across S = 1/2 by a known margin, so that every
convention (lifelines, R's midpoint rule, SPSS) reports the same median.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

HALF = Fraction(1, 2)


def km_step_across_half(times: np.ndarray, events: np.ndarray) -> tuple[int, Fraction, Fraction] | None:
    """Exact KM: the first event time where S <= 1/2, with S just before and at it (None if never)."""
    times, events = np.asarray(times), np.asarray(events)
    s = Fraction(1)
    for t in np.unique(times):
        d = int(events[times == t].sum())
        if d:
            n = int((times >= t).sum())
            after = s * Fraction(n - d, n)
            if after <= HALF:
                return int(t), s, after
            s = after
    return None
