"""Effect estimates of a matched design (mayo): Cox models of the matched cohort, the PH test, the 2x2
tests and the sensitivity analyses.

Every estimate is a plain dict {analysis, label, hr, lower, upper, p, n, events, method}, the rows of
results/analysis/<study>_effects.csv (and of the forest plot).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nenbone.analysis import survival as sv
from nenbone.analysis.matching import iptw_weights, match


def matched_cohort(derived: pd.DataFrame, matched: pd.DataFrame, id_col: str = "patient_id") -> pd.DataFrame:
    """Derived rows of the matched patients, with their match_id and matching weight."""
    keep = matched[[id_col, "match_id", "weight"]]
    return derived.merge(keep, on=id_col, how="inner", validate="one_to_one").sort_values(id_col, ignore_index=True)


def _as_event_frame(frame: pd.DataFrame, duration: str, event: str) -> pd.DataFrame:
    out = frame.copy()
    out[event] = out[event].astype(float)
    out[duration] = out[duration].astype(float)
    return out


def exposure_term(cox_result: sv.CoxResult, exposure: str) -> dict[str, Any]:
    """The exposure's HR with the interval and p the model reports (robust when it is) and, beside them,
    the interval and p from the model-based SE (`lower_model`, `upper_model`, `p_model`)."""
    import math

    from scipy.stats import norm

    row = cox_result.terms[cox_result.terms["covariate"] == exposure].iloc[0]
    coef, se_model = float(row["coef"]), float(row["se_model"])
    z = (math.log(float(row["hr_upper"])) - math.log(float(row["hr_lower"]))) / (2 * float(row["se"]))  # the model's level
    return {"hr": float(row["hr"]), "lower": float(row["hr_lower"]), "upper": float(row["hr_upper"]),
            "p": float(row["p"]), "n": cox_result.n, "events": cox_result.events,
            "lower_model": math.exp(coef - z * se_model), "upper_model": math.exp(coef + z * se_model),
            "p_model": float(2 * norm.sf(abs(coef / se_model)))}


def cox_estimate(frame: pd.DataFrame, spec: dict[str, Any], covariates: list[str], ties: str,
                 level: float, cluster: str | None, weights: str | None = None) -> tuple[dict[str, Any], sv.CoxResult]:
    """One Cox model; the exposure's HR with a sandwich SE clustered on the matched set when given."""
    duration, event, exposure = spec["duration"], spec["event"], spec["exposure"]
    cols = [duration, event, exposure, *covariates, *(c for c in (cluster, weights) if c)]
    data = _as_event_frame(frame[cols].dropna(), duration, event)
    result = sv.cox(data, duration, event, [exposure, *covariates], ties=ties, level=level,
                    categorical=[exposure], reference={exposure: spec["reference"]},
                    robust=cluster is not None or weights is not None, cluster_col=cluster, weights_col=weights)
    se_text = ("robust SE clustered on matched set" if cluster else "robust SE") if result.robust else "model-based SE"
    method = f"Cox, {ties.capitalize()} ties, {se_text}; {result.implementation}"
    return {**exposure_term(result, exposure), "method": method, "n_dropped_missing": int(len(frame) - len(data))}, result


def matched_cox_models(covariates: list[str]) -> list[tuple[str, str, str, list[str]]]:
    """The Cox models of the matched cohort, each (analysis, label, ties, covariates): unadjusted and
    adjusted for the matching covariates, with Efron and with Breslow ties."""
    out = []
    for ties in ("efron", "breslow"):
        for name, covs in (("unadjusted", []), ("adjusted", list(covariates))):
            label = f"Matched 1:k, {'adjusted for matching covariates' if covs else 'unadjusted'} ({ties.capitalize()})"
            out.append((f"cox_{name}_{ties}", label, ties, covs))
    return out


def cox_models(cohort: pd.DataFrame, spec: dict[str, Any], covariates: list[str], level: float) -> list[dict[str, Any]]:
    """Unadjusted and covariate-adjusted Cox models, with Efron and with Breslow ties."""
    rows = []
    for analysis, label, ties, covs in matched_cox_models(covariates):
        est, _ = cox_estimate(cohort, spec, covs, ties, level, cluster=spec.get("cluster"))
        rows.append({"analysis": analysis, "label": label, **est, "ph_p": ph_check(cohort, spec, covs, ties)["p"]})
    return rows


def schoenfeld_curves(cohort: pd.DataFrame, spec: dict[str, Any], covariates: list[str],
                      tick_every: float, smooth_df: int = 4, band_se: float = 2.0) -> dict[str, Any]:
    """Per Cox model of ``cox_models`` (same rows, complete cases and transform as ``ph_check``): the PH test
    and, per covariate column, beta(t) smoothed from the scaled Schoenfeld residuals with its band, on a
    grid of the transformed time (``survival.ph_curves``; no residual points: they are one per patient)."""
    models = []
    for analysis, label, ties, covs in matched_cox_models(covariates):
        cols = [spec["duration"], spec["event"], spec["exposure"], *covs]
        data = _as_event_frame(cohort[cols].dropna(), spec["duration"], spec["event"])
        curves = sv.ph_curves(data, spec["duration"], spec["event"], [spec["exposure"], *covs],
                              categorical=[spec["exposure"]], reference={spec["exposure"]: spec["reference"]},
                              ties=ties, tick_every=tick_every, smooth_df=smooth_df, band_se=band_se)
        models.append({"analysis": analysis, "label": label, **curves})
    return {"exposure": spec["exposure"], "duration": spec["duration"], "models": models}


def ph_check(cohort: pd.DataFrame, spec: dict[str, Any], covariates: list[str] | None = None,
             ties: str = "efron") -> dict[str, Any]:
    """Grambsch-Therneau test of proportional hazards (scaled Schoenfeld residuals, as cox.zph), global
    over the exposure and `covariates` (default: the unadjusted model); complete cases as cox_estimate."""
    covariates = list(covariates or [])
    cols = [spec["duration"], spec["event"], spec["exposure"], *covariates]
    data = _as_event_frame(cohort[cols].dropna(), spec["duration"], spec["event"])
    res = sv.ph_test(data, spec["duration"], spec["event"], [spec["exposure"], *covariates],
                     categorical=[spec["exposure"]], reference={spec["exposure"]: spec["reference"]}, ties=ties)
    return {"p": float(res.global_p), "statistic": float(res.global_statistic), "method": res.method}


def km_medians(frame: pd.DataFrame, spec: dict[str, Any], groups: tuple[str, str], level: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for g in groups:
        part = frame[frame[spec["exposure"]] == g]
        km = sv.kaplan_meier(part[spec["duration"]].astype(float), part[spec["event"]].astype(bool), level=level)
        out[f"median_{g.lower()}"] = km.median
        out[f"n_{g.lower()}"] = km.n
    lr = sv.logrank(frame[spec["duration"]].astype(float), frame[spec["event"]].astype(bool), frame[spec["exposure"]].astype(str))
    out["logrank_p"] = lr.p
    return out


def sensitivity(derived: pd.DataFrame, matching: dict[str, Any], variants: list[dict[str, Any]],
                spec: dict[str, Any], level: float, scores: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    """Re-match with other ratios and calipers, and weight by inverse probability (ATT); OS compared each time.

    `scores` are the propensity scores of the main match (the match rule's `<study>_scores.parquet`:
    patient_id, group, ps); the weights are computed from them, not from a second fit of the model.
    """
    groups = (matching["treated_group"], matching["control_group"])
    rows = []
    for variant in variants:
        settings = {**matching, "ratio": variant["ratio"], "caliper_sd_logit": variant["caliper_sd_logit"]}
        result = match(derived, settings)
        cohort = matched_cohort(derived, result.matched)
        est, _ = cox_estimate(cohort, spec, [], "efron", level, cluster=spec.get("cluster"))
        rows.append({"analysis": "sensitivity", "label": variant["label"], **est,
                     **km_medians(cohort, spec, groups, level),
                     "n_treated_fewer_than_ratio": int((result.per_treated["n_controls"] < result.ratio).sum())})
    if scores is None:
        scores = match(derived, matching).scores
    scores = scores[["patient_id", "ps"]].merge(derived, on="patient_id", how="left", validate="one_to_one")
    treated = scores[spec["exposure"]] == matching["treated_group"]
    scores["iptw"] = iptw_weights(scores["ps"], treated, "ATT").to_numpy()
    est, _ = cox_estimate(scores, spec, [], "efron", level, cluster=None, weights="iptw")
    n_pool = int(derived["group"].isin(groups).sum())
    rows.append({"analysis": "sensitivity",
                 "label": f"Inverse probability of treatment weighting (ATT), the {len(scores)} of {n_pool} patients "
                          "with every matching covariate",
                 **est, **{k: v for k, v in km_medians(scores, spec, groups, level).items() if k.startswith("n_")},
                 "n_treated_fewer_than_ratio": None})
    return rows


P_KEYS = {  # 2x2 test name -> key of its p under the flag's numbers
    "Pearson chi-square": "p_pearson",
    "Pearson chi-square with Yates' continuity correction": "p_yates",
    "likelihood-ratio chi-square": "p_likelihood_ratio",
    "Fisher's exact test, two-sided": "p_fisher",
    "Fisher's exact test, one-sided (direction of the observed difference)": "p_fisher_one_sided",
}


def proportion_tests(cohort: pd.DataFrame, flag: str, group: str, groups: tuple[str, str]) -> list[dict[str, Any]]:
    """Every standard 2x2 test of a flag between two groups (to show which, if any, gives a published p)."""
    from nenbone.analysis import descriptive as ds

    counts = []
    for g in groups:
        values = cohort.loc[cohort[group] == g, flag].dropna().astype(bool)
        counts += [int(values.sum()), int(len(values))]
    return [{"test": t.test, "key": P_KEYS.get(t.test, t.test), "statistic": t.statistic, "p": t.p}
            for t in ds.compare_proportions(*counts).tests]


def matched_proportion_tests(cohort: pd.DataFrame, flag: str, group: str, treated: str, ratio: int,
                             level: float, set_col: str = "match_id") -> dict[str, Any]:
    """A binary flag between the groups as the matched design asks: CMH stratified by matched set (with and
    without continuity correction), the exact conditional test, conditional logistic regression, and the
    range of CMH p-values attainable from this cohort's margins over every allocation to full 1:k sets
    (what a reader who has only the published counts can know). Patients without the flag are left out
    and counted (`n_missing`); the attainable ranges are None unless every set is a full 1:k set."""
    from nenbone.analysis import matched_tests as mt

    known = cohort[cohort[flag].notna()]
    sets, exposure = known[set_col].to_numpy(), (known[group] == treated).to_numpy()
    outcome = known[flag].astype(bool).to_numpy()
    uncorrected = mt.cmh_test(sets, exposure, outcome, correct=False, level=level)
    corrected = mt.cmh_test(sets, exposure, outcome, correct=True, level=level)
    exact = mt.exact_conditional_test(sets, exposure, outcome)
    clogit = mt.conditional_logistic(sets, exposure, outcome, level=level)
    out: dict[str, Any] = {
        "n_missing": int(len(cohort) - len(known)), "n_sets": int(uncorrected["n_sets"]),
        "cmh_p": uncorrected["p"], "cmh_corrected_p": corrected["p"], "cmh_chi2": uncorrected["statistic"],
        "exact_p": exact["p"],
        "clogit": {"or": clogit["or"], "or_lower": clogit["or_lower"], "or_upper": clogit["or_upper"],
                   "lr_p": clogit["lr_p"], "wald_p": clogit["wald_p"], "method": clogit["method"]},
        "methods": {"cmh": uncorrected["method"], "cmh_corrected": corrected["method"], "exact": exact["method"]},
    }
    sizes = known.groupby(set_col).size()
    n_treated, n_treated_with = int(exposure.sum()), int((exposure & outcome).sum())
    full = bool((sizes == ratio + 1).all()) and int(len(sizes)) == n_treated
    for key, correct in (("attainable", False), ("attainable_corrected", True)):
        if not full:
            out[key] = None
            continue
        rng = mt.cmh_attainable_p(n_treated, ratio, n_treated_with, int((~exposure & outcome).sum()), correct)
        out[key] = {"p_min": rng["p_min"], "p_max": rng["p_max"], "p_values": list(rng["p_values"]),
                    "n_distinct_p": len(rng["p_values"]), "method": rng["method"]}
    return out


def matched_comparison(derived: pd.DataFrame, cohort: pd.DataFrame, summary: dict[str, Any], n_resections: int,
                       plan: dict, analysis: dict, matching: dict, variants: list[dict],
                       scores: pd.DataFrame | None = None, imputation: dict[str, Any] | None = None,
                       labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Everything a matched design estimates beyond its plan: pool and matched counts, the 2x2 tests of
    major resection, Cox models (Efron and Breslow, unadjusted and adjusted), the PH test and the
    sensitivity analyses. Returns {"numbers": ..., "major_tests": [...], "cox_rows": [...], "sensitivity_rows": [...]}."""
    treated, control = matching["treated_group"], matching["control_group"]
    n: dict[str, Any] = {}
    in_group = derived["group"].value_counts()
    n["n_resections"] = n_resections
    n["pool"] = {"n_lb": int(in_group.get(treated, 0)), "n_l": int(in_group.get(control, 0)),
                 "n_other": n_resections - len(derived)}
    matched_counts = cohort["group"].value_counts()
    n["matched"] = {"n_lb": int(matched_counts.get(treated, 0)), "n_l": int(matched_counts.get(control, 0))}
    major_tests = proportion_tests(cohort, "major_resection", "group", (treated, control))
    n["major"] = {t["key"]: t["p"] for t in major_tests}
    n["major_ci"] = proportion_intervals(cohort, "major_resection", "group", (treated, control),
                                         analysis["confidence_level"])
    n["major_matched"] = matched_proportion_tests(cohort, "major_resection", "group", treated,
                                                  int(matching["ratio"]), analysis["confidence_level"])
    cox_spec = plan["cox"]
    level = analysis["confidence_level"]
    cox_rows = cox_models(cohort, cox_spec, list(matching["covariates"]), level)
    main = next(r for r in cox_rows if r["analysis"] == f"cox_unadjusted_{analysis['cox_ties']}")
    adjusted = next(r for r in cox_rows if r["analysis"] == f"cox_adjusted_{analysis['cox_ties']}")
    n["cox"] = {k: main[k] for k in ("hr", "lower", "upper", "p", "n", "events", "method")}
    n["cox_adjusted"] = {k: adjusted[k] for k in ("hr", "lower", "upper", "p", "method")}
    n["cox"]["ph_p"] = ph_check(cohort, cox_spec)["p"]
    n["cox"].update({k: main[k] for k in ("lower_model", "upper_model", "p_model")})
    n["cox_adjusted"].update({k: adjusted[k] for k in ("lower_model", "upper_model", "p_model")})
    n["logrank_stratified"] = stratified_logrank_by_set(cohort, cox_spec)
    sens_rows = sensitivity(derived, matching, variants, cox_spec, level, scores)
    n["ps_missing"] = ps_missing(derived, matching, labels)
    n["balance"] = {"smd_threshold": analysis["smd_threshold"]}
    ratios = variance_ratio_table(derived, cohort, scores, matching)
    if scores is not None:
        n["iptw"] = iptw_report(derived, scores, matching)
    if imputation is not None:
        mi = imputed_matching(derived, matching, cox_spec, imputation, level)
        n["mi"] = {k: mi[k] for k in ("hr", "lower", "upper", "p", "m", "n", "method")}
        sens_rows.append({"analysis": "sensitivity", "label": f"Multiple imputation of missing covariates (m = {mi['m']}), "
                          "propensity model, matching and Cox pooled by Rubin's rules",
                          "hr": mi["hr"], "lower": mi["lower"], "upper": mi["upper"], "p": mi["p"], "n": mi["n"],
                          "events": None, "method": mi["method"], "n_treated_fewer_than_ratio": None})
    n["matching"] = {k: summary[k] for k in ("ratio", "caliper_sd_logit", "sd_logit", "caliper_logit", "n_treated",
                                               "n_treated_matched", "n_controls_pool", "n_controls_matched",
                                               "n_treated_fewer_than_ratio", "max_abs_smd_before", "max_abs_smd_after")}
    return {"numbers": n, "major_tests": major_tests, "cox_rows": cox_rows, "sensitivity_rows": sens_rows,
            "variance_ratios": ratios}


def ps_missing(derived: pd.DataFrame, matching: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Who the complete-case propensity model leaves out, per group and per covariate (the Methods paragraph;
    `by_variable`: each covariate's label and how many of the pool lack it, which presentation words)."""
    from nenbone.analysis.missing_data import complete_case_summary

    treated, control = matching["treated_group"], matching["control_group"]
    rows = derived[derived["group"].isin([treated, control])]
    covariates = list(matching["covariates"])
    summary = complete_case_summary(rows, covariates)
    incomplete = rows[covariates].isna().any(axis=1)
    labels = labels or {}
    by_variable = [(labels.get(c, c), n) for c, n in summary["missing_by_variable"].items() if n]
    return {"n_pool": summary["n"], "n_used": summary["n_complete"], "n_excluded": summary["n_incomplete"],
            "n_excluded_lb": int((incomplete & (rows["group"] == treated)).sum()),
            "n_excluded_l": int((incomplete & (rows["group"] == control)).sum()),
            "n_l_pool": int((rows["group"] == control).sum()),
            "n_l_used": int((~incomplete & (rows["group"] == control)).sum()),
            "by_variable": [{"label": label, "n": n, "denominator_n": summary["n"]} for label, n in by_variable]}


def imputed_matching(derived: pd.DataFrame, matching: dict[str, Any], spec: dict[str, Any], imputation: dict[str, Any],
                     level: float) -> dict[str, Any]:
    """Sensitivity analysis for the complete-case propensity model: impute the matching covariates m times
    by chained equations (seeded; predictors: the group, the event indicator and the Nelson-Aalen
    cumulative hazard, White and Royston 2009), fit the propensity model, match and fit the unadjusted Cox
    model (robust SE clustered on the matched set) in each completed data set, and pool the log hazard
    ratios by Rubin's rules."""
    import numpy as np

    from nenbone.analysis import missing_data as md

    treated, control = matching["treated_group"], matching["control_group"]
    rows = derived[derived["group"].isin([treated, control])].reset_index(drop=True)
    covariates = list(matching["covariates"])
    kinds = {}
    for c in covariates:
        values = rows[c].dropna()
        if rows[c].isna().any():
            kinds[c] = ("binary" if set(pd.unique(values)) <= {0, 1} else
                        "continuous" if pd.api.types.is_numeric_dtype(values) else "categorical")
    event = rows[spec["event"]].astype(float)
    aux = pd.DataFrame({"mi_treated": (rows["group"] == treated).astype(float), "mi_event": event,
                        "mi_cumhaz": md.nelson_aalen_at_own_time(rows[spec["duration"]].astype(float), event)})
    complete = [c for c in covariates if c not in kinds]
    for c in complete:
        if pd.api.types.is_numeric_dtype(rows[c]) or pd.api.types.is_bool_dtype(rows[c]):
            aux[f"mi_{c}"] = rows[c].astype(float)
        else:
            for lev in sorted(rows[c].astype(str).unique())[1:]:
                aux[f"mi_{c}_{lev}"] = (rows[c].astype(str) == lev).astype(float)
    frame = pd.concat([rows, aux], axis=1)
    m = int(imputation["m"])
    if kinds:
        completed = md.impute_chained(frame, kinds, m=m, seed=int(imputation["seed"]),
                                      iterations=int(imputation["iterations"]), predictors=list(aux.columns))
    else:
        completed = [frame] * m
    log_hr, se = [], []
    for data in completed:
        data = data[rows.columns].copy()
        for c in kinds:
            data[c] = data[c].astype(rows[c].dtype)
        result = match(data, matching)
        cohort = matched_cohort(data, result.matched)
        est, fit = cox_estimate(cohort, spec, [], "efron", level, cluster=spec.get("cluster"))
        log_hr.append(float(np.log(est["hr"])))
        se.append(float((np.log(est["upper"]) - np.log(est["lower"])) / (2 * _z(level))))
    pooled = md.pool_log_ratio(log_hr, se, level=level)
    return {"hr": pooled["ratio"], "lower": pooled["ratio_lower"], "upper": pooled["ratio_upper"], "p": pooled.get("p"),
            "m": m, "n": int(len(rows)), "imputed_variables": list(kinds),
            "method": f"{md.METHOD_MICE}; m = {m}; {md.METHOD_RUBIN}"}


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def stratified_logrank_by_set(cohort: pd.DataFrame, spec: dict[str, Any], set_col: str = "match_id") -> dict[str, Any]:
    """The log-rank test of the exposure stratified by matched set (R survdiff(... + strata(set)))."""
    from nenbone.analysis.matched_tests import stratified_logrank

    res = stratified_logrank(cohort[spec["duration"]].astype(float), cohort[spec["event"]].astype(bool),
                             cohort[spec["exposure"]].astype(str), cohort[set_col])
    return {"chi2": res["chi2"], "p": res["p"], "n_strata": res["n_strata"], "method": res["method"]}


def proportion_intervals(cohort: pd.DataFrame, flag: str, group: str, groups: tuple[str, str],
                         level: float) -> dict[str, Any]:
    """Each group's proportion with its Wilson interval and the difference (first minus second) with
    Newcombe's hybrid score interval, in percent (points for the difference)."""
    from nenbone.analysis.strobe import newcombe_difference_ci, wilson_ci

    counts = []
    out: dict[str, Any] = {}
    for g in groups:
        values = cohort.loc[cohort[group] == g, flag].dropna().astype(bool)
        x, n = int(values.sum()), int(len(values))
        counts += [x, n]
        w = wilson_ci(x, n, level)
        out[g.lower()] = {"pct": 100 * w["proportion"], "lower_pct": 100 * w["lower"], "upper_pct": 100 * w["upper"]}
    d = newcombe_difference_ci(*counts, level=level)
    out["difference"] = {"points": 100 * d["difference"], "lower_points": 100 * d["lower"],
                         "upper_points": 100 * d["upper"]}
    out["methods"] = {"proportion": wilson_ci(1, 2, level)["method"], "difference": d["method"]}
    return out


def variance_ratio_table(derived: pd.DataFrame, cohort: pd.DataFrame, scores: pd.DataFrame | None,
                         matching: dict[str, Any]) -> pd.DataFrame:
    """Variance ratio (treated / control) of each continuous matching covariate before matching (the
    patients in the propensity model) and after (the matched cohort, with the matching weights)."""
    from nenbone.analysis.ps_reporting import variance_ratios

    treated = matching["treated_group"]
    covariates = list(matching["covariates"])
    pool = derived[derived["group"].isin([treated, matching["control_group"]])]
    if scores is not None:
        pool = pool[pool["patient_id"].isin(scores["patient_id"])]
    before = variance_ratios(pool, covariates, (pool["group"] == treated).to_numpy())
    after = variance_ratios(cohort, covariates, (cohort["group"] == treated).to_numpy(), weights=cohort["weight"].to_numpy())
    return pd.DataFrame({"covariate": before["variable"], "kind": before["kind"],
                         "variance_ratio_before": before["variance_ratio"], "variance_ratio_after": after["variance_ratio"]})


def iptw_report(derived: pd.DataFrame, scores: pd.DataFrame, matching: dict[str, Any]) -> dict[str, Any]:
    """Balance, weights and effective sample sizes of the ATT weights (the IPTW sensitivity analysis)."""
    from nenbone.analysis.ps_reporting import iptw_balance

    treated_group = matching["treated_group"]
    frame = scores[["patient_id", "ps"]].merge(derived, on="patient_id", how="left", validate="one_to_one")
    treated = (frame["group"] == treated_group).to_numpy()
    weights = iptw_weights(frame["ps"], pd.Series(treated), "ATT").to_numpy()
    res = iptw_balance(frame, list(matching["covariates"]), treated, weights)
    control = res["weights"].iloc[1]
    return {"n_treated": res["n_treated"], "n_control": res["n_control"], "n_ess_treated": res["ess_treated"],
            "n_ess_control": res["ess_control"], "max_abs_smd_after": res["max_abs_smd_after"],
            "weight_control": {"weight_median": float(control["median"]), "weight_min": float(control["min"]),
                               "weight_max": float(control["max"])},
            "method": res["method"]}
