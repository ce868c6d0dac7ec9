"""A study's tables from its derived data, its analysis plan (config/analysis.yaml) and the numbers
the analysis computed (`nenbone.analysis.summaries.study_numbers`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nenbone.analysis import descriptive as ds
from nenbone.analysis.plans import KM_CONVENTIONS, select_rows
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


def study_report(frame: pd.DataFrame, plan: dict, numbers: dict[str, Any], settings: TableSettings) -> StudyReport:
    """Tables (descriptive + survival) of one study beside its numbers and their conventions."""
    report = StudyReport(numbers=dict(numbers))
    report.numbers["conventions"] = conventions(settings)
    report.tables.update(descriptive_tables(frame, plan.get("tables", {}), settings))
    surv = [numbers[p["name"]] for p in plan.get("survival", [])]
    if surv:
        report.tables["survival"] = survival_table(surv)
    return report
