"""A study's numbers and tables from its derived data and its analysis plan (config/analysis.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nenbone.analysis import descriptive as ds
from nenbone.analysis.plans import KM_CONVENTIONS, run_survival_plan, select_rows
from nenbone.analysis.summaries import summarise
from nenbone.presentation.tables import TableSettings, describe, survival_table


@dataclass
class StudyReport:
    numbers: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # name -> table (captioned by the supplement)


def conventions(settings: TableSettings) -> dict[str, str]:
    """The name of every convention a number in this study was produced with."""
    return {
        **KM_CONVENTIONS,
        "percentiles": ds.PERCENTILE_METHOD,
        "chi_square": "Pearson chi-square" + (" with Yates' continuity correction (2x2)" if settings.chi_square_correction
                                             else " without continuity correction (as SPSS prints)"),
        "mann_whitney": "Mann-Whitney U, normal approximation with tie correction (as SPSS)",
    }


def descriptive_tables(frame: pd.DataFrame, specs: dict[str, dict], settings: TableSettings) -> dict[str, pd.DataFrame]:
    out = {}
    for name, spec in specs.items():
        rows = select_rows(frame, spec.get("where"), f"table '{name}'")
        out[name] = describe(rows, spec["rows"], settings, group=spec.get("group"), group_labels=spec.get("group_labels"))
    return out


def survival_results(frame: pd.DataFrame, plans: list[dict], analysis: dict) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every survival plan's numbers (keyed by plan name) and its curves (for figures)."""
    numbers, curves = {}, {}
    for plan in plans:
        numbers[plan["name"]], curves[plan["name"]] = run_survival_plan(
            frame, plan, level=analysis["confidence_level"], at_risk_times=list(analysis["at_risk_times_months"]))
    return numbers, curves


def study_report(frame: pd.DataFrame, plan: dict, number_blocks: list[dict], analysis: dict,
                 settings: TableSettings, survival_frame: pd.DataFrame | None = None) -> StudyReport:
    """Numbers (summary blocks + survival) and tables (descriptive + survival) of one study."""
    report = StudyReport()
    report.numbers.update(summarise(frame, number_blocks))
    surv_numbers, _ = survival_results(frame if survival_frame is None else survival_frame, plan.get("survival", []), analysis)
    report.numbers.update(surv_numbers)
    report.numbers["conventions"] = conventions(settings)
    report.tables.update(descriptive_tables(frame, plan.get("tables", {}), settings))
    if surv_numbers:
        report.tables["survival"] = survival_table(list(surv_numbers.values()), settings.min_cell_count)
    return report
