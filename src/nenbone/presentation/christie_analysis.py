"""The christie design's analysis (rule analyse_christie): numbers, curves, tables and management counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from nenbone.analysis.missing_data import missing_by_analysis
from nenbone.analysis.plans import MEDIAN_CI_NAMES, curves_document, select_rows
from nenbone.analysis.summaries import BarItem, bar_counts
from nenbone.presentation.analyses import AnalysisSettings, StudyAnalysis, plan_numbers, plan_report


def management_counts(derived: pd.DataFrame, management: Mapping[str, Any], who: str) -> pd.DataFrame:
    """The management bar counts: `management` = {where, items, denominator_column} (the rule's params)."""
    configured = management["denominator_column"]
    items = [BarItem(i["column"], i["label"], i["section"], configured if i["denominator"] == "config" else i["denominator"])
             for i in management["items"]]
    return bar_counts(select_rows(derived, dict(management["where"]), f"{who} management counts"), items)


def analyse_christie(derived: pd.DataFrame, n_rows: int, settings: AnalysisSettings,
                     management: Mapping[str, Any] | None = None, who: str = "",
                     attrition: Mapping[str, Any] | None = None) -> StudyAnalysis:
    """A christie-design study: numbers (with the screened/eligible counts of `n_rows` exported rows),
    Kaplan-Meier curves, descriptive and survival tables, missing data by analysis (with the derivation's
    `attrition` record of patients kept without a grade), and the management counts when asked for."""
    computed, curves = plan_numbers(derived, settings)
    report = plan_report(derived, computed, settings)
    numbers = {"n_screened": n_rows, "n_eligible": len(derived), "n_excluded": n_rows - len(derived),
               **report.numbers, "median_ci_name": MEDIAN_CI_NAMES[settings.median_ci],
               "missing_data": {**missing_by_analysis(derived, settings.plan.get("tables", {}),
                                                      settings.plan.get("survival", [])),
                                "kept_unknown_grade": (attrition or {}).get("kept_unknown_grade", [])}}
    counts = management_counts(derived, management, who) if management is not None else None
    return StudyAnalysis(numbers=numbers, curves=curves_document(numbers, curves, settings.median_ci),
                         tables=dict(report.tables), management=counts,
                         protected=report.protected)
