"""Missing data: Rubin's rules by hand, the imputer against a known-truth simulation, the logit fit against statsmodels."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as t_dist

from nenbone.analysis.missing_data import (
    MissingDataError,
    complete_case_summary,
    fit_multinomial_logit,
    impute_chained,
    missing_summary,
    nelson_aalen_at_own_time,
    pool_log_ratio,
    pool_rubin,
)

# ------------------------------------------------------------------------------- Rubin's rules by hand
# m = 5, Q = (1.0, 1.2, 0.8, 1.1, 0.9), U = (0.04, 0.05, 0.03, 0.04, 0.04):
#   Qbar = 1, Ubar = 0.2/5 = 0.04, B = (0 + .04 + .04 + .01 + .01)/4 = 0.025,
#   T = 0.04 + (6/5)(0.025) = 0.07, lambda = 0.03/0.07 = 3/7, riv = 0.03/0.04 = 3/4,
#   df_rubin = 4 / (3/7)^2 = 196/9; with df_com = 100:
#   df_obs = (101/103) 100 (4/7) = 40400/721, df = df_rubin df_obs / (df_rubin + df_obs).
Q = [1.0, 1.2, 0.8, 1.1, 0.9]
U = [0.04, 0.05, 0.03, 0.04, 0.04]
DF_RUBIN = Fraction(196, 9)
DF_OBS = Fraction(101, 103) * 100 * Fraction(4, 7)
DF_BR = DF_RUBIN * DF_OBS / (DF_RUBIN + DF_OBS)


def test_rubin_rules_hand_worked():
    res = pool_rubin(Q, U, df_complete=100)
    assert res["estimate"] == pytest.approx(1.0)
    assert res["within"] == pytest.approx(0.04)
    assert res["between"] == pytest.approx(0.025)
    assert res["total"] == pytest.approx(0.07)
    assert res["lambda"] == pytest.approx(3 / 7)
    assert res["riv"] == pytest.approx(0.75)
    assert res["df_rubin"] == pytest.approx(float(DF_RUBIN))
    assert res["df"] == pytest.approx(float(DF_BR))
    assert res["fmi"] == pytest.approx((0.75 + 2 / (float(DF_BR) + 3)) / 1.75)
    crit = t_dist.ppf(0.975, float(DF_BR))
    assert (res["lower"], res["upper"]) == pytest.approx((1 - crit * 0.07**0.5, 1 + crit * 0.07**0.5))
    assert res["p"] == pytest.approx(2 * t_dist.sf(1 / 0.07**0.5, float(DF_BR)))
    plain = pool_rubin(Q, U)
    assert plain["df"] == pytest.approx(float(DF_RUBIN))


def test_rubin_no_between_variance_and_log_scale():
    res = pool_rubin([0.5, 0.5, 0.5], [0.01, 0.01, 0.01])
    assert res["between"] == 0 and res["total"] == pytest.approx(0.01) and res["df"] == float("inf")
    hr = pool_log_ratio([np.log(2.0)] * 3, [0.1] * 3)
    assert hr["ratio"] == pytest.approx(2.0)
    assert hr["ratio_lower"] == pytest.approx(2.0 * np.exp(-1.959963984540054 * 0.1))
    with pytest.raises(MissingDataError):
        pool_rubin([1.0], [0.1])


# ------------------------------------------------------------------------------- helpers


def test_missing_summary_and_nelson_aalen_by_hand():
    frame = pd.DataFrame({"grade": [1, None, 2, None], "age": [50, 60, 70, 80]})
    s = missing_summary(frame, ["grade", "age"]).set_index("variable")
    assert s.loc["grade", "n_missing"] == 2 and s.loc["grade", "percent_missing"] == 50.0
    assert s.loc["age", "n_missing"] == 0
    # rows: complete, grade missing, both missing, age missing
    cc = complete_case_summary(pd.DataFrame({"grade": [1, None, None, 2], "age": [50, 60, None, None]}), ["grade", "age"])
    assert cc == {"n": 4, "n_complete": 1, "n_incomplete": 3, "missing_by_variable": {"grade": 2, "age": 2},
                  "missing_only_this": {"grade": 1, "age": 1}, "n_missing_several": 1}
    # times 1, 2, 2, 3 with events 1, 1, 0, 1: H = 1/4, 1/4 + 1/3, same, + 1/1
    h = nelson_aalen_at_own_time([1, 2, 2, 3], [1, 1, 0, 1])
    assert h == pytest.approx([0.25, 0.25 + 1 / 3, 0.25 + 1 / 3, 0.25 + 1 / 3 + 1])


def test_multinomial_logit_matches_statsmodels():
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    n = 300
    X = np.column_stack([np.ones(n), rng.standard_normal(n), rng.random(n) < 0.4]).astype(float)
    eta = np.column_stack([np.zeros(n), 0.3 + X[:, 1], -0.5 - 0.7 * X[:, 1] + X[:, 2]])
    p = np.exp(eta) / np.exp(eta).sum(1, keepdims=True)
    y = (rng.random(n)[:, None] > p.cumsum(1)).sum(1)
    B, cov = fit_multinomial_logit(X, y, 3, ridge=0.0)
    ref = sm.MNLogit(y, X).fit(disp=0, method="newton")
    assert B == pytest.approx(ref.params, rel=1e-6)
    assert np.sqrt(np.diag(cov)) == pytest.approx(ref.bse.T.ravel() if hasattr(ref.bse, "T") else ref.bse, rel=1e-5)
    # two levels: ordinary logistic regression
    yb = (y == 1).astype(int)
    B2, cov2 = fit_multinomial_logit(X, yb, 2, ridge=0.0)
    ref2 = sm.Logit(yb, X).fit(disp=0)
    assert B2[:, 0] == pytest.approx(ref2.params, rel=1e-6)
    assert np.sqrt(np.diag(cov2)) == pytest.approx(ref2.bse, rel=1e-5)


# ------------------------------------------------------------------------------- the imputer

TRUTH = np.array([1.0, 2.0, -1.0, 0.5, -0.5])  # intercept, x1, x2, x3 = b, x3 = c


def simulate(n=600, seed=2026):
    """y = 1 + 2 x1 - x2 + 0.5 [x3 = b] - 0.5 [x3 = c] + N(0, 1); x2 and x3 depend on x1; 25% MCAR in each."""
    rng = np.random.default_rng(seed)
    x1 = rng.standard_normal(n)
    x2 = (rng.random(n) < 1 / (1 + np.exp(-0.8 * x1))).astype(float)
    x3 = np.where(rng.random(n) < 1 / (1 + np.exp(-x1)), "b", "a")
    x3 = np.where(rng.random(n) < 0.3, "c", x3)
    y = TRUTH @ np.vstack([np.ones(n), x1, x2, x3 == "b", x3 == "c"]) + rng.standard_normal(n)
    full = pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "y": y})
    obs = full.copy()
    for col in ("x1", "x2", "x3"):
        obs.loc[rng.random(n) < 0.25, col] = np.nan
    return full, obs


def ols(d):
    X = np.column_stack([np.ones(len(d)), d["x1"], d["x2"], d["x3"] == "b", d["x3"] == "c"]).astype(float)
    b = np.linalg.solve(X.T @ X, X.T @ d["y"].to_numpy())
    r = d["y"].to_numpy() - X @ b
    return b, np.diag(r @ r / (len(d) - 5) * np.linalg.inv(X.T @ X))


KINDS = {"x1": "continuous", "x2": "binary", "x3": "categorical"}


@pytest.fixture(scope="module")
def imputed():
    full, obs = simulate()
    return full, obs, impute_chained(obs, KINDS, m=20, seed=7, iterations=5, predictors=["y"])


def test_imputer_recovers_known_coefficients(imputed):
    full, obs, imps = imputed
    fits = [ols(d) for d in imps]
    full_b, _ = ols(full)
    _, cc_v = ols(obs.dropna())
    for k, truth in enumerate(TRUTH):
        pooled = pool_rubin([f[0][k] for f in fits], [f[1][k] for f in fits], df_complete=len(obs) - 5)
        assert abs(pooled["estimate"] - truth) < 3 * pooled["se"], (k, pooled["estimate"], truth)
        # what imputation adds to the sampling error of the full data is small
        assert abs(pooled["estimate"] - full_b[k]) < 0.1, (k, pooled["estimate"], full_b[k])
    # MI uses the incomplete rows: the slope of x1 is estimated more precisely than from complete cases
    pooled_x1 = pool_rubin([f[0][1] for f in fits], [f[1][1] for f in fits], df_complete=len(obs) - 5)
    assert pooled_x1["se"] < np.sqrt(cc_v[1])


def test_imputer_is_unbiased_with_nominal_coverage_over_replicates():
    """Known truth, 16 simulated data sets (n = 600, 25% MCAR in each of x1, x2, x3), m = 5 each."""
    estimates, covered = [], []
    for rep in range(16):
        _, obs = simulate(seed=100 + rep)
        fits = [ols(d) for d in impute_chained(obs, KINDS, m=5, seed=rep, iterations=5, predictors=["y"])]
        pooled = [pool_rubin([f[0][k] for f in fits], [f[1][k] for f in fits], df_complete=len(obs) - 5)
                  for k in range(len(TRUTH))]
        estimates.append([p["estimate"] for p in pooled])
        covered.append([p["lower"] < t < p["upper"] for p, t in zip(pooled, TRUTH)])
    bias = np.mean(estimates, axis=0) - TRUTH
    mc_se = np.std(estimates, axis=0, ddof=1) / np.sqrt(len(estimates))
    assert (np.abs(bias) < 3 * mc_se + 0.02).all(), (bias, mc_se)
    assert np.mean(covered) >= 0.85  # nominal 0.95 over 80 intervals


def test_imputed_values_keep_the_associations(imputed):
    full, obs, imps = imputed
    miss = obs["x1"].isna().to_numpy()
    true_r = np.corrcoef(full["x1"][miss], full["y"][miss])[0, 1]
    imp_r = np.mean([np.corrcoef(d["x1"][miss], d["y"][miss])[0, 1] for d in imps])
    assert abs(imp_r - true_r) < 0.1  # mean imputation would give no association at all
    # PMM draws only observed values; categories only observed categories; observed cells untouched
    observed_x1 = set(obs["x1"].dropna())
    for d in imps:
        assert set(d["x1"][miss]) <= observed_x1
        assert set(d["x3"]) <= {"a", "b", "c"} and set(d["x2"]) <= {0.0, 1.0}
        assert d.notna().all().all()
        pd.testing.assert_frame_equal(d[obs.notna().all(axis=1)], obs[obs.notna().all(axis=1)])
    # the share of x2 = 1 among imputed rows is close to the truth in those rows
    m2 = obs["x2"].isna().to_numpy()
    assert abs(np.mean([d["x2"][m2].mean() for d in imps]) - full["x2"][m2].mean()) < 0.08


def test_imputer_is_deterministic_given_the_seed():
    _, obs = simulate(n=120, seed=5)
    a = impute_chained(obs, KINDS, m=3, seed=11, iterations=2, predictors=["y"])
    b = impute_chained(obs, KINDS, m=3, seed=11, iterations=2, predictors=["y"])
    c = impute_chained(obs, KINDS, m=3, seed=12, iterations=2, predictors=["y"])
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x, y)
    assert not a[0].equals(c[0])
    assert not a[0].equals(a[1])


def test_imputer_refuses_bad_settings():
    _, obs = simulate(n=50, seed=1)
    obs.loc[0, "y"] = np.nan
    with pytest.raises(MissingDataError, match="predictor 'y' must be complete; missing at rows \\[0\\]") as err:
        impute_chained(obs, {**KINDS, "zz": "continuous"}, m=0, seed=1, predictors=["y"])
    assert "'zz' is not in the data" in str(err.value) and "m must be an integer >= 1" in str(err.value)


# ------------------------------------------------------------------------------- missing values by analysis


def test_missing_by_analysis_counts_each_table_row_and_survival_plan_by_hand():
    """Eight patients, five with BMs; counts below are by hand from the frame."""
    from nenbone.analysis.missing_data import missing_by_analysis

    na = pd.NA
    frame = pd.DataFrame({
        "patient_id": [f"P{i}" for i in range(8)],
        "has_bm": pd.array([True, True, True, True, True, False, False, False], dtype="boolean"),
        "age": [50.0, np.nan, 61.0, 70.0, 45.0, 52.0, np.nan, np.nan],          # missing: 1 with, 2 without BMs
        "grade": pd.array([True, False, na, True, True, False, True, True], dtype="boolean"),  # 1 with BMs
        "functional": pd.array([True, False, True, False, True, False, True, False], dtype="boolean"),
        "ever": pd.array([True, True, False, True, False, na, na, na], dtype="boolean"),
        "pain": pd.array([True, na, na, False, na, na, na, na], dtype="boolean"),  # of the ever: 1 missing (P1)
        "widespread": pd.array([na, True, False, True, na, na, na, na], dtype="boolean"),  # of BMs: P0, P4
        "os": [10.0, 20.0, np.nan, 5.0, 7.0, np.nan, np.nan, np.nan],
        "dead": pd.array([True, False, True, na, True, na, na, na], dtype="boolean"),
        "onset_os": [8.0, np.nan, np.nan, 4.0, np.nan, np.nan, np.nan, np.nan],
    })
    tables = {
        "baseline": {"group": "has_bm", "rows": [
            {"variable": "age", "label": "Age, years", "kind": "continuous"},
            {"variable": "grade", "label": "Grade 1-2", "kind": "binary"},
            {"variable": "functional", "label": "Functional tumour", "kind": "binary"}]},
        "bm": {"where": {"has_bm": True}, "rows": [
            {"variable": "widespread", "label": "Widespread", "kind": "binary"},
            {"variable": "pain", "label": "Pain", "kind": "binary", "denominator": "ever"}]},
    }
    survival = [
        {"name": "os", "label": "Overall survival", "duration": "os", "event": "dead", "where": {"has_bm": True}},
        {"name": "onset", "label": "Survival from onset", "duration": "onset_os", "event": "dead",
         "where": {"has_bm": True}},
    ]
    out = missing_by_analysis(frame, tables, survival)
    assert out["variables"] == [
        {"table": "baseline", "variable": "age", "label": "Age, years", "n": 3, "denominator_n": 8,
         "pct": 37.5, "n_smallest_group": 1},
        {"table": "baseline", "variable": "grade", "label": "Grade 1-2", "n": 1, "denominator_n": 8,
         "pct": 12.5, "n_smallest_group": 1},
        {"table": "bm", "variable": "widespread", "label": "Widespread", "n": 2, "denominator_n": 5,
         "pct": 40.0, "n_smallest_group": 2},
        {"table": "bm", "variable": "pain", "label": "Pain", "n": 1, "denominator_n": 3,  # ever: P0, P1, P3
         "pct": 100 / 3, "n_smallest_group": 1},
    ]
    # os: P2 (no time) and P3 (no status) left out; onset: only P0 and P3 have a time, P3 no status
    assert out["survival"] == [{"plan": "os", "label": "Overall survival", "n": 3, "n_selected": 5},
                               {"plan": "onset", "label": "Survival from onset", "n": 1, "n_selected": 5}]
    with pytest.raises(MissingDataError, match="column 'stage' is not in the data"):
        missing_by_analysis(frame, {"t": {"rows": [{"variable": "stage", "label": "Stage", "kind": "binary"}]}}, [])
