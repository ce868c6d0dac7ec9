"""Propensity-score matcher: against a brute-force re-implementation, known truths, edge cases, determinism."""

from __future__ import annotations

import itertools
import statistics

import numpy as np
import pandas as pd
import pytest

from nenbone.analysis.matching import (
    REASON_CALIPER,
    REASON_EXHAUSTED,
    MatchingError,
    balance_table,
    fit_propensity,
    iptw_weights,
    match,
    match_on_scores,
    smd_table,
)
from nenbone.errors import ConfigError, NenboneError


# ----------------------------------------------------------------------------- helpers


def brute_force(logit_t, logit_c, ratio, caliper_sd, order):
    """Plain re-implementation: rounds over treated in order, nearest unused control within the caliper."""
    sd = statistics.stdev(list(logit_t) + list(logit_c))
    cal = None if caliper_sd is None else caliper_sd * sd
    idx = list(range(len(logit_t)))
    if order == "descending_ps":
        idx.sort(key=lambda i: -logit_t[i])
    elif order == "ascending_ps":
        idx.sort(key=lambda i: logit_t[i])
    used, picks, stopped = set(), {i: [] for i in idx}, set()
    for _ in range(ratio):
        for i in idx:
            if i in stopped:
                continue
            best, best_d = None, None
            for j, lc in enumerate(logit_c):
                if j in used:
                    continue
                d = abs(lc - logit_t[i])
                if cal is not None and d > cal:
                    continue
                if best is None or d < best_d:
                    best, best_d = j, d
            if best is None:
                stopped.add(i)
                continue
            used.add(best)
            picks[i].append(best)
    return picks


def scores_frame(logit_t, logit_c):
    n_t = len(logit_t)
    return pd.DataFrame({
        "patient_id": [f"T{i:02d}" for i in range(n_t)] + [f"C{j:03d}" for j in range(len(logit_c))],
        "treated": [True] * n_t + [False] * len(logit_c),
        "logit": np.concatenate([logit_t, logit_c]),
    })


def picks_of(result, n_t):
    m = result.matched
    out = {}
    for i in range(n_t):
        rows = m[m["match_id"] == m.loc[m["patient_id"] == f"T{i:02d}", "match_id"].squeeze()] if (
            m["patient_id"] == f"T{i:02d}").any() else m.iloc[0:0]
        out[i] = sorted(int(p[1:]) for p in rows.loc[~rows["treated"], "patient_id"])
    return out


def simulated(n_t, n_c, shift, seed):
    """Treated and controls with a known covariate shift (continuous, binary, three-level)."""
    rng = np.random.default_rng(seed)
    n = n_t + n_c
    treated = np.r_[np.ones(n_t, bool), np.zeros(n_c, bool)]
    x = rng.normal(0, 1, n) + shift * treated
    z = (rng.random(n) < np.where(treated, 0.6, 0.4)).astype(int)
    cat = np.where(rng.random(n) < np.where(treated, 0.5, 0.3), "b", np.where(rng.random(n) < 0.5, "a", "c"))
    return pd.DataFrame({
        "patient_id": [f"P{i:04d}" for i in range(n)],
        "group": np.where(treated, "LB", "L"),
        "x": x, "z": z, "cat": cat,
    })


SETTINGS = {"treated_group": "LB", "control_group": "L", "covariates": ["x", "z", "cat"], "ratio": 1,
            "caliper_sd_logit": 0.2, "treated_order": "descending_ps", "replace": False, "seed": 7}


# ------------------------------------------------------------------- brute force


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_brute_force_on_small_data(seed):
    rng = np.random.default_rng(seed)
    logit_t = rng.normal(0.5, 1, 8)
    logit_c = rng.normal(0, 1, 30)
    for ratio, cal, order in itertools.product((1, 2, 3), (None, 0.2, 0.05), ("descending_ps", "ascending_ps", "data")):
        res = match_on_scores(scores_frame(logit_t, logit_c), ratio=ratio, caliper_sd_logit=cal,
                              treated_order=order, seed=11)
        expected = brute_force(logit_t, logit_c, ratio, cal, order)
        got = picks_of(res, len(logit_t))
        assert got == {i: sorted(v) for i, v in expected.items()}, (ratio, cal, order)
        assert res.per_treated.set_index("patient_id")["n_controls"].to_dict() == {
            f"T{i:02d}": len(v) for i, v in expected.items()}


def test_propensity_model_agrees_with_scikit_learn_and_brute_force():
    from sklearn.linear_model import LogisticRegression

    df = simulated(30, 150, shift=0.8, seed=5)
    fit = fit_propensity(df, ["x", "z", "cat"], df["group"] == "LB")
    X = np.column_stack([df["x"], df["z"], df["cat"] == "b", df["cat"] == "c"]).astype(float)
    sk = LogisticRegression(C=np.inf, tol=1e-12, max_iter=100_000).fit(X, df["group"] == "LB")
    sk_logit = sk.decision_function(X)
    assert np.allclose(fit.scores["logit"], sk_logit, atol=1e-5)
    assert np.allclose(fit.scores["ps"], 1 / (1 + np.exp(-sk_logit)), atol=1e-6)

    res = match(df, {**SETTINGS, "ratio": 2})
    t = (df["group"] == "LB").to_numpy()
    expected = brute_force(sk_logit[t], sk_logit[~t], 2, 0.2, "descending_ps")
    ids_t, ids_c = df.loc[t, "patient_id"].tolist(), df.loc[~t, "patient_id"].tolist()
    want = {(ids_t[i], ids_c[j]) for i, js in expected.items() for j in js}
    m = res.matched
    lead = m[m["treated"]].set_index("match_id")["patient_id"]
    got = {(lead[r.match_id], r.patient_id) for r in m[~m["treated"]].itertuples()}
    assert got == want


# -------------------------------------------------------------------- known truth


def test_balanced_after_matching_known_truth():
    """Correct model, ample overlap, large samples: 1:1 caliper matching removes a real imbalance."""
    df = simulated(800, 8000, shift=0.6, seed=3)
    res = match(df, SETTINGS)
    assert res.n_treated_matched >= 790
    bal = balance_table(df, res)
    assert (bal.loc[bal["variable"] == "x", "smd_before"].abs() > 0.5).all()  # the shift is real
    assert (bal["smd_after"].abs() < 0.1).all(), bal


def test_exact_twins_are_matched_and_balanced():
    """Each treated patient has three controls with its covariates: 1:3 matching takes exactly those."""
    base = simulated(15, 0, shift=0.0, seed=8)
    twins = base.loc[base.index.repeat(3)].assign(group="L")
    twins["patient_id"] = [f"W{i:03d}" for i in range(len(twins))]
    far = simulated(0, 120, shift=0.0, seed=9).assign(x=lambda d: d["x"] - 1.5)
    far["patient_id"] = [f"F{i:03d}" for i in range(len(far))]
    df = pd.concat([base, twins, far], ignore_index=True)
    res = match(df, {**SETTINGS, "ratio": 3})
    assert set(res.matched.loc[~res.matched["treated"], "patient_id"]) == set(twins["patient_id"])
    assert (balance_table(df, res)["smd_after"].abs() < 1e-9).all()


def test_smd_formulas_by_hand():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 2.0, 4.0, 6.0], "b": [1, 1, 0, 1, 0, 0],
                       "c": ["u", "v", "v", "u", "u", "u"]})
    t = pd.Series([True, True, True, False, False, False])
    out = smd_table(df, ["x", "b", "c"], t).set_index(["variable", "level"])
    # x: means 2 and 4, variances 1 and 4 -> (2-4)/sqrt(2.5)
    assert out.loc[("x", ""), "smd"] == pytest.approx(-2 / np.sqrt(2.5))
    assert out.loc[("x", ""), "kind"] == "continuous"
    # b: 2/3 vs 1/3 -> (1/3)/sqrt((2/9+2/9)/2)
    assert out.loc[("b", "1"), "smd"] == pytest.approx((1 / 3) / np.sqrt(2 / 9))
    # c = v: 2/3 vs 0
    assert out.loc[("c", "v"), "smd"] == pytest.approx((2 / 3) / np.sqrt((2 / 9) / 2))
    assert out.loc[("c", "u"), "smd"] == pytest.approx(-(2 / 3) / np.sqrt((2 / 9) / 2))
    # weights 1, 2, 1 on controls 2, 4, 6: mean 4; reliability-weights variance (cobalt's convention)
    # sum w (x - m)^2 / (sum w - sum w^2 / sum w) = (4 + 0 + 4) / (4 - 6/4) = 3.2
    w = pd.Series([1, 1, 1, 1, 2, 1], dtype=float)
    wx = smd_table(df, ["x"], t, w).iloc[0]
    assert wx["control"] == pytest.approx(4.0)
    assert wx["smd"] == pytest.approx((2 - 4) / np.sqrt((1 + 3.2) / 2))


def test_att_weights_balance_known_truth():
    df = simulated(300, 1500, shift=0.7, seed=9)
    fit = fit_propensity(df, ["x", "z", "cat"], df["group"] == "LB")
    w = iptw_weights(fit.scores["ps"], fit.scores["treated"], "ATT")
    ps = fit.scores["ps"].to_numpy()
    t = fit.scores["treated"].to_numpy()
    assert np.allclose(w[t], 1.0)
    assert np.allclose(w[~t], ps[~t] / (1 - ps[~t]))
    # the model is correct, so ATT weighting removes a large imbalance (consistency; large samples)
    before = smd_table(df, ["x"], df["group"] == "LB")
    assert abs(before["smd"].iloc[0]) > 0.6
    bal = smd_table(df, ["x", "z", "cat"], df["group"] == "LB", w)
    assert (bal["smd"].abs() < 0.1).all(), bal
    ate = iptw_weights(fit.scores["ps"], fit.scores["treated"], "ATE")
    assert np.allclose(ate[t], 1 / ps[t]) and np.allclose(ate[~t], 1 / (1 - ps[~t]))
    with pytest.raises(ConfigError):
        iptw_weights(fit.scores["ps"], fit.scores["treated"], "ATC")


# ------------------------------------------------------------------- edge cases


def test_too_few_controls_matches_what_there_is():
    res = match_on_scores(scores_frame(np.array([3.0, 2.0, 1.0, 0.0, -1.0]), np.linspace(-1, 3, 7)),
                          ratio=2, caliper_sd_logit=None, treated_order="descending_ps", seed=1)
    assert res.n_controls_matched == 7
    per = res.per_treated
    # round 1: each of the 5 takes one (5 used); round 2: the first two in order take the last two
    assert per["n_controls"].tolist() == [2, 2, 1, 1, 1]
    assert per["reason"].tolist() == ["", "", REASON_EXHAUSTED, REASON_EXHAUSTED, REASON_EXHAUSTED]


def test_ratio_larger_than_pool():
    res = match_on_scores(scores_frame(np.array([0.0, 0.1, 0.2]), np.array([0.05, 0.15, -0.3, 1.0, 2.0])),
                          ratio=10, caliper_sd_logit=None, treated_order="data", seed=1)
    assert res.n_controls_matched == 5
    assert res.per_treated["n_controls"].sum() == 5
    assert set(res.per_treated["reason"]) == {REASON_EXHAUSTED}


def test_caliper_that_nobody_meets():
    res = match_on_scores(scores_frame(np.array([10.0, 10.5, 11.0]), np.array([0.0, 0.1, -0.1, 0.2])),
                          ratio=2, caliper_sd_logit=0.2, treated_order="descending_ps", seed=1)
    assert res.matched.empty
    assert res.per_treated["n_controls"].tolist() == [0, 0, 0]
    assert set(res.per_treated["reason"]) == {REASON_CALIPER}
    assert res.caliper == pytest.approx(0.2 * statistics.stdev([10, 10.5, 11, 0, 0.1, -0.1, 0.2]))


def test_identical_scores_ties_broken_by_seed():
    sc = scores_frame(np.zeros(3), np.zeros(9))
    res = match_on_scores(sc, ratio=2, caliper_sd_logit=0.2, treated_order="descending_ps", seed=42)
    assert res.sd_logit == 0 and res.caliper == 0  # distance 0 is within a zero caliper
    assert res.per_treated["n_controls"].tolist() == [2, 2, 2]
    # documented rule: keys = default_rng(seed).random(n_controls), then .random(n_treated); smaller key wins
    rng = np.random.default_rng(42)
    ckey, tkey = rng.random(9), rng.random(3)
    first_treated = int(np.argmin(tkey))
    assert res.per_treated.iloc[0]["patient_id"] == f"T{first_treated:02d}"
    m = res.matched
    first_pick = m[(m["match_id"] == 1) & ~m["treated"]]["patient_id"].iloc[0]
    assert first_pick == f"C{int(np.argmin(ckey)):03d}"
    again = match_on_scores(sc, ratio=2, caliper_sd_logit=0.2, treated_order="descending_ps", seed=42)
    pd.testing.assert_frame_equal(res.matched, again.matched)
    other = match_on_scores(sc, ratio=2, caliper_sd_logit=0.2, treated_order="descending_ps", seed=43)
    assert not res.matched.equals(other.matched)


def test_perfect_separation_is_a_clear_error():
    df = pd.DataFrame({"patient_id": [f"P{i}" for i in range(12)], "group": ["LB"] * 4 + ["L"] * 8,
                       "x": np.r_[np.linspace(5, 6, 4), np.linspace(0, 1, 8)],
                       "z": [1, 1, 1, 1] + [0, 1, 0, 1, 0, 1, 0, 0]})
    with pytest.raises(MatchingError, match="separation"):
        match(df, {**SETTINGS, "covariates": ["x"]})
    with pytest.raises(MatchingError, match="'z' = 0 occurs only in the control group"):
        match(df, {**SETTINGS, "covariates": ["z"]})


def test_degenerate_inputs_are_clear_errors():
    df = simulated(5, 20, 0.5, seed=1)
    with pytest.raises(MatchingError, match="both groups"):
        match(df[df["group"] == "LB"], SETTINGS)
    with pytest.raises(MatchingError, match="constant"):
        match(df.assign(k=1.0), {**SETTINGS, "covariates": ["x", "k"]})
    with pytest.raises(ConfigError, match="ratio"):
        match(df, {**SETTINGS, "ratio": 0})
    with pytest.raises(ConfigError, match="treated_order"):
        match(df, {**SETTINGS, "treated_order": "largest"})
    with pytest.raises(ConfigError, match="not in the derived data"):
        match(df, {**SETTINGS, "covariates": ["x", "age"]})
    assert issubclass(MatchingError, NenboneError)


def test_missing_covariates_are_reported_not_dropped_silently():
    df = simulated(10, 60, 0.5, seed=2)
    df.loc[[0, 15], "x"] = np.nan
    res = match(df, SETTINGS)
    assert res.excluded["patient_id"].tolist() == ["P0000", "P0015"]
    assert res.excluded["reason"].str.contains("missing covariate: x").all()
    assert len(res.scores) == len(df) - 2


def test_match_attrition_names_each_missing_covariate_by_its_label():
    from nenbone.analysis.matching import match_attrition

    df = simulated(10, 60, 0.5, seed=2).astype({"z": "Int64"})
    df.loc[[0, 15], "x"] = np.nan
    df.loc[[15, 16, 17], "z"] = pd.NA  # patient 15 lacks both; L: 15, 16, 17 (3 patients, 4 missing cells)
    labels = {"x": "Age at resection", "z": "Low or intermediate grade (G1/G2)", "cat": "Primary tumour group"}
    res = match(df, SETTINGS)
    lb, l_ = match_attrition(df, res, SETTINGS, labels)["groups"]
    assert lb["excluded_missing"] == [{"variable": "x", "label": "Age at resection", "n": 1}]
    assert l_["excluded_missing"] == [{"variable": "x", "label": "Age at resection", "n": 1},
                                      {"variable": "z", "label": "Low or intermediate grade (G1/G2)", "n": 3}]
    assert (lb["n"], lb["n_in_model"], l_["n"], l_["n_in_model"], l_["n_missing_any"]) == (10, 9, 60, 57, 3)
    assert l_["n_matched"] + l_["n_unmatched"] == 57
    with pytest.raises(ConfigError, match="no label for the covariate\\(s\\) cat"):
        match_attrition(df, res, SETTINGS, {"x": "Age", "z": "Grade"})


# ------------------------------------------------------------------- determinism


def test_deterministic_with_seed_and_random_order():
    df = simulated(20, 200, 0.5, seed=4)
    s = {**SETTINGS, "ratio": 3, "treated_order": "random"}
    a, b = match(df, s), match(df, s)
    pd.testing.assert_frame_equal(a.matched, b.matched)
    pd.testing.assert_frame_equal(a.per_treated, b.per_treated)
    c = match(df, {**s, "seed": 5})
    assert not a.per_treated["patient_id"].equals(c.per_treated["patient_id"])  # another random order


def test_replacement_reuses_controls():
    res = match_on_scores(scores_frame(np.array([0.0, 0.01]), np.array([0.005, 5.0, 6.0])),
                          ratio=1, caliper_sd_logit=0.2, treated_order="data", seed=1, replace=True)
    assert res.matched.loc[~res.matched["treated"], "patient_id"].tolist() == ["C000", "C000"]


# ------------------------------------------------------------------- missing covariates: complete cases and MI


def _with_survival(frame, seed):
    rng = np.random.default_rng(seed)
    out = frame.copy()
    out["os_months"] = rng.exponential(np.where(out["group"] == "LB", 40.0, 70.0))
    out["os_event"] = rng.random(len(out)) < 0.8
    return out


COX = {"duration": "os_months", "event": "os_event", "exposure": "group", "reference": "L", "cluster": "match_id"}


def test_ps_missing_counts_by_group_and_covariate_by_hand():
    from nenbone.analysis.effects import ps_missing

    frame = simulated(10, 40, 0.5, 3).astype({"z": "Int64"})
    frame.loc[[0, 12, 13], "z"] = pd.NA  # one LB, two L
    frame.loc[[13, 14], "x"] = np.nan    # patient 13 lacks two covariates
    out = ps_missing(frame, {**SETTINGS, "covariates": ["x", "z", "cat"]}, {"z": "Z flag"})
    assert (out["n_pool"], out["n_excluded"], out["n_used"]) == (50, 4, 46)
    assert (out["n_excluded_lb"], out["n_excluded_l"], out["n_l_pool"], out["n_l_used"]) == (1, 3, 40, 37)
    assert out["by_variable"] == [{"label": "x", "n": 2, "denominator_n": 50}, {"label": "Z flag", "n": 3, "denominator_n": 50}]


def test_imputation_with_nothing_missing_pools_to_the_complete_case_estimate():
    """Known truth: with complete covariates every completed data set is the data, the m estimates are
    equal, the between-imputation variance is 0 and Rubin's rules return the single matched Cox estimate."""
    from nenbone.analysis.effects import cox_estimate, imputed_matching, matched_cohort

    frame = _with_survival(simulated(15, 60, 0.4, 5), 6)
    settings = {**SETTINGS, "ratio": 2}
    mi = imputed_matching(frame, settings, COX, {"m": 20, "seed": 1, "iterations": 2}, 0.95)
    single, _ = cox_estimate(matched_cohort(frame, match(frame, settings).matched), COX, [], "efron", 0.95, "match_id")
    assert mi["m"] == 20 and mi["n"] == 75
    assert mi["hr"] == pytest.approx(single["hr"], rel=1e-9)
    assert (mi["lower"], mi["upper"]) == (pytest.approx(single["lower"], rel=1e-6), pytest.approx(single["upper"], rel=1e-6))


def test_imputation_is_seeded_and_fills_what_complete_cases_drop():
    from nenbone.analysis.effects import imputed_matching

    frame = _with_survival(simulated(15, 60, 0.4, 5), 6).astype({"z": "Int64"})
    frame.loc[frame.index[20:35], "z"] = pd.NA
    settings = {**SETTINGS, "ratio": 2}
    a = imputed_matching(frame, settings, COX, {"m": 20, "seed": 11, "iterations": 2}, 0.95)
    b = imputed_matching(frame, settings, COX, {"m": 20, "seed": 11, "iterations": 2}, 0.95)
    c = imputed_matching(frame, settings, COX, {"m": 20, "seed": 12, "iterations": 2}, 0.95)
    assert a == b and a["hr"] != c["hr"]  # reruns identical; another seed, other draws
    assert a["n"] == 75 and a["lower"] < a["hr"] < a["upper"]


# ------------------------------------------------------------- caliper SD: all units (MatchIt) or Austin's pooled


def test_pooled_sd_caliper_by_hand_gives_another_matched_set():
    """Treated logits 2.0, 2.2, 2.4; controls 0.0, 0.2, 0.4, 1.6; caliper 1.2 SD, 1:1, descending order.

    By hand: var_t = (0.2^2 + 0 + 0.2^2) / 2 = 0.04; control mean 0.55, var_c = (0.55^2 + 0.35^2 + 0.15^2
    + 1.05^2) / 3 = 1.55 / 3; pooled SD = sqrt((0.04 + 1.55/3) / 2) = sqrt(0.278333...) = 0.527573.
    All units: mean 8.8/7, sum of squares 6.297143, SD = sqrt(6.297143 / 6) = 1.024463.
    Caliper 1.2 x SD: 1.229356 (all units) and 0.633087 (pooled).
    All units: 2.4 takes 1.6 (0.8 <= 1.229); 2.2 and 2.0 find only 0.4 and below (>= 1.6 away): one pair (2.4, 1.6).
    Pooled: 2.4 -> 1.6 is 0.8 > 0.633: none; 2.2 -> 1.6 is 0.6: matched; 2.0 -> 0.4 is 1.6: none: pair (2.2, 1.6).
    """
    sc = scores_frame(np.array([2.0, 2.2, 2.4]), np.array([0.0, 0.2, 0.4, 1.6]))
    common = dict(ratio=1, caliper_sd_logit=1.2, treated_order="descending_ps", seed=3)
    default = match_on_scores(sc, **common)
    all_units = match_on_scores(sc, caliper_sd_convention="all_units", **common)
    pooled = match_on_scores(sc, caliper_sd_convention="pooled_within", **common)
    pooled_hand = ((0.04 + 1.55 / 3) / 2) ** 0.5
    assert pooled_hand == pytest.approx(0.527573, abs=1e-6)
    assert all_units.sd_logit == pytest.approx((6.2971428571428571 / 6) ** 0.5, rel=1e-12)
    assert all_units.sd_logit == pytest.approx(1.024463, abs=1e-6)
    assert pooled.sd_logit == pytest.approx(pooled_hand, rel=1e-12)
    assert all_units.caliper == pytest.approx(1.2 * 1.024463, abs=1e-5)
    assert pooled.caliper == pytest.approx(1.2 * pooled_hand, rel=1e-12)
    assert default.caliper == all_units.caliper and default.matched.equals(all_units.matched)

    def pairs(res):
        m = res.matched
        return sorted(zip(m.loc[m["treated"], "logit"], m.loc[~m["treated"], "logit"], strict=True))

    assert pairs(all_units) == [(2.4, 1.6)]
    assert pairs(pooled) == [(2.2, 1.6)]
    assert pooled.settings["caliper_sd_convention"] == "pooled_within"


def test_caliper_sd_reaches_the_matcher_from_the_settings_and_is_reported():
    """match() passes matching.caliper_sd_convention on; the summary names it; an unknown convention is refused."""
    from nenbone.analysis.matching import logit_sd, matching_summary
    from nenbone.analysis.ps_reporting import caliper_in_logit_units

    rng = np.random.default_rng(5)
    n = 60
    frame = pd.DataFrame({"patient_id": [f"p{i}" for i in range(n)], "group": np.where(np.arange(n) < 15, "T", "C"),
                          "age": rng.normal(60, 10, n) + np.where(np.arange(n) < 15, 8.0, 0.0)})
    settings = {"treated_group": "T", "control_group": "C", "covariates": ["age"], "ratio": 2,
                "caliper_sd_logit": 0.2, "treated_order": "descending_ps", "replace": False, "seed": 1}
    res = match(frame, {**settings, "caliper_sd_convention": "pooled_within"})
    logit, treated = res.scores["logit"].to_numpy(), res.scores["treated"].to_numpy()
    t, c = logit[treated], logit[~treated]
    assert res.sd_logit == pytest.approx(((statistics.variance(t) + statistics.variance(c)) / 2) ** 0.5, rel=1e-12)
    assert res.caliper == pytest.approx(0.2 * res.sd_logit, rel=1e-12)
    summary = matching_summary(res, balance_table(frame, res, ["age"]))
    assert summary["caliper_sd_convention"] == "pooled_within"
    assert summary["caliper_logit"] == pytest.approx(res.caliper)
    # the reporting helper uses the same definition
    assert caliper_in_logit_units(logit, treated, 0.2, sd="pooled_within")["caliper_logit"] == pytest.approx(res.caliper)
    default = match(frame, settings)
    assert default.sd_logit == pytest.approx(statistics.stdev(logit), rel=1e-12)
    default_summary = matching_summary(default, balance_table(frame, default, ["age"]))
    assert default_summary["caliper_sd_convention"] == "all_units"
    assert logit_sd(logit, treated, "all_units") == default.sd_logit
    with pytest.raises(ConfigError, match="caliper_sd_convention must be one of all_units, pooled_within"):
        match(frame, {**settings, "caliper_sd_convention": "pooled"})


def test_pooled_sd_of_a_group_of_one_is_refused_not_guessed():
    from nenbone.analysis.matching import logit_sd

    assert logit_sd(np.array([1.0, 2.0, 4.0]), np.array([True, False, False]), "all_units") == pytest.approx(
        statistics.stdev([1.0, 2.0, 4.0]))
    with pytest.raises(MatchingError, match="1 treated and 2 controls"):
        match_on_scores(scores_frame(np.array([1.0]), np.array([2.0, 4.0])), ratio=1, caliper_sd_logit=0.2,
                        treated_order="data", seed=1, caliper_sd_convention="pooled_within")
