"""Matched-design reporting: model-based SEs beside robust ones, the log-rank stratified by set, the
at-risk grid of the Kaplan-Meier figures."""

import numpy as np
import pandas as pd
import pytest

from nenbone.analysis.effects import cox_estimate, stratified_logrank_by_set
from nenbone.analysis.matched_tests import stratified_logrank
from nenbone.analysis.plans import at_risk_grid
from nenbone.presentation.figure_km import labelled_times

SPEC = {"duration": "t", "event": "d", "exposure": "group", "reference": "L", "cluster": "match_id"}


def matched_frame(seed=4, n_sets=30, ratio=3):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sets):
        frailty = rng.gamma(2.0, 0.5)
        for j in range(ratio + 1):
            treated = j == 0
            rate = frailty * (1.8 if treated else 1.0) / 50
            t = rng.exponential(1 / rate)
            rows.append({"match_id": s, "group": "LB" if treated else "L", "t": min(t, 120.0), "d": t < 120.0})
    return pd.DataFrame(rows)


def test_model_based_interval_is_the_unclustered_models():
    frame = matched_frame()
    clustered, _ = cox_estimate(frame, SPEC, [], "efron", 0.95, cluster="match_id")
    plain, _ = cox_estimate(frame, {**SPEC, "cluster": None}, [], "efron", 0.95, cluster=None)
    assert "clustered" in clustered["method"] and "model-based" in plain["method"]
    assert clustered["hr"] == pytest.approx(plain["hr"], rel=1e-12)
    assert (clustered["lower_model"], clustered["upper_model"], clustered["p_model"]) == (
        pytest.approx(plain["lower"], rel=1e-9), pytest.approx(plain["upper"], rel=1e-9), pytest.approx(plain["p"], rel=1e-9))
    assert clustered["lower"] != pytest.approx(plain["lower"], rel=1e-6)  # the robust interval is another one


def test_stratified_logrank_by_set_is_the_matched_tests_one():
    frame = matched_frame(seed=9)
    out = stratified_logrank_by_set(frame, SPEC)
    ref = stratified_logrank(frame["t"], frame["d"], frame["group"], frame["match_id"])
    assert out["p"] == ref["p"] and out["n_strata"] == 30 and 0 < out["p"] < 1


def test_at_risk_grid_covers_follow_up_and_labels_thin_out():
    assert at_risk_grid(pd.Series([5.0, 130.2]), 12) == [float(x) for x in range(0, 133, 12)]
    assert at_risk_grid(pd.Series([3.0, 120.0]), 12) == [float(x) for x in range(0, 121, 12)]  # a multiple ends it
    assert labelled_times([float(x) for x in range(0, 217, 12)]) == [float(x) for x in range(0, 217, 24)]
    assert labelled_times([0.0, 12.0, 24.0]) == [0.0, 12.0, 24.0]


def test_strobe_summary_by_hand():
    """times 1..5, deaths at 1 and 3. Reverse KM (censorings as events, at 2, 4, 5): S = 3/4 at 2,
    3/8 at 4 -> median follow-up 4. KM: S(1) = 4/5, S(3) = 4/5 x 2/3 = 0.5333; at risk at t = 3: 3."""
    from nenbone.analysis.plans import strobe_summary

    out = strobe_summary(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0]), pd.Series([1, 0, 1, 0, 0]), [1.0, 3.0], 0.95)
    assert out["followup"]["months"] == 4.0
    assert out["survival_at"]["m1"]["pct"] == pytest.approx(80.0)
    assert out["survival_at"]["m3"]["pct"] == pytest.approx(100 * 8 / 15) and out["survival_at"]["m3"]["n_at_risk"] == 3
    assert out["survival_at"]["m3"]["lower_pct"] < 100 * 8 / 15 < out["survival_at"]["m3"]["upper_pct"]


def test_proportion_intervals_wilson_and_newcombe_by_formula():
    """Wilson: (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n); Newcombe method 10 from them."""
    import math

    from nenbone.analysis.effects import proportion_intervals

    cohort = pd.DataFrame({"group": ["LB"] * 25 + ["L"] * 100,
                           "major": [True] * 15 + [False] * 10 + [True] * 55 + [False] * 45})
    out = proportion_intervals(cohort, "major", "group", ("LB", "L"), 0.95)
    z = 1.959963984540054

    def wilson(x, n):
        p = x / n
        c, h = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return (c - h) / (1 + z * z / n), (c + h) / (1 + z * z / n)
    (l1, u1), (l2, u2) = wilson(15, 25), wilson(55, 100)
    assert (out["lb"]["lower_pct"], out["lb"]["upper_pct"]) == (pytest.approx(100 * l1), pytest.approx(100 * u1))
    assert (out["l"]["lower_pct"], out["l"]["upper_pct"]) == (pytest.approx(100 * l2), pytest.approx(100 * u2))
    d = 0.60 - 0.55
    assert out["difference"]["points"] == pytest.approx(5.0)
    assert out["difference"]["lower_points"] == pytest.approx(100 * (d - math.sqrt((0.6 - l1) ** 2 + (u2 - 0.55) ** 2)))
    assert out["difference"]["upper_points"] == pytest.approx(100 * (d + math.sqrt((u1 - 0.6) ** 2 + (0.55 - l2) ** 2)))


def test_iptw_report_weights_and_effective_sample_size_by_hand():
    """ATT weights: treated 1, controls ps / (1 - ps); Kish ESS = (sum w)^2 / sum w^2."""
    from nenbone.analysis.effects import iptw_report

    ps = [0.5, 0.4, 0.2, 0.5, 0.1, 0.25]
    derived = pd.DataFrame({"patient_id": list("abcdef"), "group": ["LB", "LB", "L", "L", "L", "L"],
                            "x": [1.0, 2.0, 1.5, 2.5, 0.5, 1.0]})
    scores = pd.DataFrame({"patient_id": list("abcdef"), "ps": ps})
    out = iptw_report(derived, scores, {"treated_group": "LB", "control_group": "L", "covariates": ["x"]})
    w = np.array([0.25, 1.0, 1 / 9, 1 / 3])
    assert (out["n_treated"], out["n_control"]) == (2, 4) and out["n_ess_treated"] == pytest.approx(2.0)
    assert out["n_ess_control"] == pytest.approx(w.sum() ** 2 / (w ** 2).sum())
    assert (out["weight_control"]["weight_min"], out["weight_control"]["weight_max"]) == (pytest.approx(1 / 9), 1.0)


def test_variance_ratios_before_and_after_matching_by_hand():
    from nenbone.analysis.effects import variance_ratio_table

    derived = pd.DataFrame({"patient_id": list("abcdefgh"), "group": ["LB", "LB", "L", "L", "L", "L", "L", "L"],
                            "x": [1.0, 3.0, 0.0, 4.0, 2.0, 2.0, 10.0, -6.0], "z": [1, 0, 1, 0, 1, 0, 1, 0]})
    cohort = derived.iloc[:6].assign(weight=1.0)
    out = variance_ratio_table(derived, cohort, None, {"treated_group": "LB", "control_group": "L", "covariates": ["x", "z"]})
    x = out.set_index("covariate").loc["x"]
    # sample variances: LB {1, 3} -> 2; all L {0, 4, 2, 2, 10, -6} -> 27.2; matched L {0, 4, 2, 2} -> 8/3
    assert x["variance_ratio_before"] == pytest.approx(2 / 27.2) and x["variance_ratio_after"] == pytest.approx(2 / (8 / 3))
    assert out.set_index("covariate").loc["z", "kind"] == "binary"


def test_every_cox_model_has_its_ph_test():
    """cox_models gives each model the global cox.zph test of its own terms (ties as the model)."""
    from nenbone.analysis import survival as sv
    from nenbone.analysis.effects import cox_models

    frame = matched_frame(seed=12).assign(x=lambda f: np.random.default_rng(1).normal(size=len(f)))
    rows = {r["analysis"]: r for r in cox_models(frame, SPEC, ["x"], 0.95)}
    assert set(rows) == {"cox_unadjusted_efron", "cox_adjusted_efron", "cox_unadjusted_breslow", "cox_adjusted_breslow"}
    data = frame.assign(d=frame["d"].astype(float))
    for ties in ("efron", "breslow"):
        ref = sv.ph_test(data, "t", "d", ["group", "x"], categorical=["group"], reference={"group": "L"}, ties=ties)
        assert rows[f"cox_adjusted_{ties}"]["ph_p"] == pytest.approx(ref.global_p, rel=1e-12)
    assert rows["cox_unadjusted_efron"]["ph_p"] != rows["cox_adjusted_efron"]["ph_p"]
