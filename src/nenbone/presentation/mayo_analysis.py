"""The mayo design's analysis (rule analyse_mayo): the plan in the matched cohort and the matched comparison."""

from __future__ import annotations

from typing import Any

import pandas as pd

from nenbone.analysis import effects
from nenbone.analysis.plans import MEDIAN_CI_NAMES, curves_document
from nenbone.presentation.analyses import AnalysisSettings, StudyAnalysis, plan_numbers, plan_report
from nenbone.presentation.mayo_report import matched_tables


def analyse_mayo(derived: pd.DataFrame, matched: pd.DataFrame, scores: pd.DataFrame, balance: pd.DataFrame,
                 summary: dict[str, Any], n_rows: int, settings: AnalysisSettings, matching: dict[str, Any],
                 sensitivity: list[dict[str, Any]], imputation: dict[str, Any] | None = None,
                 labels: dict[str, str] | None = None) -> StudyAnalysis:
    """A mayo-design study in its matched cohort (the match rule's outputs): numbers, curves and tables of
    the plan, then the matched comparison (counts, tests of major resection, Cox, sensitivity analyses)."""
    cohort = effects.matched_cohort(derived, matched)
    numbers, curves = plan_numbers(cohort, settings)
    comparison = effects.matched_comparison(derived, cohort, summary, n_rows, settings.plan, settings.analysis,
                                            matching, sensitivity, scores, imputation, labels)
    report = plan_report(cohort, numbers, settings)
    report.numbers["median_ci_name"] = MEDIAN_CI_NAMES[settings.median_ci]
    for key, value in comparison["numbers"].items():
        if isinstance(value, dict) and isinstance(report.numbers.get(key), dict):
            report.numbers[key].update(value)
        else:
            report.numbers[key] = value
    report.tables.update(matched_tables(comparison, balance, settings.min_cell_count))
    ph_plot = settings.analysis["ph_plot"]
    schoenfeld = effects.schoenfeld_curves(cohort, settings.plan["cox"], list(matching["covariates"]),
                                           float(settings.analysis["at_risk_every_months"]),
                                           int(ph_plot["spline_df"]), float(ph_plot["band_se"]))
    return StudyAnalysis(schoenfeld=schoenfeld, numbers=report.numbers, curves=curves_document(numbers, curves, settings.median_ci),
                         tables=dict(report.tables),
                         effects=pd.DataFrame(comparison["cox_rows"] + comparison["sensitivity_rows"]),
                         protected=report.protected)
