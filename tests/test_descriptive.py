"""Descriptive layer against hand formulas (percentiles, chi-square, Fisher, Mann-Whitney, t tests)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import t as t_dist

from nenbone.analysis.descriptive import (
    DescriptiveInputError,
    compare_proportions,
    count_percent,
    fisher_exact,
    likelihood_ratio_chi2,
    mann_whitney,
    median_iqr,
    pearson_chi2,
    spss_percentiles,
    student_t,
    welch_t,
    yates_chi2,
)

TOL = 1e-6


def hand_percentile(values, pct):
    """SPSS HAVERAGE by hand: position (n+1)p, interpolate between neighbours, clamp at the ends."""
    x = sorted(values)
    n = len(x)
    pos = (n + 1) * pct / 100
    if pos <= 1:
        return x[0]
    if pos >= n:
        return x[-1]
    k = int(math.floor(pos))
    g = pos - k
    return x[k - 1] + g * (x[k] - x[k - 1])


def chi2_sf_df1(stat):
    """P(chi-square with 1 df > stat) = erfc(sqrt(stat / 2))."""
    return math.erfc(math.sqrt(stat / 2))


# ------------------------------------------------------------------ percentiles


def test_poster_age_summary_58_47_5_67_5():
    ages = [45, 50, 58, 65, 70]  # (n+1)p = 1.5, 3, 4.5
    assert spss_percentiles(ages, 50) == 58
    np.testing.assert_allclose(spss_percentiles(ages, [25, 75]), [47.5, 67.5])
    assert np.percentile(ages, 25) == 50  # numpy's default (n-1)p rule would not give the poster's IQR
    ages9 = [31, 44, 51, 55, 58, 62, 66, 69, 80]  # (n+1)p = 2.5, 5, 7.5
    summary = median_iqr(ages9 + [np.nan])
    assert (summary.median, summary.q1, summary.q3) == (58, 47.5, 67.5)
    assert (summary.n, summary.n_missing) == (9, 1)
    assert "(n+1)p" in summary.method


@pytest.mark.parametrize("seed", range(5))
def test_percentiles_vs_hand_rule(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(18, 90, rng.integers(2, 60)).astype(float)
    for pct in [1, 5, 10, 25, 33.3, 50, 75, 90, 95, 99]:
        assert spss_percentiles(x, pct) == pytest.approx(hand_percentile(x.tolist(), pct), abs=1e-12)


def test_percentiles_refuse_missing_and_bad_q():
    with pytest.raises(DescriptiveInputError, match=r"missing values at positions \[1\]"):
        spss_percentiles([1, np.nan, 3], 50)
    with pytest.raises(DescriptiveInputError, match="0-100"):
        spss_percentiles([1, 2, 3], 150)


# ------------------------------------------------------------------ counts


def test_count_percent_rounds_half_up():
    assert count_percent(19, 85).text == "19 (22%)"
    assert count_percent(1, 8).text == "1 (13%)"  # 12.5 -> 13 (Python's round would give 12)
    assert count_percent(5, 8, 1).text == "5 (62.5%)"
    assert count_percent(30, 85).percent == pytest.approx(100 * 30 / 85)
    assert count_percent(0, 0).percent is None
    with pytest.raises(DescriptiveInputError):
        count_percent(5, 3)


# ------------------------------------------------------------------ tables


def hand_chi2(table, yates=False):
    t = np.asarray(table, float)
    e = t.sum(1, keepdims=True) * t.sum(0, keepdims=True) / t.sum()
    diff = np.abs(t - e)
    if yates:
        diff = np.maximum(0, diff - 0.5)
    return float((diff**2 / e).sum())


def hand_fisher(a, b, c, d):
    """Two-sided (probabilities <= observed) and both one-sided Fisher p-values from math.comb."""
    r1, c1, n = a + b, a + c, a + b + c + d
    lo, hi = max(0, c1 - (n - r1)), min(r1, c1)
    prob = {k: math.comb(r1, k) * math.comb(n - r1, c1 - k) / math.comb(n, c1) for k in range(lo, hi + 1)}
    two = sum(p for p in prob.values() if p <= prob[a] * (1 + 1e-7))
    greater = sum(p for k, p in prob.items() if k >= a)
    less = sum(p for k, p in prob.items() if k <= a)
    return two, less, greater


def test_pearson_and_yates_by_hand():
    table = [[12, 5], [7, 16]]
    stat = hand_chi2(table)
    res = pearson_chi2(table)
    assert res.statistic == pytest.approx(stat, abs=TOL) and res.p == pytest.approx(chi2_sf_df1(stat), abs=TOL)
    assert res.test == "Pearson chi-square" and res.df == 1
    ystat = hand_chi2(table, yates=True)
    y = yates_chi2(table)
    assert y.statistic == pytest.approx(ystat, abs=TOL) and y.p == pytest.approx(chi2_sf_df1(ystat), abs=TOL)
    assert "Yates" in y.test


def test_pearson_r_by_c_by_hand():
    table = [[10, 20, 30], [25, 15, 12]]
    res = pearson_chi2(table)
    assert res.statistic == pytest.approx(hand_chi2(table), abs=TOL) and res.df == 2
    assert res.p == pytest.approx(math.exp(-hand_chi2(table) / 2), abs=TOL)  # chi-square 2 df: exp(-x/2)
    with pytest.raises(DescriptiveInputError, match="2x2"):
        pearson_chi2(table, correction=True)


def test_likelihood_ratio_by_hand():
    table = np.array([[12, 5], [7, 16]], float)
    e = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    g = 2 * float((table * np.log(table / e)).sum())
    assert likelihood_ratio_chi2(table).statistic == pytest.approx(g, abs=TOL)


def test_fisher_by_hand():
    two, less, greater = hand_fisher(3, 9, 10, 4)
    assert fisher_exact([[3, 9], [10, 4]]).p == pytest.approx(two, abs=TOL)
    assert fisher_exact([[3, 9], [10, 4]], "less").p == pytest.approx(less, abs=TOL)
    one = fisher_exact([[3, 9], [10, 4]], "one-sided")
    assert one.p == pytest.approx(min(less, greater), abs=TOL) and one.details["direction"] == "less"


def test_study_b_major_resection_p_042_follows_from_no_standard_test():
    """15/25 (60%) vs 55/100 (55%): published p = 0.42; seeds README: 0.65, 0.82, 0.82, 0.41."""
    res = compare_proportions(15, 25, 55, 100)
    p = {t.test: t.p for t in res.tests}
    table = [[15, 10], [55, 45]]
    two, _, greater = hand_fisher(15, 10, 55, 45)
    assert p["Pearson chi-square"] == pytest.approx(chi2_sf_df1(hand_chi2(table)), abs=TOL)
    assert p["Pearson chi-square with Yates' continuity correction"] == pytest.approx(
        chi2_sf_df1(hand_chi2(table, yates=True)), abs=TOL)
    assert p["Fisher's exact test, two-sided"] == pytest.approx(two, abs=TOL)
    assert p["Fisher's exact test, one-sided (direction of the observed difference)"] == pytest.approx(greater, abs=TOL)
    rounded = {name: round(v, 2) for name, v in p.items()}
    assert rounded == {
        "Pearson chi-square": 0.65,
        "Pearson chi-square with Yates' continuity correction": 0.82,
        "likelihood-ratio chi-square": 0.65,
        "Fisher's exact test, two-sided": 0.82,
        "Fisher's exact test, one-sided (direction of the observed difference)": 0.41,
    }
    assert 0.42 not in rounded.values()
    assert (res.p1, res.p2) == (0.6, 0.55)


def test_table_input_errors():
    with pytest.raises(DescriptiveInputError, match="empty row or column"):
        pearson_chi2([[0, 0], [3, 4]])
    with pytest.raises(DescriptiveInputError, match="non-negative counts"):
        pearson_chi2([[1.5, 2], [3, 4]])


# ------------------------------------------------------------------ continuous


def test_mann_whitney_by_hand():
    x, y = [1, 2, 3, 3, 5, 9], [2, 4, 6, 6, 7, 8, 10]
    u1 = sum((a > b) + 0.5 * (a == b) for a in x for b in y)
    n1, n2 = len(x), len(y)
    n = n1 + n2
    _, counts = np.unique(x + y, return_counts=True)
    var = n1 * n2 / 12 * ((n + 1) - float(np.sum(counts**3 - counts)) / (n * (n - 1)))
    z = (u1 - n1 * n2 / 2) / math.sqrt(var)
    res = mann_whitney(x, y)
    assert res.statistic == pytest.approx(u1) and res.details["u_min"] == pytest.approx(min(u1, n1 * n2 - u1))
    assert res.details["z"] == pytest.approx(z, abs=TOL)
    assert res.p == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), abs=TOL)


def test_t_tests_by_hand():
    x, y = np.array([5.1, 4.8, 6.2, 5.9, 5.5]), np.array([6.8, 7.1, 5.9, 7.4, 8.0, 6.6, 7.7])
    m1, m2, v1, v2, n1, n2 = x.mean(), y.mean(), x.var(ddof=1), y.var(ddof=1), x.size, y.size
    se_w = math.sqrt(v1 / n1 + v2 / n2)
    df_w = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    w = welch_t(x, y)
    assert w.statistic == pytest.approx((m1 - m2) / se_w, abs=TOL) and w.df == pytest.approx(df_w, abs=TOL)
    assert w.p == pytest.approx(2 * t_dist.sf(abs((m1 - m2) / se_w), df_w), abs=TOL)
    sp = math.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    ts = (m1 - m2) / (sp * math.sqrt(1 / n1 + 1 / n2))
    s = student_t(x, y)
    assert s.statistic == pytest.approx(ts, abs=TOL) and s.df == n1 + n2 - 2
    assert s.p == pytest.approx(2 * t_dist.sf(abs(ts), n1 + n2 - 2), abs=TOL)
    assert "Welch" in w.test and "Student" in s.test


# ------------------------------------------------------------------ SMDs


def test_smd_of_the_matching_module_by_hand():
    """Balance tables use matching.smd_table: pooled-SD and proportion formulas computed by hand."""
    import pandas as pd

    from nenbone.analysis.matching import smd_table

    a, b = [60, 65, 70, 75], [50, 55, 58, 62, 66]
    ma, mb = sum(a) / 4, sum(b) / 5
    va = sum((v - ma) ** 2 for v in a) / 3
    vb = sum((v - mb) ** 2 for v in b) / 4
    p1, p0 = 3 / 4, 2 / 5
    frame = pd.DataFrame({"age": a + b, "flag": [1, 1, 1, 0, 1, 0, 1, 0, 0]})
    table = smd_table(frame, ["age", "flag"], pd.Series([True] * 4 + [False] * 5)).set_index("variable")
    assert table.loc["age", "smd"] == pytest.approx((ma - mb) / math.sqrt((va + vb) / 2), abs=1e-12)
    expected = (p1 - p0) / math.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
    assert table.loc["flag", "smd"] == pytest.approx(expected, abs=1e-12)
