"""Matched-set tests against R 4.x (stats::mantelhaen.test, survival 3.5-3 clogit and survdiff).

Every reference constant below was printed by R with sprintf("%.15g", ...); the R call is given with it.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pytest
from scipy.stats import chi2

from nenbone.analysis.matched_tests import (
    MatchedTestError,
    SetTables,
    allocation_to_patients,
    cmh_attainable_p,
    cmh_from_tables,
    cmh_test,
    rounding_interval,
    conditional_logistic,
    exact_attainable_p,
    exact_conditional_from_tables,
    exact_conditional_test,
    m1_counts_to_allocation,
    stratified_logrank,
)

REL = 1e-9

# The allocation the issue quotes: 15 LB-major sets with 4 x10, 2, 2, 2, 0, 0 major controls;
# 10 LB-non-major sets with 4, 4, 1, 0 x7 (1:4 sets; 15/25 vs 55/100 major).
ISSUE_ALLOCATION = {"treated_with_outcome": [4] * 10 + [2, 2, 2, 0, 0], "treated_without_outcome": [4, 4, 1] + [0] * 7}

# R: x <- table(factor(lb, levels=c(1,0)), factor(major, levels=c(1,0)), set)
#    mantelhaen.test(x, correct=FALSE); mantelhaen.test(x, correct=TRUE)
R_ISSUE_CMH_UNCORRECTED = (0.657894736842105, 0.417304165627404)
R_ISSUE_CMH_CORRECTED = (0.164473684210526, 0.685070662318077)
R_ISSUE_OR_MH = (1.55555555555556, 0.407715369615451, 5.93490769970732)
# R: f <- clogit(major ~ lb + strata(set)); s <- summary(f)
#    coef(f), sqrt(vcov(f)), s$logtest, s$waldtest, s$sctest, f$loglik
R_ISSUE_CLOGIT = {"beta": 0.67370518626032, "se": 0.836010522590903, "lr": 0.666914343096902,
                  "lr_p": 0.41412948039275, "wald": 0.65, "wald_p": 0.420325131827418,
                  "score": 0.657894736842105, "score_p": 0.417304165627405,
                  "loglik0": -14.9549448411526, "loglik": -14.6214876696042}

# Sets of unequal size, several exposed per set (d2 in the R script).
D2_SET = [1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 4, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6]
D2_X = [1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0]
D2_Y = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0]
# R: clogit(y ~ x + strata(set), data = d2): coef, se, LR (stat, p), Wald (stat, p), score (stat, p), loglik
R_D2_CLOGIT = (0.985971752322264, 0.891443056823014, 1.33756460760565, 0.247463911585257, 1.22,
               0.268709170733324, 1.29136163982431, 0.255797169363405, -8.37101068123816, -7.70222837743533)
# R: mantelhaen.test(table(x, y, set), correct = FALSE / TRUE): statistic, p, estimate, conf.int
R_D2_CMH = {False: (1.2913616398243, 0.255797169363405, 2.86666666666667, 0.432101399063955, 19.0181697989862),
            True: (0.533674963396779, 0.465065913163556, 2.86666666666667, 0.432101399063955, 19.0181697989862)}


def test_issue_allocation_cmh_matches_r():
    d = allocation_to_patients(ISSUE_ALLOCATION, 4)
    assert len(d) == 125 and d["outcome"][d["exposure"] == 1].sum() == 15 and d["outcome"][d["exposure"] == 0].sum() == 55
    for correct, (stat, p) in ((False, R_ISSUE_CMH_UNCORRECTED), (True, R_ISSUE_CMH_CORRECTED)):
        res = cmh_test(d["matched_set"], d["exposure"], d["outcome"], correct=correct)
        assert res["statistic"] == pytest.approx(stat, rel=REL)
        assert res["p"] == pytest.approx(p, rel=REL)
        assert res["or_mh"] == pytest.approx(R_ISSUE_OR_MH[0], rel=REL)
        assert (res["or_lower"], res["or_upper"]) == pytest.approx(R_ISSUE_OR_MH[1:], rel=REL)
    # hand: DELTA = 15 - 70/5 = 1; V = sum m1 (5 - m1) * 4 / 100 = 38/25
    res = cmh_test(d["matched_set"], d["exposure"], d["outcome"], correct=False)
    assert res["delta"] == pytest.approx(1.0) and res["variance"] == pytest.approx(38 / 25)


def test_issue_allocation_clogit_matches_r():
    d = allocation_to_patients(ISSUE_ALLOCATION, 4)
    res = conditional_logistic(d["matched_set"], d["exposure"], d["outcome"])
    r = R_ISSUE_CLOGIT
    assert res["beta"] == pytest.approx(r["beta"], rel=1e-7)
    assert res["se"] == pytest.approx(r["se"], rel=1e-7)
    assert res["lr_statistic"] == pytest.approx(r["lr"], rel=1e-7)
    assert res["lr_p"] == pytest.approx(r["lr_p"], rel=1e-7)
    # summary.coxph rounds the Wald statistic to 0.01 but computes its p from the unrounded value
    assert res["wald_statistic"] == pytest.approx(r["wald"], abs=0.005)
    assert res["wald_statistic"] == pytest.approx((r["beta"] / r["se"]) ** 2, rel=1e-7)
    assert res["wald_p"] == pytest.approx(r["wald_p"], rel=1e-7)
    assert res["score_statistic"] == pytest.approx(r["score"], rel=REL)
    assert res["score_p"] == pytest.approx(r["score_p"], rel=REL)
    # R's loglik carries the log C(n, m) constants of each set; differences are what the tests use
    assert res["loglik"] - res["loglik_null"] == pytest.approx(r["loglik"] - r["loglik0"], rel=1e-7)
    assert res["n_informative_sets"] == 8


def test_unequal_sets_clogit_and_cmh_match_r():
    res = conditional_logistic(D2_SET, D2_X, D2_Y)
    beta, se, lr, lr_p, wald, wald_p, score, score_p, ll0, ll1 = R_D2_CLOGIT
    assert res["beta"] == pytest.approx(beta, rel=1e-7)
    assert res["se"] == pytest.approx(se, rel=1e-7)
    assert (res["lr_statistic"], res["lr_p"]) == pytest.approx((lr, lr_p), rel=1e-7)
    assert res["wald_statistic"] == pytest.approx(wald, abs=0.005)
    assert res["wald_p"] == pytest.approx(wald_p, rel=1e-7)
    assert (res["score_statistic"], res["score_p"]) == pytest.approx((score, score_p), rel=REL)
    assert res["loglik"] - res["loglik_null"] == pytest.approx(ll1 - ll0, rel=1e-7)
    for correct, (stat, p, est, lo, hi) in R_D2_CMH.items():
        c = cmh_test(D2_SET, D2_X, D2_Y, correct=correct)
        assert (c["statistic"], c["p"]) == pytest.approx((stat, p), rel=REL)
        assert (c["or_mh"], c["or_lower"], c["or_upper"]) == pytest.approx((est, lo, hi), rel=REL)
    # the clogit score test is the uncorrected CMH statistic
    assert res["score_statistic"] == pytest.approx(R_D2_CMH[False][0], rel=REL)


def test_clogit_monotone_likelihood_gives_no_estimate():
    # every informative set has its exposed patient with the outcome and no control with it
    res = conditional_logistic([1, 1, 2, 2, 2], [1, 0, 1, 0, 0], [1, 0, 1, 0, 0])
    assert res["beta"] is None and "does not exist" in res["note"]
    assert res["score_statistic"] > 0


def test_bad_inputs_are_refused():
    with pytest.raises(MatchedTestError, match="positions \\[1\\]"):
        cmh_test([1, 1], [1, 2], [0, 1])
    with pytest.raises(MatchedTestError, match="at least 2 patients"):
        cmh_test([1, 1, 2], [1, 0, 1], [1, 0, 1])


# ----------------------------------------------------------------------------- attainable range

# R: mantelhaen.test on the allocations that give the smallest and the largest p:
#   min: LB-major sets 4 x13, 3, 0; LB-non-major sets 0 x10;  max: 2 x10, 1 x5; 3 x10
R_P_MIN = {False: 0.077099871743542, True: 0.376759117811582}
R_P_MAX = {False: 0.683091398309609, True: 0.838256486385826}


def brute_force_variance_numerators(n_with=15, n_without=10, ratio=4, total=55):
    """Every multiset of control counts per class (itertools), grouped by sum: sum m1 (N - m1)."""
    size = ratio + 1

    def by_sum(n, a):
        out = defaultdict(set)
        for combo in itertools.combinations_with_replacement(range(ratio + 1), n):
            out[sum(combo)].add(sum((a + c) * (size - a - c) for c in combo))
        return out

    one, zero = by_sum(n_with, 1), by_sum(n_without, 0)
    return {v1 + v0 for s1, vs1 in one.items() for v1 in vs1 for v0 in zero.get(total - s1, ())}


@pytest.mark.parametrize("correct", [False, True])
def test_attainable_range_matches_brute_force_and_r(correct):
    res = cmh_attainable_p(25, 4, 15, 55, correct=correct, target=(0.415, 0.425))
    vnums = brute_force_variance_numerators()
    cc = 0.5 if correct else 0.0
    expected = sorted(chi2.sf((1.0 - cc) ** 2 / (4 * v / 100), 1) for v in vnums if v > 0)
    assert res["p_values"] == pytest.approx(expected, rel=1e-12)
    assert res["p_min"] == pytest.approx(R_P_MIN[correct], rel=REL)
    assert res["p_max"] == pytest.approx(R_P_MAX[correct], rel=REL)
    # each reported allocation reproduces its p through the patient-level CMH
    for key, p in (("allocation_p_min", res["p_min"]), ("allocation_p_max", res["p_max"])):
        d = allocation_to_patients(res[key], 4)
        assert d["outcome"][d["exposure"] == 0].sum() == 55
        assert cmh_test(d["matched_set"], d["exposure"], d["outcome"], correct=correct)["p"] == pytest.approx(p, rel=REL)


def test_published_p_042_attainable_only_without_continuity_correction():
    assert rounding_interval(0.42, 2) == (0.415, 0.425)
    plain = cmh_attainable_p(25, 4, 15, 55, correct=False, target=(0.415, 0.425))
    assert plain["target_attainable"] is True
    assert plain["p_target"] == pytest.approx(R_ISSUE_CMH_UNCORRECTED[1], rel=REL)
    d = allocation_to_patients(plain["allocation_target"], 4)
    assert 0.415 <= cmh_test(d["matched_set"], d["exposure"], d["outcome"], correct=False)["p"] < 0.425
    corrected = cmh_attainable_p(25, 4, 15, 55, correct=True, target=(0.415, 0.425))
    assert corrected["target_attainable"] is False and corrected["allocation_target"] is None
    # the corrected p jumps from 0.3768 to 0.4705 (V numerators 24 and 28 apart by one step)
    ps = np.array(corrected["p_values"])
    assert not ((ps >= 0.415) & (ps < 0.425)).any()


# ----------------------------------------------------------------------------- stratified log-rank

SL_SET = np.repeat(np.arange(1, 7), 4)
SL_G = ["LB", "L", "L", "L"] * 6
SL_T = [10, 20, 30, 40, 5, 5, 60, 12, 33, 18, 18, 70, 8, 50, 9, 25, 44, 44, 15, 80, 3, 100, 27, 27]
SL_D = [1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0]
# R: survdiff(Surv(t, d) ~ g + strata(set)): chisq, rowSums(obs), rowSums(exp); unstratified chisq 8.18196641613071
R_SLR = {"chi2": 7.03347280334728, "p": 0.0080000065337565, "obs": {"L": 10, "LB": 6},
         "exp": {"L": 2.75 + 2.5 + 2.25 + 1.75 + 2.41666666666667 + 1.75,
                 "LB": 0.25 + 0.5 + 0.75 + 0.25 + 0.583333333333333 + 0.25}}


def test_stratified_logrank_matches_r_survdiff():
    res = stratified_logrank(SL_T, SL_D, SL_G, SL_SET)
    assert res["chi2"] == pytest.approx(R_SLR["chi2"], rel=REL)
    assert res["p"] == pytest.approx(R_SLR["p"], rel=1e-8)
    for row in res["groups"]:
        assert row["observed"] == R_SLR["obs"][row["group"]]
        assert row["expected"] == pytest.approx(R_SLR["exp"][row["group"]], rel=1e-12)
    assert res["n_strata"] == 6 and res["df"] == 1
    # one stratum = the ordinary log-rank (R survdiff without strata: 8.18196641613071)
    one = stratified_logrank(SL_T, SL_D, SL_G, np.ones(24))
    assert one["chi2"] == pytest.approx(8.18196641613071, rel=REL)


# ----------------------------------------------------------------------------- exact conditional test

# R: mantelhaen.test(x, exact = TRUE)$p.value on the issue's allocation, on d2, and on the allocations
# reported for the smallest, the largest and a p in [0.415, 0.425) (see i9_exact.R in the report)
R_EXACT_ISSUE = 0.6811776
R_EXACT_D2 = 0.416666666666667
R_EXACT_MIN, R_EXACT_MAX, R_EXACT_TARGET = 0.232, 0.838695538796936, 0.4200576


def test_exact_conditional_test_matches_r():
    d = allocation_to_patients(ISSUE_ALLOCATION, 4)
    res = exact_conditional_test(d["matched_set"], d["exposure"], d["outcome"])
    assert res["p"] == pytest.approx(R_EXACT_ISSUE, rel=1e-10)
    assert res["s"] == 15 and res["expected"] == pytest.approx(14.0)
    assert exact_conditional_test(D2_SET, D2_X, D2_Y)["p"] == pytest.approx(R_EXACT_D2, rel=1e-10)


def test_exact_attainable_range_matches_r_on_its_witnesses():
    res = exact_attainable_p(25, 4, 15, 55, target=(0.415, 0.425))
    assert res["p_min"] == pytest.approx(R_EXACT_MIN, rel=1e-10)
    assert res["p_max"] == pytest.approx(R_EXACT_MAX, rel=1e-10)
    assert res["target_attainable"] is True and res["p_target"] == pytest.approx(R_EXACT_TARGET, rel=1e-10)
    for key, p in (("allocation_p_min", R_EXACT_MIN), ("allocation_p_max", R_EXACT_MAX), ("allocation_target", R_EXACT_TARGET)):
        d = allocation_to_patients(res[key], 4)
        assert d["outcome"][d["exposure"] == 1].sum() == 15 and d["outcome"][d["exposure"] == 0].sum() == 55
        assert exact_conditional_test(d["matched_set"], d["exposure"], d["outcome"])["p"] == pytest.approx(p, rel=1e-10)


def test_exact_and_cmh_ranges_equal_brute_force_over_every_allocation_of_a_small_design():
    """6 sets of 1:2, 3 treated and 5 controls with the outcome: every allocation, set by set."""
    n_sets, ratio, t1, c1 = 6, 2, 3, 5
    exact_ps, cmh_ps = set(), set()
    for treated in itertools.combinations(range(n_sets), t1):
        for controls in itertools.product(range(ratio + 1), repeat=n_sets):
            if sum(controls) != c1:
                continue
            a = np.array([1 if i in treated else 0 for i in range(n_sets)])
            tables = SetTables(n=np.full(n_sets, ratio + 1), n1=np.ones(n_sets, dtype=int), m1=a + np.array(controls), a=a)
            exact_ps.add(round(exact_conditional_from_tables(tables)["p"], 12))
            try:
                cmh_ps.add(round(cmh_from_tables(tables, correct=False)["p"], 12))
            except MatchedTestError:  # no informative set: CMH undefined, as R (NaN)
                pass
    assert exact_attainable_p(n_sets, ratio, t1, c1)["p_values"] == pytest.approx(sorted(exact_ps), rel=1e-10)
    assert cmh_attainable_p(n_sets, ratio, t1, c1, correct=False)["p_values"] == pytest.approx(sorted(cmh_ps), rel=1e-10)


def test_m1_counts_to_allocation_by_hand():
    # 1:4 sets, m1 counts n_0..n_5 = (1, 0, 1, 0, 0, 1): sets with m1 = 5, 2, 0; one treated with the outcome
    assert m1_counts_to_allocation([1, 0, 1, 0, 0, 1], 1, 4) == {"treated_with_outcome": [4],
                                                                  "treated_without_outcome": [2, 0]}
    with pytest.raises(MatchedTestError):
        m1_counts_to_allocation([0, 0, 0, 0, 0, 2], 1, 4)


def test_matched_comparison_of_a_flag_uses_the_matched_sets():
    """effects.matched_proportion_tests on the allocation of issue 9 (LB-major sets with 4 x10, 2, 2, 2, 0, 0
    major controls; LB-non-major sets with 4, 4, 1, 0 x7): R mantelhaen.test(correct = FALSE) gives
    p = 0.4173; over every allocation of 15/25 against 55/100 the uncorrected CMH ranges 0.0771-0.6831
    and the corrected one 0.3768-0.8383 (the figures of the brief)."""
    import pandas as pd

    from nenbone.analysis.effects import matched_proportion_tests
    from nenbone.analysis.matched_tests import allocation_to_patients

    allocation = {"treated_with_outcome": [4] * 10 + [2, 2, 2, 0, 0], "treated_without_outcome": [4, 4, 1] + [0] * 7}
    rows = allocation_to_patients(allocation, 4)
    cohort = pd.DataFrame({"match_id": rows["matched_set"], "group": rows["exposure"].map({1: "LB", 0: "L"}),
                           "major_resection": rows["outcome"].astype(bool)})
    cohort.loc[len(cohort)] = {"match_id": 99, "group": "L", "major_resection": None}  # unknown flag: left out, counted
    out = matched_proportion_tests(cohort, "major_resection", "group", "LB", 4, 0.95)
    assert out["n_missing"] == 1 and out["n_sets"] == 25
    assert out["cmh_p"] == pytest.approx(0.4173, abs=5e-5)
    assert out["cmh_corrected_p"] > out["cmh_p"]
    # the score test of the conditional logistic model is the uncorrected CMH chi-square (module docstring)
    assert out["attainable"]["p_min"] == pytest.approx(0.0771, abs=5e-5)
    assert out["attainable"]["p_max"] == pytest.approx(0.6831, abs=5e-5)
    assert (out["attainable_corrected"]["p_min"], out["attainable_corrected"]["p_max"]) == (
        pytest.approx(0.3768, abs=5e-5), pytest.approx(0.8383, abs=5e-5))
    assert out["clogit"]["or"] > 1 and out["clogit"]["or_lower"] < 1 < out["clogit"]["or_upper"]
    # sets that are not full 1:k sets: no attainable range from margins
    partial = matched_proportion_tests(cohort[cohort.index != 1], "major_resection", "group", "LB", 4, 0.95)
    assert partial["attainable"] is None and partial["attainable_corrected"] is None
