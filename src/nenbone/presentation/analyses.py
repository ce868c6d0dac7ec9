"""Each design's analysis, from its derived data to the numbers, curves and tables its rule writes.

The sequence study numbers -> descriptive tables -> study report (and, for a matched design, the matched
comparison and its tables) is written once, one module a design (`christie_analysis.analyse_christie`,
`mayo_analysis.analyse_mayo`, so a rule's code digest covers only its own design); this module holds
what they share. The rules' scripts (scripts/analyse_<design>.py) only read their inputs, call
`analyse_<design>` and write what it returns, and the tests call the same functions. It sits at the
presentation layer because the tables are printed (`study_report`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nenbone.analysis.plans import group_key
from nenbone.analysis.summaries import descriptive_tables, study_numbers
from nenbone.presentation.protection import at_risk_register, protected_cells
from nenbone.presentation.study_report import StudyReport, study_report
from nenbone.presentation.tables import TableSettings


@dataclass(frozen=True)
class StudyAnalysis:
    """One study's analysis results, as results/analysis/<study>* and its tables hold them."""

    numbers: dict[str, Any]  # results/analysis/<study>.json (before to_plain)
    curves: dict[str, Any]  # results/analysis/<study>.curves.json (before to_plain)
    tables: dict[str, pd.DataFrame]  # results/tables/<study>_<table>.csv
    effects: pd.DataFrame | None = None  # results/analysis/<study>_effects.csv (matched designs)
    management: pd.DataFrame | None = None  # results/analysis/<study>_management.csv (when asked for)
    schoenfeld: dict[str, Any] | None = None  # results/analysis/<study>.schoenfeld.json (designs with Cox models)
    protected: dict[str, Any] = field(default_factory=dict)  # results/analysis/<study>.protected.json


@dataclass(frozen=True)
class AnalysisSettings:
    """The settings every design's analysis takes (the rule's params)."""

    plan: dict[str, Any]  # config/analysis.yaml plans.<design>
    numbers: list[dict[str, Any]]  # config/analysis.yaml numbers.<design>
    analysis: dict[str, Any]  # config analysis: (confidence level, chi-square correction, ...)
    median_ci: str  # the study's interval of the median
    min_cell_count: int  # disclosure threshold of the tables

    @property
    def tables(self) -> TableSettings:
        return TableSettings(self.analysis["chi_square_correction"], self.min_cell_count)


def plan_numbers(cohort: pd.DataFrame, s: AnalysisSettings) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the plan's numbers, its Kaplan-Meier curves) of `cohort`."""
    return study_numbers(cohort, s.plan, s.numbers, s.analysis, median_ci=s.median_ci)


def plan_report(cohort: pd.DataFrame, numbers: dict[str, Any], s: AnalysisSettings) -> StudyReport:
    """The study report: `numbers` beside the descriptive and survival tables of `cohort`."""
    descriptions = descriptive_tables(cohort, s.plan.get("tables", {}), s.tables.chi_square_correction)
    levels_of = lambda column: level_keys(cohort, column)  # noqa: E731
    register = protected_cells(s.plan.get("tables", {}), descriptions, s.numbers, numbers, levels_of,
                               s.min_cell_count)
    register.at_risk = at_risk_register(s.plan.get("survival", []), numbers, levels_of, s.min_cell_count)
    return study_report(s.plan, numbers, descriptions, s.tables, s.median_ci, s.analysis["confidence_level"],
                        register)


def level_keys(cohort: pd.DataFrame, column: str) -> dict[str, str]:
    """A column's levels by their numbers.yml key (analysis.plans.group_key): {'lb': 'LB'}."""
    return {group_key(level): str(level) for level in cohort[column].dropna().astype(str).unique()}
