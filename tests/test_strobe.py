"""STROBE items against R 4.x (survival 3.5-3 survfit/summary/quantile, stats::prop.test) and Newcombe 1998."""

from __future__ import annotations

import math

import pytest

from nenbone.analysis.strobe import (
    StrobeInputError,
    newcombe_difference_ci,
    reverse_km_followup,
    survival_at,
    wilson_ci,
)

# 30 patients, times in months, ties between events (t = 6) and between an event and a censoring (t = 12).
T = [2.5, 4, 6, 6, 7.5, 9, 11, 12, 12, 14, 17, 19, 22, 24, 25, 28, 31, 33, 36, 38, 41, 45, 50, 55, 58, 61, 66, 72, 80, 95]
D = [1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0]


def test_reverse_km_median_followup_matches_r():
    # R: q <- quantile(survfit(Surv(t, 1 - d) ~ 1, conf.type = "log-log"), 0.5) -> 50, 31, 72
    res = reverse_km_followup(T, D)
    assert (res["median"], res["lower"], res["upper"]) == (50.0, 31.0, 72.0)
    assert res["median_r"] == 50.0
    assert res["n"] == 30 and res["n_censored"] == 16  # R summary(f)$table: events 16


def test_survival_at_1_3_5_years_matches_r_loglog():
    # R: summary(survfit(Surv(t, d) ~ 1, conf.type = "log-log"), times = c(12, 36, 60, 200))
    # (200 is after the last time: R drops it)
    r_surv = (0.824248447204969, 0.564921823479794, 0.435796835255841)
    r_lower = (0.627369796185791, 0.346991285159384, 0.216196491143169)
    r_upper = (0.922995778603195, 0.7348359998771, 0.637354997467905)
    r_se = (0.0715703488391943, 0.101567325082899, 0.113009353071686)
    r_risk = (23, 12, 5)
    rows = survival_at(T, D, [12, 36, 60, 200])
    for i, row in enumerate(rows[:3]):
        assert row["survival"] == pytest.approx(r_surv[i], rel=1e-12)
        assert row["lower"] == pytest.approx(r_lower[i], rel=1e-10)
        assert row["upper"] == pytest.approx(r_upper[i], rel=1e-10)
        assert row["se"] == pytest.approx(r_se[i], rel=1e-10)
        assert row["n_at_risk"] == r_risk[i]
    assert rows[3]["survival"] is None and rows[3]["lower"] is None
    # before the first time: S = 1
    assert survival_at(T, D, [1.0])[0]["survival"] == 1.0


# R: prop.test(x, n, correct = FALSE / TRUE)$conf.int
R_WILSON = {
    (15, 25, False): (0.40739457358967, 0.76596697622252),
    (15, 25, True): (0.388903024240019, 0.781880790329695),
    (55, 100, False): (0.452446029974421, 0.64385462020488),
    (55, 100, True): (0.447542631229885, 0.648571889746643),
    (0, 10, False): (0.0, 0.277532799862889),
    (0, 10, True): (0.0, 0.344537218306922),
    (10, 10, False): (0.722467200137111, 1.0),
    (10, 10, True): (0.655462781693077, 1.0),
    (1, 25, False): (0.00709623350198726, 0.195440637361937),
    (1, 25, True): (0.0020915534131745, 0.223230308907532),
}


@pytest.mark.parametrize("key", sorted(R_WILSON))
def test_wilson_matches_r_prop_test(key):
    x, n, correct = key
    res = wilson_ci(x, n, correct=correct)
    assert (res["lower"], res["upper"]) == pytest.approx(R_WILSON[key], rel=1e-12, abs=1e-15)


def test_newcombe_published_example():
    # Newcombe (1998) Stat Med 17:873-890, Table II, example (a) 56/70 - 48/80, method 10: 0.0524 to 0.3339
    res = newcombe_difference_ci(56, 70, 48, 80)
    assert round(res["lower"], 4) == 0.0524 and round(res["upper"], 4) == 0.3339
    # example (b) 9/10 - 3/10: 0.1705 to 0.8090
    res = newcombe_difference_ci(9, 10, 3, 10)
    assert round(res["lower"], 4) == 0.1705 and round(res["upper"], 4) == 0.8090


def test_newcombe_60_vs_55_percent_from_r_wilson_limits():
    # Hand: d = 0.05; with R's Wilson limits above,
    # L = 0.05 - sqrt((0.6 - 0.40739457358967)^2 + (0.64385462020488 - 0.55)^2)
    # U = 0.05 + sqrt((0.76596697622252 - 0.6)^2 + (0.55 - 0.452446029974421)^2)
    lower = 0.05 - math.sqrt((0.6 - 0.40739457358967) ** 2 + (0.64385462020488 - 0.55) ** 2)
    upper = 0.05 + math.sqrt((0.76596697622252 - 0.6) ** 2 + (0.55 - 0.452446029974421) ** 2)
    res = newcombe_difference_ci(15, 25, 55, 100)
    assert res["difference"] == pytest.approx(0.05)
    assert (res["lower"], res["upper"]) == pytest.approx((lower, upper), rel=1e-12)
    assert round(res["lower"], 3) == -0.164 and round(res["upper"], 3) == 0.243


def test_bad_counts_are_refused():
    with pytest.raises(StrobeInputError):
        wilson_ci(5, 3)
    with pytest.raises(StrobeInputError):
        wilson_ci(1, 0)
