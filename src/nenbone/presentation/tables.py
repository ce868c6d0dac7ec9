"""Descriptive tables printed from the analysis' numbers (`nenbone.analysis.descriptive.describe`):
n (%), median (IQR), and the test used, named; small cells suppressed (disclosure control).

A table spec (from config) lists rows: {variable, label, kind: continuous | binary | categorical,
levels (categorical, optional order), denominator (binary, optional: a boolean column that
restricts the denominator)}. Groups are the levels of one column; with no group column the table
has a single "All" column and no tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from nenbone.formatting import count_percent_text, count_text, interval_text, number_text, p_text, quantile_text
from nenbone.presentation import disclosure as dc

if TYPE_CHECKING:  # types only: the numbers come from the analysis (nenbone.analysis.descriptive.describe)
    from nenbone.analysis import descriptive as ds



@dataclass(frozen=True)
class TableSettings:
    """Conventions for every table: SPSS percentiles; chi-square with or without Yates; disclosure."""

    chi_square_correction: bool = False
    min_cell_count: int = 0


def suppress(n: int, settings: TableSettings) -> bool:
    """Small cells (0 < n < threshold) are hidden in outputs of real data (disclosure control)."""
    return dc.is_small(n, settings.min_cell_count)


def count_cell(n: int, d: int, settings: TableSettings, group_n: int | None = None,
               hidden: bool | None = None, bare: bool = False) -> str:
    """'n (p%)'; 'n/d (p%)' when the denominator d is not the column's n (values missing or a subgroup);
    or what a hidden cell shows (`hidden` from complementary suppression; default: hidden when small);
    'n (–)' when d and the percentage would give a hidden count away (`bare`, `cell_plan`)."""
    if hidden is None:
        hidden = suppress(n, settings)
    if hidden:
        return dc.hidden_text(n, settings.min_cell_count)
    if bare:
        return f"{n} ({dc.SUPPRESSED_PCT})"
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


def cell_text(cell: ds.Cell, settings: TableSettings, group_n: int | None = None,
              hidden: bool | None = None, bare: bool = False) -> str:
    if cell.kind == "count":
        return count_cell(cell.n, cell.d, settings, group_n, hidden, bare)
    if cell.kind == "missing":
        return dc.hidden_text(cell.n, settings.min_cell_count) if hidden else count_text(cell.n, settings.min_cell_count)
    if cell.kind == "median_iqr" and cell.summary is not None:
        if not dc.summary_shown(cell.summary.n, settings.min_cell_count):  # a median of < k patients is theirs
            return dc.SUPPRESSED_VALUE
        return median_iqr_cell(cell.summary, cell.whole)
    return ""


def hidden_cells(description: ds.Description, k: int) -> list[list[bool]]:
    """Which count cells to hide (disclosure control), row by row and column by column (`cell_plan`)."""
    return cell_plan(description, k)[0]


def _blocks(rows: list[ds.DescribedRow]) -> list[tuple[int | None, list[int], int | None]]:
    """Each variable's rows: (yes/no row or None, level rows, its Missing row or None), by index."""
    out, i = [], 0
    while i < len(rows):
        r = rows[i]
        levels, binary = [], None
        if r.level == "" and all(c.kind == "blank" for c in r.cells):
            j = i + 1
            while j < len(rows) and rows[j].level != "" and rows[j].label == "" and rows[j].cells[0].kind == "count":
                levels.append(j)
                j += 1
        elif any(c.kind == "count" for c in r.cells):
            binary, j = i, i + 1
        else:
            j = i + 1
        missing = j if j < len(rows) and rows[j].cells and rows[j].cells[0].kind == "missing" else None
        out.append((binary, levels, missing))
        i = (missing if missing is not None else j - 1) + 1
    return out


def cell_plan(description: ds.Description, k: int) -> tuple[list[list[bool]], list[list[bool]]]:
    """Which count cells to hide, and which to print bare ('n (–)': no denominator, no percentage).

    Relations a reader can use, per variable and column (N the column's n in its header, d the
    denominator printed as 'n/d' when values are missing): the levels (or a yes/no count and its
    unprinted complement) add up to d; d, the Missing count and those outside a restricted
    denominator add up to N. The levels are protected against d (complementary suppression); when
    the Missing count (or the part outside the denominator) is small, d would give it away (N - d):
    the column's cells of that variable print bare, and the levels and Missing count are protected
    against N as well (the unprinted complement of a bare yes/no count is unknown then). The percentage
    goes with d: it would give d back (n / p)."""
    rows = description.rows
    hidden = [[c.kind in ("count", "missing") and dc.is_small(c.n, k) for c in r.cells] for r in rows]
    bare = [[False] * len(r.cells) for r in rows]
    for binary, levels, missing in _blocks(rows):
        counted = [binary] if binary is not None else levels
        if not counted:
            continue
        for col, (_, n_col) in enumerate(description.groups):
            cells = [rows[j].cells[col] for j in counted]
            counts = [int(c.n) for c in cells]
            d = int(cells[0].d)
            miss = int(rows[missing].cells[col].n) if missing is not None else 0
            outside = int(n_col) - d - miss
            rest = d - sum(counts)  # the complement of a yes/no count; levels not listed
            flags = dc.protect_cells([*counts, rest], k, shown=[True] * len(counts) + [False])
            if k > 1 and d != int(n_col) and (dc.is_small(miss, k) or dc.is_small(outside, k)):
                for j in counted:
                    bare[j][col] = True
                flags = dc.protect_cells([*counts, rest, miss, outside], k,
                                         shown=[True] * len(counts) + [False, missing is not None, False],
                                         already=[*flags[:-1], flags[-1] or rest > 0, False, False])
                if missing is not None:
                    hidden[missing][col] = flags[len(counts) + 1]
            for j, flag in zip(counted, flags):
                hidden[j][col] = flag
    return hidden, bare


def describe_table(description: ds.Description, settings: TableSettings,
                   protected: Mapping[tuple[int, int], tuple[bool, bool]] | None = None) -> pd.DataFrame:
    """A descriptive table as printed: one line per row (and level), a column per group, p and test;
    small counts, and counts that would give them away, hidden (`hidden_cells`); `protected` adds, by
    (row, column), what the study's register hides (hidden, bare) (presentation.protection)."""
    headers = [f"{name} (n = {n})" for name, n in description.groups]
    hidden, bare = cell_plan(description, settings.min_cell_count)
    for (row, col), (hide, no_denominator) in (protected or {}).items():
        hidden[row][col] = hidden[row][col] or hide
        bare[row][col] = bare[row][col] or no_denominator
    table = pd.DataFrame([
        {"Characteristic": r.label, "Level": r.level,
         **dict(zip(headers, (cell_text(c, settings, n, h, b)
                              for c, (_, n), h, b in zip(r.cells, description.groups, flags, bares)))),
         "p": p_text(r.test.p) if r.test else "", "Test": r.test.test if r.test else ""}
        for r, flags, bares in zip(description.rows, hidden, bare)])
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


def survival_table(results: list[dict[str, Any]], median_ci: str = "loglog", level: float = 0.95,
                   min_cell_count: int = 0) -> pd.DataFrame:
    """One line per Kaplan-Meier curve: n, events, median with the study's interval (`median_ci`), log-rank p.

    With `min_cell_count`, a small n or number of events is hidden, and so are events whose
    censored remainder (n - events) is small, a curve's n that the selection's size would give
    away, and the median and its interval of a curve of fewer than k patients (disclosure control)."""
    ci_header = f"{round(100 * level)}% CI ({MEDIAN_CI_LABELS[median_ci]})"
    rows = []
    for res in results:
        curves = [(k, v) for k, v in res.items() if isinstance(v, dict) and "median" in v]
        if not curves:
            curves = [("", res)]
        sizes = [int(km["n"]) for _, km in curves]
        if res.get("n_selected") is not None:  # the curves split a selection of known size
            cells = [*sizes, int(res["n_selected"]) - sum(sizes)]
            hidden_n = dc.protect_cells(cells, min_cell_count, shown=[True] * len(sizes) + [False])[:-1]
        else:
            hidden_n = [dc.is_small(n, min_cell_count) for n in sizes]
        for i, (key, km) in enumerate(curves):
            median = km["median"]
            n, events = int(km["n"]), int(km["events"])
            events_text = dc.cell_texts([events, n - events], min_cell_count, shown=[True, False])[0]
            summary = dc.summary_shown(n, min_cell_count)  # a median of fewer than k patients is one of theirs
            rows.append({
                "Analysis": res["label"] if i == 0 else "",
                "Group": km.get("group_label", key),
                "n": dc.hidden_text(n, min_cell_count) if hidden_n[i] else str(n),
                "Events": dc.hidden_text(events, min_cell_count) if hidden_n[i] else events_text,
                "Median, months": number_text(median, 1) if summary else dc.SUPPRESSED_VALUE,
                ci_header: interval_text(km["ci_lower"], km["ci_upper"]) if summary else dc.SUPPRESSED_VALUE,
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
