"""STROBE items: follow-up by reverse Kaplan-Meier, survival at fixed times, intervals for proportions.

Conventions (each result names its own in ``method``):

* Median follow-up by the reverse Kaplan-Meier method (Schemper and Smith 1996): the Kaplan-Meier
  estimate with the censoring indicator reversed (censoring = "event", death = censored), as R
  ``survfit(Surv(time, 1 - status) ~ 1)``. Its median and interval come from
  ``survival.kaplan_meier`` (first time S <= 0.5; R's midpoint rule alongside; Brookmeyer-Crowley
  interval from the log(-log) band, as R ``conf.type = "log-log"``).
* Survival at fixed times with the log(-log) interval, as R
  ``summary(survfit(Surv(time, status) ~ 1, conf.type = "log-log"), times = t)``: S(t) is the
  product-limit value at the last observed time <= t; the interval is
  exp(-exp(log(-log S) -+ z sqrt(sum d/(n(n-d))) / log S)); n at risk = number with time >= t.
  A time after the last observed time has no estimate (None), as R drops it (extend = FALSE).
* Wilson score interval for a proportion, as R ``prop.test(x, n, correct = FALSE)$conf.int``
  (``correct=True`` gives the continuity-corrected Wilson interval of ``prop.test``'s default).
* Difference of two independent proportions: Newcombe's hybrid score interval without continuity
  correction (Newcombe 1998, method 10), built from the two Wilson intervals:
  L = d - sqrt((p1 - l1)^2 + (u2 - p2)^2), U = d + sqrt((u1 - p1)^2 + (p2 - l2)^2), d = p1 - p2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from nenbone.analysis.survival import kaplan_meier, km_table, loglog_band
from nenbone.errors import NenboneError

METHOD_REVERSE_KM = "reverse Kaplan-Meier (censoring as the event; Schemper and Smith 1996)"
METHOD_SURVIVAL_AT = "Kaplan-Meier S(t) with log(-log) interval (R summary.survfit, conf.type = 'log-log')"
METHOD_WILSON = "Wilson score interval (R prop.test, correct = FALSE)"
METHOD_WILSON_CC = "Wilson score interval with continuity correction (R prop.test, correct = TRUE)"
METHOD_NEWCOMBE = "Newcombe hybrid score interval, no continuity correction (Newcombe 1998, method 10)"


class StrobeInputError(NenboneError):
    """Counts or follow-up data that cannot be summarised as asked."""


def _z(level: float) -> float:
    from statistics import NormalDist

    if not 0.0 < level < 1.0:
        raise StrobeInputError(f"confidence level must lie strictly between 0 and 1, got {level}")
    return NormalDist().inv_cdf((1.0 + level) / 2.0)


def reverse_km_followup(durations: Any, events: Any, level: float = 0.95) -> dict[str, Any]:
    """Median follow-up by reverse Kaplan-Meier (events: 1 = death/event, 0 = censored).

    Returns keys: median (first time the reverse-KM S <= 0.5; None if not reached), median_r
    (R survfit's midpoint rule), lower, upper (Brookmeyer-Crowley log(-log) interval at ``level``;
    None where not reached), n, n_censored (the "events" of the reverse KM), level, method.
    """
    ev = np.asarray(events, dtype=float)
    if not np.isin(ev, (0.0, 1.0)).all():
        raise StrobeInputError("reverse Kaplan-Meier: event indicators must be 0/1")
    km = kaplan_meier(durations, 1.0 - ev, level=level, label="reverse Kaplan-Meier")
    lower, upper = km.median_ci_loglog
    return {"median": km.median, "median_r": km.median_midpoint, "lower": lower, "upper": upper,
            "n": km.n, "n_censored": km.events, "level": level, "method": METHOD_REVERSE_KM}


def survival_at(durations: Any, events: Any, times: Sequence[float], level: float = 0.95) -> list[dict[str, Any]]:
    """Kaplan-Meier survival at each of ``times`` with its log(-log) interval (as R summary.survfit).

    Returns one dict per time with keys: time, survival, lower, upper, se (Greenwood SE of S),
    n_at_risk, level, method. survival/lower/upper/se are None after the last observed time.
    """
    _z(level)  # checks the level
    table = km_table(durations, events)
    lower, upper = loglog_band(table, level)
    t = table["time"].to_numpy(dtype=float)
    dur = np.asarray(durations, dtype=float)
    out = []
    for x in times:
        row: dict[str, Any] = {"time": float(x), "n_at_risk": int(np.sum(dur >= x)), "level": level,
                               "method": METHOD_SURVIVAL_AT}
        if x > t[-1]:
            row.update(survival=None, lower=None, upper=None, se=None)
        elif x < t[0]:
            row.update(survival=1.0, lower=1.0, upper=1.0, se=0.0)
        else:
            i = int(np.searchsorted(t, x, side="right") - 1)
            se = float(table["se"].iloc[i])
            row.update(survival=float(table["S"].iloc[i]), lower=float(lower[i]), upper=float(upper[i]),
                       se=se if math.isfinite(se) else None)
        out.append(row)
    return out


def wilson_ci(x: int, n: int, level: float = 0.95, correct: bool = False) -> dict[str, Any]:
    """Wilson score interval for x/n (R ``prop.test(x, n, correct=correct)$conf.int``).

    Returns keys: x, n, proportion, lower, upper, level, method.
    """
    if not (isinstance(x, (int, np.integer)) and isinstance(n, (int, np.integer)) and 0 <= x <= n and n > 0):
        raise StrobeInputError(f"Wilson interval: need integers 0 <= x <= n, n > 0 (got x = {x!r}, n = {n!r})")
    z = _z(level)
    p = x / n
    cc = 0.5 if correct else 0.0
    # R prop.test: YATES <- min(0.5, abs(x - n * p0)) with p0 = 0.5 by default
    cc = min(cc, abs(x - n * 0.5))
    z22n = z**2 / (2 * n)

    def limit(pc: float, sign: float) -> float:
        return (pc + z22n + sign * z * math.sqrt(pc * (1 - pc) / n + z22n / (2 * n))) / (1 + 2 * z22n)

    pc_up, pc_lo = p + cc / n, p - cc / n
    upper = 1.0 if pc_up >= 1 else limit(pc_up, +1.0)
    lower = 0.0 if pc_lo <= 0 else limit(pc_lo, -1.0)
    return {"x": int(x), "n": int(n), "proportion": p, "lower": lower, "upper": upper, "level": level,
            "method": METHOD_WILSON_CC if correct else METHOD_WILSON}


def newcombe_difference_ci(x1: int, n1: int, x2: int, n2: int, level: float = 0.95) -> dict[str, Any]:
    """Newcombe's hybrid score interval (method 10) for p1 - p2 = x1/n1 - x2/n2.

    Returns keys: p1, p2, difference, lower, upper, level, method.
    """
    a, b = wilson_ci(x1, n1, level), wilson_ci(x2, n2, level)
    p1, p2 = a["proportion"], b["proportion"]
    d = p1 - p2
    lower = d - math.sqrt((p1 - a["lower"]) ** 2 + (b["upper"] - p2) ** 2)
    upper = d + math.sqrt((a["upper"] - p1) ** 2 + (p2 - b["lower"]) ** 2)
    return {"p1": p1, "p2": p2, "difference": d, "lower": lower, "upper": upper, "level": level,
            "method": METHOD_NEWCOMBE}
