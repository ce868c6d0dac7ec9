"""Study B's numbers and tables: matched cohort, major resection tests, Cox models, sensitivity."""

from __future__ import annotations

from typing import Any

import pandas as pd

from nenbone.analysis import descriptive as ds
from nenbone.analysis import effects
from nenbone.presentation.study_report import StudyReport, study_report
from nenbone.presentation.tables import TableSettings, _p_text

P_KEYS = {  # test name -> key under mayo.major
    "Pearson chi-square": "p_pearson",
    "Pearson chi-square with Yates' continuity correction": "p_yates",
    "likelihood-ratio chi-square": "p_likelihood_ratio",
    "Fisher's exact test, two-sided": "p_fisher",
    "Fisher's exact test, one-sided (direction of the observed difference)": "p_fisher_one_sided",
}


def proportion_tests(cohort: pd.DataFrame, flag: str, group: str, groups: tuple[str, str]) -> tuple[dict[str, Any], pd.DataFrame]:
    """Every standard 2x2 test of a flag between two groups (to show which, if any, gives a published p)."""
    counts = []
    for g in groups:
        values = cohort.loc[cohort[group] == g, flag].dropna().astype(bool)
        counts += [int(values.sum()), int(len(values))]
    comparison = ds.compare_proportions(*counts)
    numbers = {P_KEYS.get(t.test, t.test): t.p for t in comparison.tests}
    table = pd.DataFrame([{"Test": t.test, "Statistic": "" if t.statistic is None else str(ds.round_half_up(t.statistic, 3)),
                           "p": str(ds.round_half_up(t.p, 3))} for t in comparison.tests])
    return numbers, table


def hr_text(hr: float, lower: float, upper: float) -> str:
    two = lambda x: str(ds.round_half_up(x, 2))  # noqa: E731
    return f"{two(hr)} ({two(lower)}–{two(upper)})"


def effects_table(rows: list[dict[str, Any]], with_medians: bool) -> pd.DataFrame:
    out = []
    for r in rows:
        line = {"Analysis": r["label"], "n": str(r["n"]), "Events": str(r["events"]),
                "HR (95% CI)": hr_text(r["hr"], r["lower"], r["upper"]),
                "p": _p_text(r["p"])}
        if with_medians:
            med = lambda k: "" if r.get(k, "") in ("", None) else str(ds.round_half_up(r[k], 1))  # noqa: E731
            line = {"Analysis": r["label"], "LB, n": str(r.get("n_lb", "")), "L, n": str(r.get("n_l", "")),
                    "Median LB, months": med("median_lb"), "Median L, months": med("median_l"),
                    "Log-rank p": _p_text(r.get("logrank_p")), **{k: v for k, v in line.items() if k != "Analysis"}}
        out.append(line)
    return pd.DataFrame(out)


def balance_display(balance: pd.DataFrame) -> pd.DataFrame:
    fmt = lambda x: str(ds.round_half_up(float(x), 2))  # noqa: E731
    return pd.DataFrame({"Covariate": balance["label"], "SMD before matching": balance["smd_before"].map(fmt),
                         "SMD after matching": balance["smd_after"].map(fmt)})


def mayo_report(derived: pd.DataFrame, cohort: pd.DataFrame, balance: pd.DataFrame, summary: dict[str, Any],
                n_resections: int, plan: dict, blocks: list[dict], analysis: dict, matching: dict,
                variants: list[dict], settings: TableSettings) -> tuple[StudyReport, list[dict[str, Any]]]:
    """Numbers (tree under `mayo`) and tables of Study B, plus the effect estimates for the forest plot."""
    treated, control = matching["treated_group"], matching["control_group"]
    report = study_report(cohort, plan, blocks, analysis, settings)
    n = report.numbers
    in_group = derived["group"].value_counts()
    n["n_resections"] = n_resections
    n["pool"] = {"n_lb": int(in_group.get(treated, 0)), "n_l": int(in_group.get(control, 0)),
                 "n_other": n_resections - len(derived)}
    matched_counts = cohort["group"].value_counts()
    n["matched"] = {"n_lb": int(matched_counts.get(treated, 0)), "n_l": int(matched_counts.get(control, 0))}
    major_p, major_table = proportion_tests(cohort, "major_resection", "group", (treated, control))
    n.setdefault("major", {}).update(major_p)
    report.tables["major_resection"] = major_table

    cox_spec = plan["cox"]
    level = analysis["confidence_level"]
    cox_rows = effects.cox_models(cohort, cox_spec, list(matching["covariates"]), level)
    main = next(r for r in cox_rows if r["analysis"] == f"cox_unadjusted_{analysis['cox_ties']}")
    adjusted = next(r for r in cox_rows if r["analysis"] == f"cox_adjusted_{analysis['cox_ties']}")
    n["cox"] = {k: main[k] for k in ("hr", "lower", "upper", "p", "n", "events", "method")}
    n["cox_adjusted"] = {k: adjusted[k] for k in ("hr", "lower", "upper", "p", "method")}
    n["cox"]["ph_p"] = effects.ph_check(cohort, cox_spec)["p"]
    report.tables["cox"] = effects_table(cox_rows, with_medians=False)

    sens_rows = effects.sensitivity(derived, matching, variants, cox_spec, level)
    report.tables["sensitivity"] = effects_table(sens_rows, with_medians=True)
    report.tables["balance"] = balance_display(balance)
    n["matching"] = {k: summary[k] for k in ("ratio", "caliper_sd_logit", "sd_logit", "caliper_logit", "n_treated",
                                               "n_treated_matched", "n_controls_pool", "n_controls_matched",
                                               "n_treated_fewer_than_ratio", "max_abs_smd_before", "max_abs_smd_after")}
    return report, cox_rows + sens_rows
