"""Survival layer against hand computations (exact fractions, hand Newton-Raphson) and statsmodels."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2 as chi2_dist
from scipy.stats import norm
from statsmodels.duration.hazard_regression import PHReg  # an independent Cox implementation to agree with
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from nenbone.analysis.survival import (
    SurvivalInputError,
    at_risk_counts,
    cox,
    kaplan_meier,
    km_table,
    logrank,
    loglog_median_ci,
    observed_expected,
    spss_median_ci,
)

Z95 = 1.959963984540054
TOL = 1e-6

# A 10-row dataset with tied events (t = 3), an event tied with a censoring (t = 3, t = 12).
T_HAND = [2, 3, 3, 3, 5, 6, 8, 9, 12, 12]
E_HAND = [1, 1, 1, 0, 0, 1, 1, 0, 1, 0]


def hand_km(t, e):
    """Exact product-limit table at the distinct event times: (time, n, d, S, sum d/(n(n-d)))."""
    rows, s, v = [], Fraction(1), Fraction(0)
    for u in sorted(set(t)):
        n = sum(1 for x in t if x >= u)
        d = sum(1 for x, ev in zip(t, e) if x == u and ev)
        if d:
            s *= Fraction(n - d, n)
            v += Fraction(d, n * (n - d)) if n > d else 0
            rows.append((u, n, d, s, v))
    return rows


def random_data(seed, n, censor_scale=2.0, digits=1):
    rng = np.random.default_rng(seed)
    t_true = rng.exponential(1.0, n)
    c = rng.exponential(censor_scale, n)
    return np.round(np.minimum(t_true, c), digits), (t_true <= c).astype(int)


# ------------------------------------------------------------------ Kaplan-Meier table


def test_km_table_matches_exact_fractions_and_statsmodels():
    table = km_table(T_HAND, E_HAND)
    ev = table[table["events"] > 0].reset_index(drop=True)
    hand = hand_km(T_HAND, E_HAND)
    assert ev["time"].tolist() == [r[0] for r in hand] == [2, 3, 6, 8, 12]
    assert ev["n_at_risk"].tolist() == [r[1] for r in hand] == [10, 9, 5, 4, 2]
    np.testing.assert_allclose(ev["S"], [float(r[3]) for r in hand], atol=1e-12)
    # S by hand: 9/10, 7/10, 0.56, 0.42, 0.21
    np.testing.assert_allclose(ev["S"], [0.9, 0.7, 0.56, 0.42, 0.21], atol=1e-12)
    greenwood = [float(r[3]) * math.sqrt(float(r[4])) for r in hand]
    np.testing.assert_allclose(ev["se"], greenwood, atol=1e-12)
    sm = SurvfuncRight(np.array(T_HAND, float), np.array(E_HAND, float))
    np.testing.assert_allclose(ev["time"], sm.surv_times)
    np.testing.assert_allclose(ev["S"], sm.surv_prob, atol=TOL)
    np.testing.assert_allclose(ev["se"], sm.surv_prob_se, atol=TOL)
    # censored rows are present, S unchanged across them
    assert table.loc[table["time"] == 5, ["events", "censored"]].values.tolist() == [[0, 1]]
    assert table.loc[table["time"] == 5, "S"].item() == pytest.approx(0.7)


@pytest.mark.parametrize("seed", range(8))
def test_km_random_vs_statsmodels(seed):
    t, e = random_data(seed, 40 + 10 * seed)
    ev = km_table(t, e).query("events > 0")
    sm = SurvfuncRight(t, e)
    np.testing.assert_allclose(ev["time"], sm.surv_times)
    np.testing.assert_allclose(ev["S"], sm.surv_prob, atol=TOL)
    finite = np.isfinite(ev["se"].to_numpy())
    np.testing.assert_allclose(ev["se"].to_numpy()[finite], sm.surv_prob_se[finite], atol=TOL)


def test_at_risk_counts_by_hand():
    assert at_risk_counts(T_HAND, [0, 3, 3.5, 12, 13]) == {0.0: 10, 3.0: 9, 3.5: 6, 12.0: 2, 13.0: 0}
    km = kaplan_meier(T_HAND, E_HAND, at_risk_times=[0, 6])
    assert km.at_risk == {0.0: 10, 6.0: 5}
    assert (km.n, km.events) == (10, 6)


# ------------------------------------------------------------------ SPSS median and SE


def test_spss_median_ci_by_hand_with_censoring_and_ties():
    # S at event times (hand, above): t=2 .9, t=3 .7, t=6 .56, t=8 .42, t=12 .21
    median = 8.0  # first event time with S <= 0.5
    u_hat, s_u = 6.0, 0.56  # last event time with S >= 0.55
    l_hat, s_l = 8.0, 0.42  # first event time with S <= 0.45
    f_hat = (s_u - s_l) / (l_hat - u_hat)  # 0.07
    vsum = 1 / (10 * 9) + 2 / (9 * 7) + 1 / (5 * 4) + 1 / (4 * 3)
    se_s = 0.42 * math.sqrt(vsum)
    se = se_s / f_hat
    res = spss_median_ci(T_HAND, E_HAND)
    assert res.median == median and res.u_hat == u_hat and res.l_hat == l_hat
    assert res.f_hat == pytest.approx(0.07, abs=1e-12)
    assert res.se_s_at_median == pytest.approx(se_s, abs=1e-12)
    assert res.se == pytest.approx(se, abs=1e-9)
    assert res.lower == pytest.approx(median - Z95 * se, abs=1e-9)
    assert res.upper == pytest.approx(median + Z95 * se, abs=1e-9)
    assert "SPSS" in res.method


def test_spss_median_ci_uncensored_and_level():
    t = np.arange(1, 11.0)  # S(t_j) = (10 - j)/10
    res = spss_median_ci(t, np.ones(10), level=0.90)
    se = math.sqrt(0.5 * 0.5 / 10) / ((0.6 - 0.4) / (6 - 4))  # Greenwood = binomial SE without censoring
    z90 = 1.6448536269514722
    assert (res.median, res.u_hat, res.l_hat) == (5.0, 4.0, 6.0)
    assert res.se == pytest.approx(se, abs=1e-9)
    assert (res.lower, res.upper) == pytest.approx((5 - z90 * se, 5 + z90 * se), abs=1e-9)


def test_spss_u_and_l_boundaries_are_inclusive():
    # 20 events, no censoring: S = 0.55 exactly after the 9th event and 0.45 after the 11th; both count
    # (S >= 0.55 and S <= 0.45 are inclusive), whatever the floating-point rounding of the product.
    res = spss_median_ci(np.arange(1, 21.0), np.ones(20))
    assert (res.median, res.u_hat, res.l_hat) == (10.0, 9.0, 11.0)
    se = math.sqrt(0.25 / 20) / ((0.55 - 0.45) / (11 - 9))
    assert res.se == pytest.approx(se, abs=1e-9)


def test_spss_no_se_when_u_or_l_missing():
    no_u = spss_median_ci([1, 2], [1, 1])  # S(1) = 0.5: no event time with S >= 0.55
    assert no_u.median == 1.0 and no_u.u_hat is None and no_u.se is None
    assert no_u.lower is None and no_u.upper is None and "u" in no_u.note
    no_l = spss_median_ci([1, 2, 3, 4], [1, 1, 0, 0])  # S: .75, .5, never <= 0.45
    assert no_l.median == 2.0 and no_l.l_hat is None and no_l.se is None and "l" in no_l.note


def test_spss_tolerance_exact_half_in_floating_point():
    # 38 events, no censoring (Study A's metachronous group): S after the 19th event is exactly 1/2,
    # but np.cumprod gives 0.5000000000000002; the median must still be the 19th time.
    t = np.arange(1, 39.0)
    assert np.cumprod(1 - 1 / np.arange(38, 19, -1.0))[-1] != 0.5
    res = spss_median_ci(t, np.ones(38))
    assert res.median == 19.0
    assert (res.u_hat, res.l_hat) == (17.0, 21.0)  # S = 21/38 >= .55 (after 17), 17/38 <= .45 (after 21)
    se = math.sqrt(0.25 / 38) / ((21 / 38 - 17 / 38) / 4)
    assert res.se == pytest.approx(se, abs=1e-9)


# ------------------------------------------------------------------ medians: conventions, not reached


def test_midpoint_convention_and_study_a_twin():
    km = kaplan_meier([1, 2, 3, 4, 5, 6], [1] * 6)  # S(3) = 0.5 exactly
    assert km.median == 3.0 and km.median_midpoint == 3.5  # lifelines/SPSS vs R survfit/SAS
    below, above = np.linspace(1.0, 13.0, 18), np.linspace(15.0, 60.0, 18)  # 18 + 2 + 18 = 38 events
    km = kaplan_meier(np.concatenate([below, [13.5, 14.5], above]), np.ones(38))
    assert (km.median, km.median_midpoint) == (13.5, 14.0)  # S = 19/38 after the 19th event
    twin = np.concatenate([below, [14.0, 14.0], above])
    km = kaplan_meier(twin, np.ones(38))
    assert km.median == km.median_midpoint == km.spss.median == 14.0  # every convention agrees
    from lifelines import KaplanMeierFitter

    assert KaplanMeierFitter().fit(twin, np.ones(38)).median_survival_time_ == 14.0


def test_midpoint_equals_first_when_s_jumps_over_half():
    km = kaplan_meier(T_HAND, E_HAND)
    assert km.median == km.median_midpoint == 8.0


def test_not_reached_is_none_everywhere():
    t, e = [1, 2, 3, 4, 5, 6, 7, 8], [1, 0, 1, 0, 0, 0, 0, 0]
    km = kaplan_meier(t, e)
    assert km.median is None and km.median_midpoint is None
    assert km.spss.median is None and km.spss.se is None and km.spss.lower is None
    assert km.median_ci_loglog[1] is None  # upper limit never reached


def test_all_censored():
    km = kaplan_meier([3, 5, 7], [0, 0, 0])
    assert km.events == 0 and km.median is None and km.median_ci_loglog == (None, None)
    assert (km.table["S"] == 1.0).all()
    assert km.spss.note == "median not reached"


def hand_loglog_ci(t, e, z=Z95):
    """First event times the log(-log) band reaches 0.5, from the exact fractions."""
    lower = upper = None
    for u, _, _, s, v in hand_km(t, e):
        s = float(s)
        if s == 0.0:
            continue  # band undefined where S = 0 (R: NA)
        else:
            g, se_g = math.log(-math.log(s)), math.sqrt(float(v)) / abs(math.log(s))
            s_low, s_up = math.exp(-math.exp(g + z * se_g)), math.exp(-math.exp(g - z * se_g))
        if lower is None and s_low <= 0.5:
            lower = float(u)
        if upper is None and s_up <= 0.5:
            upper = float(u)
    return lower, upper


def test_loglog_median_ci_by_hand():
    t = [1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 18, 20, 21, 25]
    e = [1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0]
    got = loglog_median_ci(t, e)
    assert got == hand_loglog_ci(t, e)
    assert got[0] is not None and got[1] is not None
    assert loglog_median_ci(T_HAND, E_HAND) == hand_loglog_ci(T_HAND, E_HAND)
    # small samples ending at S = 0: the band is undefined there, so an upper band still above 0.5 is
    # "not reached" (R: NA); statsmodels (and lifelines) give the time S reaches 0 instead
    for t, e, expected, s_zero in [([1, 2, 3, 4], [1] * 4, (1.0, None), 4.0),
                                   ([1, 2, 3, 4, 5, 6], [0, 1, 0, 1, 1, 1], (2.0, None), 6.0)]:
        assert loglog_median_ci(t, e) == hand_loglog_ci(t, e) == expected
        sm = SurvfuncRight(np.array(t, float), np.array(e, float)).quantile_ci(0.5, method="cloglog")
        assert tuple(map(float, sm)) == (expected[0], s_zero)


@pytest.mark.parametrize("seed", range(25))
def test_loglog_median_ci_equals_statsmodels_cloglog(seed):
    """lifelines' band inversion and statsmodels' test inversion agree (both log(-log), Greenwood).

    statsmodels keeps the event times where |g(S) - g(0.5)| / se_g <= z and returns the first of them
    and the event time after the last of them; lifelines takes the first times the band crosses 0.5.
    Identical while the standardised distance grows with t, which it does here; statsmodels' "not
    reached" upper limit is inf, ours None.
    """
    t, e = random_data(seed, 15 + 7 * seed, censor_scale=1.5 + (seed % 4), digits=1 + seed % 2)
    lo, up = loglog_median_ci(t, e)
    sm_lo, sm_up = SurvfuncRight(t, e).quantile_ci(0.5, alpha=0.05, method="cloglog")
    assert lo == sm_lo
    assert up == (None if np.isinf(sm_up) else sm_up)
    assert (lo, up) == hand_loglog_ci(t.tolist(), e.tolist())


def test_input_errors_name_positions():
    with pytest.raises(SurvivalInputError, match=r"negative durations at positions \[1\]"):
        km_table([1, -2, 3], [1, 1, 1])
    with pytest.raises(SurvivalInputError, match=r"missing or infinite durations at positions \[0\]"):
        km_table([np.nan, 2, 3], [1, 1, 1])
    with pytest.raises(SurvivalInputError, match=r"not 0/1 at positions \[2\]"):
        km_table([1, 2, 3], [1, 0, 2])
    with pytest.raises(SurvivalInputError, match="confidence level"):
        spss_median_ci([1, 2], [1, 1], level=95)


# ------------------------------------------------------------------ log-rank


def hand_logrank_2(t, e, g):
    t, e, g = np.asarray(t, float), np.asarray(e, bool), np.asarray(g)
    a = sorted(set(g.tolist()), key=str)[0]
    o1 = e1 = var = 0.0
    for u in np.unique(t[e]):
        at = t >= u
        n, n1 = at.sum(), (at & (g == a)).sum()
        d = ((t == u) & e).sum()
        d1 = ((t == u) & e & (g == a)).sum()
        o1 += d1
        e1 += d * n1 / n
        if n > 1:
            var += n1 * (n - n1) * d * (n - d) / (n**2 * (n - 1))
    return (o1 - e1) ** 2 / var, o1, e1


def test_logrank_two_groups_by_hand_and_statsmodels():
    g = ["a", "b", "a", "b", "a", "b", "a", "b", "b", "a"]
    stat, o1, e1 = hand_logrank_2(T_HAND, E_HAND, g)
    res = logrank(T_HAND, E_HAND, g)
    assert res.chi2 == pytest.approx(stat, abs=TOL) and res.df == 1
    assert res.p == pytest.approx(chi2_dist.sf(stat, 1), abs=TOL)
    assert res.test == "log-rank (Mantel-Cox)"
    oe = res.groups.set_index("group")
    assert oe.loc["a", "observed"] == o1 and oe.loc["a", "expected"] == pytest.approx(e1, abs=1e-12)
    assert oe["observed"].sum() == pytest.approx(oe["expected"].sum(), abs=1e-12)
    sm_stat, sm_p = survdiff(np.array(T_HAND, float), np.array(E_HAND, float), np.array(g))
    assert res.chi2 == pytest.approx(sm_stat, abs=TOL) and res.p == pytest.approx(sm_p, abs=TOL)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_logrank_k_groups_vs_statsmodels(k):
    t, e = random_data(100 + k, 120)
    g = np.random.default_rng(k).integers(0, k, t.size)
    res = logrank(t, e, g)
    sm_stat, sm_p = survdiff(t, e, g)
    assert res.df == k - 1
    assert res.chi2 == pytest.approx(sm_stat, abs=TOL) and res.p == pytest.approx(sm_p, abs=TOL)
    if k == 2:
        assert res.chi2 == pytest.approx(hand_logrank_2(t, e, g)[0], abs=TOL)
    oe = observed_expected(t, e, g)
    assert oe["n"].sum() == t.size and oe["observed"].sum() == e.sum()


def test_logrank_rejects_missing_group_labels():
    with pytest.raises(SurvivalInputError, match=r"missing group labels at positions \[1\]"):
        logrank([1, 2, 3], [1, 1, 1], ["a", None, "b"])


# ------------------------------------------------------------------ Cox


def hand_cox(t, e, x, ties):
    """Newton-Raphson on the Breslow or Efron partial likelihood, analytic score and information."""
    t, e, x = np.asarray(t, float), np.asarray(e, bool), np.asarray(x, float).reshape(len(t), -1)
    beta = np.zeros(x.shape[1])
    for _ in range(100):
        w = np.exp(x @ beta)
        score, info = np.zeros_like(beta), np.zeros((beta.size, beta.size))
        for u in np.unique(t[e]):
            risk, dead = t >= u, (t == u) & e
            d = dead.sum()
            s0r, s1r = w[risk].sum(), (w[risk, None] * x[risk]).sum(0)
            s2r = (w[risk, None, None] * x[risk, :, None] * x[risk, None, :]).sum(0)
            s0d, s1d = w[dead].sum(), (w[dead, None] * x[dead]).sum(0)
            s2d = (w[dead, None, None] * x[dead, :, None] * x[dead, None, :]).sum(0)
            score += x[dead].sum(0)
            for k in range(d):
                c = k / d if ties == "efron" else 0.0
                s0, s1, s2 = s0r - c * s0d, s1r - c * s1d, s2r - c * s2d
                score -= s1 / s0
                info += s2 / s0 - np.outer(s1, s1) / s0**2
        step = np.linalg.solve(info, score)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    return beta, np.sqrt(np.diag(np.linalg.inv(info))), info


def hand_breslow_score_residuals(t, e, x, beta):
    """Lin-Wei score residuals U_i for the Breslow partial likelihood."""
    t, e, x = np.asarray(t, float), np.asarray(e, bool), np.asarray(x, float).reshape(len(t), -1)
    w = np.exp(x @ beta)
    resid = np.zeros_like(x)
    for u in np.unique(t[e]):
        risk, dead = t >= u, (t == u) & e
        xbar = (w[risk, None] * x[risk]).sum(0) / w[risk].sum()
        resid[dead] += x[dead] - xbar
        resid[risk] -= dead.sum() * (w[risk] / w[risk].sum())[:, None] * (x[risk] - xbar)
    return resid


@pytest.fixture(scope="module")
def tiny_cox_data():
    return pd.DataFrame({
        "time": [5, 6, 6, 2, 4, 4, 3, 8, 8, 9, 7, 1, 10, 12, 12, 11],
        "event": [1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0],
        "x1": [0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0],
        "x2": [1.2, -0.3, 0.5, 2.0, -1.1, 0.4, 0.0, -0.7, 1.5, -0.2, 0.9, 1.1, -1.4, 0.3, 0.1, -0.8],
        "grp": ["a", "b", "c", "b", "a", "c", "a", "b", "c", "a", "b", "c", "a", "b", "c", "a"],
        "pair": [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8],
    })


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_vs_hand_newton_raphson_and_statsmodels(tiny_cox_data, ties):
    df = tiny_cox_data
    res = cox(df, "time", "event", ["x1", "x2"], ties=ties)
    beta, se, _ = hand_cox(df["time"], df["event"], df[["x1", "x2"]], ties)
    np.testing.assert_allclose(res.terms["coef"], beta, atol=TOL)
    np.testing.assert_allclose(res.terms["se"], se, atol=TOL)
    sm = PHReg(df["time"].to_numpy(float), df[["x1", "x2"]].to_numpy(float),
               status=df["event"].to_numpy(float), ties=ties).fit()
    np.testing.assert_allclose(res.terms["coef"], sm.params, atol=TOL)
    np.testing.assert_allclose(res.terms["se"], sm.bse, atol=TOL)
    z = beta / se
    np.testing.assert_allclose(res.terms["hr"], np.exp(beta), rtol=TOL)
    np.testing.assert_allclose(res.terms["hr_lower"], np.exp(beta - Z95 * se), rtol=TOL)
    np.testing.assert_allclose(res.terms["p"], 2 * norm.sf(np.abs(z)), atol=TOL)
    assert res.ties == ties and (res.n, res.events) == (16, 11)
    assert "nenbone" in res.implementation
    np.testing.assert_allclose(res.terms["se_model"], se, atol=TOL)


def test_cox_efron_and_breslow_differ_with_ties(tiny_cox_data):
    df = tiny_cox_data
    efron = cox(df, "time", "event", ["x1", "x2"], ties="efron").terms["coef"]
    breslow = cox(df, "time", "event", ["x1", "x2"], ties="breslow").terms["coef"]
    assert np.max(np.abs(efron - breslow)) > 1e-3


def test_cox_categorical_dummy_coding(tiny_cox_data):
    df = tiny_cox_data
    res = cox(df, "time", "event", ["grp", "x2"], reference={"grp": "b"}, ties="breslow")
    assert res.references == {"grp": "b"}
    assert res.terms["term"].tolist() == ["grp[T.a]", "grp[T.c]", "x2"]
    assert res.terms["reference"].tolist()[:2] == ["b", "b"]
    x = np.column_stack([(df["grp"] == "a"), (df["grp"] == "c"), df["x2"]]).astype(float)
    beta, se, _ = hand_cox(df["time"], df["event"], x, "breslow")
    np.testing.assert_allclose(res.terms["coef"], beta, atol=TOL)
    default_ref = cox(df, "time", "event", ["grp"], ties="efron")
    assert default_ref.references == {"grp": "a"}  # first level when none named
    coded = cox(df.assign(g=df["grp"].map({"a": 1, "b": 2, "c": 3})), "time", "event", ["g"],
                categorical=["g"], reference={"g": 2}, ties="efron")
    assert coded.terms["term"].tolist() == ["g[T.1]", "g[T.3]"]


@pytest.mark.parametrize("cluster", [None, "pair"])
def test_cox_breslow_robust_vs_hand_sandwich(tiny_cox_data, cluster):
    df = tiny_cox_data
    res = cox(df, "time", "event", ["x1", "x2"], ties="breslow", robust=True, cluster_col=cluster)
    beta, _, info = hand_cox(df["time"], df["event"], df[["x1", "x2"]], "breslow")
    u = hand_breslow_score_residuals(df["time"], df["event"], df[["x1", "x2"]], beta)
    groups = df[cluster].to_numpy() if cluster else np.arange(len(df))
    g = pd.DataFrame(u).groupby(groups).sum().to_numpy()
    inv = np.linalg.inv(info)
    np.testing.assert_allclose(res.terms["se"], np.sqrt(np.diag(inv @ g.T @ g @ inv)), atol=TOL)
    assert res.robust and res.cluster_col == cluster


def test_cox_robust_efron_equals_breslow_without_ties():
    """No tied times: Efron = Breslow, so both tie rules give the same sandwich SEs."""
    rng = np.random.default_rng(11)
    n = 120
    df = pd.DataFrame({"x": rng.integers(0, 2, n), "z": rng.normal(size=n), "pair": rng.integers(0, 30, n)})
    t_true = rng.exponential(1 / np.exp(0.6 * df["x"] - 0.4 * df["z"]))
    cens = rng.exponential(1.5, n)
    df["time"], df["event"] = np.minimum(t_true, cens), (t_true <= cens).astype(int)
    for cluster in (None, "pair"):
        a = cox(df, "time", "event", ["x", "z"], ties="efron", robust=True, cluster_col=cluster).terms
        b = cox(df, "time", "event", ["x", "z"], ties="breslow", robust=True, cluster_col=cluster).terms
        np.testing.assert_allclose(a["coef"], b["coef"], atol=TOL)
        np.testing.assert_allclose(a["se"], b["se"], atol=TOL)


def test_cox_refuses_missing_values(tiny_cox_data):
    df = tiny_cox_data.copy()
    df.loc[3, "x2"] = np.nan
    with pytest.raises(SurvivalInputError, match=r"'x2' missing for rows \['3'\]"):
        cox(df, "time", "event", ["x1", "x2"])
    with pytest.raises(SurvivalInputError, match="ties must be"):
        cox(tiny_cox_data, "time", "event", ["x1"], ties="exact")


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_monotone_likelihood_is_a_named_error(ties):
    """Monotone likelihood (each event has the largest x of its risk set): refused, naming the covariate."""
    from nenbone.analysis.cox import CoxSeparationError

    df = pd.DataFrame({"time": np.arange(1, 9.0), "event": 1, "x": np.arange(8.0, 0.0, -1.0)})
    with pytest.raises(CoxSeparationError, match=r"perfect separation\) in \['x'\]"):
        cox(df, "time", "event", ["x"], ties=ties)
    clean = cox(pd.DataFrame({"time": T_HAND, "event": E_HAND, "x": [1, 0, 1, 1, 0, 0, 1, 0, 1, 0]}),
                "time", "event", ["x"], ties=ties)
    assert np.isfinite(clean.terms["coef"]).all()


def test_cox_constant_covariate_is_a_named_error(tiny_cox_data):
    from nenbone.analysis.cox import CoxConstantCovariateError

    df = tiny_cox_data.assign(c=1.0)
    with pytest.raises(CoxConstantCovariateError, match=r"\['c'\] constant"):
        cox(df, "time", "event", ["x1", "c"])
    with pytest.raises(CoxConstantCovariateError, match="constant within every stratum"):
        cox(df.assign(s=df["x1"]), "time", "event", ["x1", "x2"], strata="s")
    with pytest.raises(CoxConstantCovariateError, match="collinear"):
        cox(df.assign(x3=2 * df["x2"] + 1), "time", "event", ["x1", "x2", "x3"])


def test_cox_weights_solve_the_weighted_score_equation():
    """Weighted partial likelihood (no tied times): the coefficient solves the weighted score by hand."""
    from scipy.optimize import brentq

    rng = np.random.default_rng(7)
    n = 60
    x = rng.integers(0, 2, n).astype(float)
    t = rng.exponential(1 / np.exp(0.7 * x)) + rng.random(n) * 1e-3  # distinct times
    e = rng.random(n) < 0.8
    w = np.where(np.arange(n) % 3 == 0, 2.5, 1.0)
    frame = pd.DataFrame({"t": t, "e": e, "x": x, "w": w})
    weighted = cox(frame, "t", "e", ["x"], robust=True, weights_col="w")

    def score(beta):
        total = 0.0
        for i in np.flatnonzero(e):
            risk = t >= t[i]
            r = w[risk] * np.exp(beta * x[risk])
            total += w[i] * (x[i] - (r * x[risk]).sum() / r.sum())
        return total

    assert weighted.terms["coef"].iloc[0] == pytest.approx(brentq(score, -5, 5, xtol=1e-12), abs=1e-6)
    with pytest.raises(SurvivalInputError, match="weights need robust=True"):
        cox(frame, "t", "e", ["x"], weights_col="w")
    breslow = cox(frame, "t", "e", ["x"], ties="breslow", robust=True, weights_col="w")  # no ties: = Efron
    assert breslow.terms["coef"].iloc[0] == pytest.approx(weighted.terms["coef"].iloc[0], abs=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_native_loglog_ci_and_logrank_equal_lifelines(seed):
    """The workflow's own log(-log) median CI and log-rank agree with lifelines on random data with ties,
    except where lifelines' upper limit is the time S reaches 0 (R and nenbone: not reached)."""
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test, multivariate_logrank_test
    from lifelines.utils import median_survival_times

    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 120))
    t = np.round(rng.exponential(10, n), int(rng.integers(0, 2)))  # rounding makes ties
    e = rng.random(n) < rng.uniform(0.4, 1.0)
    g = rng.choice(["a", "b", "c"][: int(rng.integers(2, 4))], n)
    kmf = KaplanMeierFitter(alpha=0.05).fit(t, e)
    ref = median_survival_times(kmf.confidence_interval_).iloc[0].to_numpy(dtype=float)
    ours = [np.inf if x is None else x for x in loglog_median_ci(t, e)]
    table = km_table(t, e)
    s_zero = table.loc[table["S"] == 0.0, "time"]
    if len(s_zero) and ref[1] == s_zero.iloc[0]:
        ref[1] = np.inf  # lifelines' band is 0 where S = 0; R's (and ours) is undefined: not reached
    assert ours == pytest.approx(list(ref))
    res = logrank(t, e, g)
    if len(set(g)) == 2:
        a, b = sorted(set(g))
        lref = logrank_test(t[g == a], t[g == b], e[g == a], e[g == b])
    else:
        lref = multivariate_logrank_test(t, g, e)
    assert res.chi2 == pytest.approx(lref.test_statistic, rel=1e-9, abs=1e-12)
    assert res.p == pytest.approx(lref.p_value, rel=1e-9, abs=1e-15)


# ------------------------------------------------------------------ drawing a registry-scale curve


def test_step_vertices_keeps_small_tables_and_thins_large_ones_within_a_cell():
    from nenbone.analysis.survival import step_vertices

    small = km_table(T_HAND, E_HAND)
    assert step_vertices(small, 50) is small
    rng = np.random.default_rng(3)
    n = 200_000
    t_true, cens = rng.exponential(10, n), rng.exponential(25, n)
    table = km_table(np.round(np.minimum(t_true, cens), 4), t_true <= cens)
    m = 500
    thin = step_vertices(table, m)
    assert len(thin) < 4 * m < len(table)
    assert thin["time"].iloc[-1] == table["time"].iloc[-1] and thin["time"].iloc[0] == table["time"].iloc[0]
    # the thinned step function (steps-post) evaluated at every original time: within one cell of the truth
    idx = np.searchsorted(thin["time"].to_numpy(), table["time"].to_numpy(), side="right") - 1
    assert np.max(np.abs(thin["S"].to_numpy()[idx] - table["S"].to_numpy())) <= 1.0 / m + 1e-12
    # every censoring mark lies within one cell (time and S) of a kept mark
    kept = thin.loc[thin["censored"] > 0]
    marks = table.loc[table["censored"] > 0]
    j = np.clip(np.searchsorted(kept["time"].to_numpy(), marks["time"].to_numpy(), side="right") - 1, 0, None)
    assert np.max(marks["time"].to_numpy() - kept["time"].to_numpy()[j]) <= table["time"].max() / (m - 1) + 1e-9
