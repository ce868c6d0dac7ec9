"""Propensity-score reporting against R 4.x (sd, var, stats::cov.wt(method = "unbiased"), quantile type 7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nenbone.analysis.ps_reporting import (
    PSReportingError,
    caliper_in_logit_units,
    distribution_by_group,
    iptw_balance,
    kish_ess,
    variance_ratios,
    weight_summary,
)

AGE = [55, 61, 47, 70, 66, 52, 58, 73, 49, 63, 57, 68, 44, 60, 71, 50]
MALE = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1]
TR = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
LOGIT = np.array([0.3, -0.2, 0.8, 1.1, 0.1, -1.0, -0.5, -0.9, -1.4, 0.2, -0.7, -1.2, -0.3, -0.8, 0.4, -1.6])
PS = 1 / (1 + np.exp(-LOGIT))
W = np.where(TR, 1.0, PS / (1 - PS))  # ATT weights; R: ifelse(tr == 1, 1, ps / (1 - ps))
FRAME = pd.DataFrame({"age": AGE, "male": MALE, "grade": ["G1", "G2"] * 8})


def test_caliper_both_sd_conventions_match_r():
    # R: sd(lg) = 0.791596488117526; sqrt((var(lg[tr==1]) + var(lg[tr==0]))/2) = 0.5778880042487
    res = caliper_in_logit_units(LOGIT, TR, 0.2)
    assert res["sd_logit"] == pytest.approx(0.791596488117526, rel=1e-12)
    assert res["caliper_logit"] == pytest.approx(0.2 * 0.791596488117526, rel=1e-12)
    assert res["sd_pooled_within"] == pytest.approx(0.5778880042487, rel=1e-12)
    austin = caliper_in_logit_units(LOGIT, TR, 0.2, sd="pooled_within")
    assert austin["caliper_logit"] == pytest.approx(0.2 * 0.5778880042487, rel=1e-12)
    with pytest.raises(PSReportingError):
        caliper_in_logit_units(LOGIT, TR, 0.2, sd="treated")


def test_variance_ratios_match_r():
    # R: var(age[tr==1]) = 82.7, var(age[tr==0]) = 89.6545454545455
    vr = variance_ratios(FRAME, ["age", "male", "grade"], TR).set_index("variable")
    assert vr.loc["age", "variance_ratio"] == pytest.approx(0.922429527479213, rel=1e-12)
    assert vr.loc["age", "var_control"] == pytest.approx(89.6545454545455, rel=1e-12)
    assert np.isnan(vr.loc["male", "variance_ratio"]) and vr.loc["male", "kind"] == "binary"
    assert vr.loc["grade", "kind"] == "categorical"
    # R: cov.wt(matrix(x), wt = w/sum(w), method = "unbiased")$cov: 82.7, 95.987431933281
    wvr = variance_ratios(FRAME, ["age"], TR, weights=W).set_index("variable")
    assert wvr.loc["age", "var_control"] == pytest.approx(95.987431933281, rel=1e-12)
    assert wvr.loc["age", "variance_ratio"] == pytest.approx(0.861571127952284, rel=1e-12)


def test_iptw_balance_ess_and_weights_match_r():
    res = iptw_balance(FRAME, ["age", "male"], TR, W)
    bal = res["balance"].set_index("variable")
    # R: weighted SMDs (weighted means, cov.wt variances; p(1-p) for the binary one)
    assert bal.loc["age", "smd_after"] == pytest.approx(-0.110886703879072, rel=1e-10)
    assert bal.loc["male", "smd_after"] == pytest.approx(-0.189899565178748, rel=1e-10)
    assert bal.loc["age", "variance_ratio_after"] == pytest.approx(0.861571127952284, rel=1e-12)
    assert np.isnan(bal.loc["male", "variance_ratio_after"])
    # R: sum(w)^2 / sum(w^2) per group
    assert res["ess_treated"] == pytest.approx(5.0)
    assert res["ess_control"] == pytest.approx(7.64941058132317, rel=1e-12)
    assert res["max_abs_smd_after"] == pytest.approx(0.189899565178748, rel=1e-10)
    # R: quantile(w[tr==0], c(0, .25, .5, .75, 1), type = 7)
    ws = res["weights"].set_index("group")
    assert list(ws.loc["control", ["min", "q1", "median", "q3", "max"]]) == pytest.approx(
        [0.201896517994655, 0.334536826541822, 0.449328964117222, 0.673674440197176, 1.49182469764127], rel=1e-12)
    assert ws.loc["treated", "n"] == 5 and ws.loc["control", "n"] == 11


def test_kish_ess_by_hand_and_refusals():
    assert kish_ess([1, 1, 1, 1]) == 4.0
    assert kish_ess([2, 1, 1]) == pytest.approx(16 / 6)  # (2+1+1)^2 / (4+1+1)
    with pytest.raises(PSReportingError):
        kish_ess([1, -1])
    with pytest.raises(PSReportingError):
        weight_summary([1.0, 2.0], [1, 1])


def test_score_distribution_by_hand():
    # treated scores 0.2, 0.4, 0.6, 0.8 (type 7: q1 = 0.35, median 0.5, q3 = 0.65); control 0.1, 0.3
    d = distribution_by_group([0.2, 0.4, 0.6, 0.8, 0.1, 0.3], [1, 1, 1, 1, 0, 0]).set_index("group")
    assert list(d.loc["treated", ["min", "q1", "median", "q3", "max"]]) == pytest.approx([0.2, 0.35, 0.5, 0.65, 0.8])
    assert d.loc["control", "median"] == pytest.approx(0.2) and d.loc["control", "n"] == 2
