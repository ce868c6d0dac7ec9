"""Study B's effect estimates: Cox models of the matched cohort and the sensitivity analyses.

Every estimate is a plain dict {analysis, label, hr, lower, upper, p, n, events, method}, the rows of
results/analysis/mayo_effects.csv (and of the forest plot).
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
    row = cox_result.terms[cox_result.terms["covariate"] == exposure].iloc[0]
    return {"hr": float(row["hr"]), "lower": float(row["hr_lower"]), "upper": float(row["hr_upper"]),
            "p": float(row["p"]), "n": cox_result.n, "events": cox_result.events}


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


def cox_models(cohort: pd.DataFrame, spec: dict[str, Any], covariates: list[str], level: float) -> list[dict[str, Any]]:
    """Unadjusted and covariate-adjusted Cox models, with Efron and with Breslow ties."""
    rows = []
    for ties in ("efron", "breslow"):
        for name, covs in (("unadjusted", []), ("adjusted", covariates)):
            est, _ = cox_estimate(cohort, spec, covs, ties, level, cluster=spec.get("cluster"))
            label = f"Matched 1:k, {'adjusted for matching covariates' if covs else 'unadjusted'} ({ties.capitalize()})"
            rows.append({"analysis": f"cox_{name}_{ties}", "label": label, **est})
    return rows


def ph_check(cohort: pd.DataFrame, spec: dict[str, Any]) -> dict[str, Any]:
    """Scaled Schoenfeld residual test for the exposure (the unadjusted model)."""
    data = _as_event_frame(cohort, spec["duration"], spec["event"])
    res = sv.ph_test(data, spec["duration"], spec["event"], [spec["exposure"]],
                     categorical=[spec["exposure"]], reference={spec["exposure"]: spec["reference"]})
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
                spec: dict[str, Any], level: float) -> list[dict[str, Any]]:
    """Re-match with other ratios and calipers, and weight by inverse probability (ATT); OS compared each time."""
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
    base = match(derived, matching)
    scores = base.scores.merge(derived, on="patient_id", how="left", suffixes=("", "_derived"))
    scores["iptw"] = iptw_weights(scores["ps"], scores["treated"], "ATT").to_numpy()
    est, _ = cox_estimate(scores, spec, [], "efron", level, cluster=None, weights="iptw")
    rows.append({"analysis": "sensitivity", "label": "Inverse probability of treatment weighting (ATT), all patients",
                 **est, **{k: v for k, v in km_medians(scores, spec, groups, level).items() if k.startswith("n_")},
                 "n_treated_fewer_than_ratio": None})
    return rows
