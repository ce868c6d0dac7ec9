"""A study's tables, printed from what the analysis computed (`nenbone.analysis.summaries`: numbers,
survival plans and descriptive tables) under its analysis plan (config/analysis.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nenbone.analysis import descriptive as ds
from nenbone.analysis.plans import KM_CONVENTIONS
from nenbone.presentation.protection import Register
from nenbone.presentation.tables import TableSettings, describe_table, survival_table


@dataclass
class StudyReport:
    numbers: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # name -> table (captioned by the supplement)
    protected: dict[str, Any] = field(default_factory=dict)  # the register (protection.Register.document)


def conventions(settings: TableSettings) -> dict[str, str]:
    """The name of every convention a number in this study was produced with."""
    return {
        **KM_CONVENTIONS,
        "percentiles": ds.PERCENTILE_METHOD,
        "chi_square": "Pearson chi-square" + (" with Yates' continuity correction (2x2)" if settings.chi_square_correction
                                             else " without continuity correction (as SPSS prints)"),
        "mann_whitney": "Mann-Whitney U, normal approximation with tie correction (as SPSS)",
    }


def study_report(plan: dict, numbers: dict[str, Any], descriptions: dict[str, ds.Description],
                 settings: TableSettings, median_ci: str = "loglog", level: float = 0.95,
                 register: Register | None = None) -> StudyReport:
    """Tables (descriptive + survival) of one study beside its numbers and their conventions; the
    descriptive tables hide what the study's `register` of protected cells hides (presentation.protection)."""
    register = register or Register()
    report = StudyReport(numbers=dict(numbers), protected=register.document())
    report.numbers["conventions"] = conventions(settings)
    report.tables.update({name: describe_table(d, settings, register.tables.get(name))
                          for name, d in descriptions.items()})
    surv = [numbers[p["name"]] for p in plan.get("survival", [])]
    if surv:
        report.tables["survival"] = survival_table(surv, median_ci, level, settings.min_cell_count)
    return report
