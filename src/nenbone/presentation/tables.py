"""Descriptive tables printed from the analysis' numbers (`nenbone.analysis.descriptive.describe`):
n (%), median (IQR), and the test used, named; small cells suppressed (disclosure control).

A table spec (from config) lists rows: {variable, label, kind: continuous | binary | categorical,
levels (categorical, optional order), denominator (binary, optional: a boolean column that
restricts the denominator)}. Groups are the levels of one column; with no group column the table
has a single "All" column and no tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from nenbone.formatting import count_percent_text, count_text, interval_text, number_text, p_text, quantile_text

if TYPE_CHECKING:  # types only: the numbers come from the analysis (nenbone.analysis.descriptive.describe)
    from nenbone.analysis import descriptive as ds

SUPPRESSED = "<{k}"


@dataclass(frozen=True)
class TableSettings:
    """Conventions for every table: SPSS percentiles; chi-square with or without Yates; disclosure."""

    chi_square_correction: bool = False
    min_cell_count: int = 0


def suppress(n: int, settings: TableSettings) -> bool:
    """Small cells (0 < n < threshold) are hidden in outputs of real data (disclosure control)."""
    return 0 < n < settings.min_cell_count


def count_cell(n: int, d: int, settings: TableSettings, group_n: int | None = None) -> str:
    """'n (p%)'; 'n/d (p%)' when the denominator d is not the column's n (values missing or a subgroup)."""
    if suppress(n, settings):
        return SUPPRESSED.format(k=settings.min_cell_count)
    text = count_percent_text(n, d)
    if group_n is not None and d != group_n:
        return text.replace(f"{n} (", f"{n}/{d} (", 1)
    return text


def median_iqr_cell(m: ds.MedianIQR, whole: bool = False) -> str:
    if m.n == 0:
        return "-"
    def num(x: float | None) -> str:
        return quantile_text(x, m.integer_valued, whole=whole)
    return f"{num(m.median)} ({num(m.q1)}–{num(m.q3)})"


def cell_text(cell: ds.Cell, settings: TableSettings, group_n: int | None = None) -> str:
    if cell.kind == "count":
        return count_cell(cell.n, cell.d, settings, group_n)
    if cell.kind == "missing":
        return count_text(cell.n, settings.min_cell_count)
    if cell.kind == "median_iqr" and cell.summary is not None:
        return median_iqr_cell(cell.summary, cell.whole)
    return ""


def describe_table(description: ds.Description, settings: TableSettings) -> pd.DataFrame:
    """A descriptive table as printed: one line per row (and level), a column per group, p and test."""
    headers = [f"{name} (n = {n})" for name, n in description.groups]
    table = pd.DataFrame([
        {"Characteristic": r.label, "Level": r.level,
         **dict(zip(headers, (cell_text(c, settings, n) for c, (_, n) in zip(r.cells, description.groups)))),
         "p": p_text(r.test.p) if r.test else "", "Test": r.test.test if r.test else ""}
        for r in description.rows])
    if not description.grouped:
        table = table.drop(columns=["p", "Test"])
    if (table["Level"] == "").all():
        table = table.drop(columns=["Level"])
    return table


def to_markdown(table: pd.DataFrame) -> str:
    """A pipe table pandoc reads (no tabulate dependency); '|' in cells is escaped."""
    cols = [str(c) for c in table.columns]
    esc = lambda x: str(x).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(esc(c) for c in cols) + " |", "|" + "|".join(["---"] * len(cols)) + "|"]
    lines += ["| " + " | ".join(esc(v) for v in row) + " |" for row in table.astype(str).itertuples(index=False)]
    return "\n".join(lines) + "\n"


def write_table(table: pd.DataFrame, csv_path: str | Path, md_path: str | Path) -> None:
    """The same table as CSV (for reuse) and as a bare markdown pipe table (the supplement captions it)."""
    from nenbone.io.files import write_csv, write_text_atomic

    write_csv(table, csv_path)
    write_text_atomic(to_markdown(table), md_path)


MEDIAN_CI_LABELS = {"spss": "SPSS", "loglog": "log-log"}  # the interval conventions by short name


def survival_table(results: list[dict[str, Any]], median_ci: str = "loglog", level: float = 0.95) -> pd.DataFrame:
    """One line per Kaplan-Meier curve: n, events, median with the study's interval (`median_ci`), log-rank p."""
    ci_header = f"{round(100 * level)}% CI ({MEDIAN_CI_LABELS[median_ci]})"
    rows = []
    for res in results:
        curves = [(k, v) for k, v in res.items() if isinstance(v, dict) and "median" in v]
        if not curves:
            curves = [("", res)]
        for i, (key, km) in enumerate(curves):
            median = km["median"]
            rows.append({
                "Analysis": res["label"] if i == 0 else "",
                "Group": km.get("group_label", key),
                "n": str(km["n"]),
                "Events": str(km["events"]),
                "Median, months": number_text(median, 1),
                ci_header: interval_text(km["ci_lower"], km["ci_upper"]),
                "Log-rank p": p_text(res.get("logrank_p")) if i == 0 else "",
            })
    table = pd.DataFrame(rows)
    if (table["Group"] == "").all():
        table = table.drop(columns=["Group"])
    if (table["Log-rank p"] == "").all():
        table = table.drop(columns=["Log-rank p"])
    return table


def write_tables(tables: dict[str, pd.DataFrame], names: list[str], csv_paths: list[str],
                 md_paths: list[str]) -> None:
    """Write each named table to its CSV and markdown path; the names must be exactly the tables made."""
    if sorted(tables) != sorted(names):
        from nenbone.errors import ConfigError

        raise ConfigError(f"tables made {sorted(tables)} differ from the tables the rule declares {sorted(names)}")
    for name, csv, md in zip(names, csv_paths, md_paths):
        write_table(tables[name], csv, md)
