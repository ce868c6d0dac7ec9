"""Descriptive tables from a row specification: n (%), median (IQR), and the test used, named.

A table spec (from config) lists rows: {variable, label, kind: continuous | binary | categorical,
levels (categorical, optional order), denominator (binary, optional: a boolean column that
restricts the denominator)}. Groups are the levels of one column; with no group column the table
has a single "All" column and no tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nenbone.analysis import descriptive as ds
from nenbone.presentation import disclosure as dc



@dataclass(frozen=True)
class TableSettings:
    """Conventions for every table: SPSS percentiles; chi-square with or without Yates; disclosure."""

    chi_square_correction: bool = False
    min_cell_count: int = 0


def suppress(n: int, settings: TableSettings) -> bool:
    """Small cells (0 < n < threshold) are hidden in outputs of real data (disclosure control)."""
    return dc.is_small(n, settings.min_cell_count)


def count_cell(n: int, d: int, settings: TableSettings, hidden: bool | None = None) -> str:
    """'n (%)', or what a hidden cell shows; `hidden` comes from complementary suppression (default:
    hidden when small)."""
    if hidden is None:
        hidden = suppress(n, settings)
    if hidden:
        return dc.hidden_text(n, settings.min_cell_count)
    return ds.count_percent(n, d).text


def median_iqr_cell(values: pd.Series) -> str:
    m = ds.median_iqr(values.astype(float).to_numpy())
    if m.n == 0:
        return "-"
    return f"{_num(m.median)} ({_num(m.q1)}–{_num(m.q3)})"


def _num(x: float) -> str:
    return str(ds.round_half_up(x, 1)).removesuffix(".0") if float(x).is_integer() else str(ds.round_half_up(x, 1))


def _p_text(p: float | None) -> str:
    """A p-value as the text prints it (numbers.format_p); empty where there is none."""
    from nenbone.presentation.numbers import format_p

    return "" if p is None or not np.isfinite(p) else format_p(float(p))


def _as_bool(s: pd.Series) -> pd.Series:
    return s.astype("boolean")


def _chi2_test(table: np.ndarray, settings: TableSettings) -> ds.TestResult | None:
    keep = table[:, table.sum(axis=0) > 0]
    keep = keep[keep.sum(axis=1) > 0]
    if keep.shape[0] < 2 or keep.shape[1] < 2:
        return None
    correction = settings.chi_square_correction and keep.shape == (2, 2)
    return ds.pearson_chi2(keep, correction=correction)


def _row(label: str, cells: list[str], test: ds.TestResult | None, level: str = "") -> dict[str, Any]:
    return {"label": label, "level": level, "cells": cells,
            "p": _p_text(test.p) if test else "", "test": test.test if test else ""}


def continuous_rows(frame: pd.DataFrame, spec: dict, groups: list[tuple[str, pd.Series]], settings: TableSettings) -> list[dict]:
    var = spec["variable"]
    cells = [median_iqr_cell(frame.loc[mask, var].dropna()) for _, mask in groups]
    test = None
    if len(groups) == 2:
        a, b = (frame.loc[m, var].dropna().astype(float) for _, m in groups)
        if len(a) and len(b):
            test = ds.mann_whitney(a.to_numpy(), b.to_numpy())
    return [_row(f"{spec['label']}, median (IQR)", cells, test)]


def binary_rows(frame: pd.DataFrame, spec: dict, groups: list[tuple[str, pd.Series]], settings: TableSettings) -> list[dict]:
    var = spec["variable"]
    denom = _as_bool(frame[spec["denominator"]]).fillna(False) if spec.get("denominator") else pd.Series(True, index=frame.index)
    values = _as_bool(frame[var])
    counts = []
    cells = []
    for _, mask in groups:
        known = mask & denom & values.notna()
        n = int((values[known] == True).sum())  # noqa: E712
        d = int(known.sum())
        counts.append((n, d - n))
        # the percentage gives d away, and with it d - n: a small complement hides n as well
        hidden = dc.protect_cells([n, d - n], settings.min_cell_count, shown=[True, False])[0]
        cells.append(count_cell(n, d, settings, hidden))
    test = _chi2_test(np.array(counts).T, settings) if len(groups) >= 2 else None
    return [_row(spec["label"] + ", n (%)", cells, test)]


def categorical_rows(frame: pd.DataFrame, spec: dict, groups: list[tuple[str, pd.Series]], settings: TableSettings) -> list[dict]:
    var = spec["variable"]
    values = frame[var].astype("string")
    levels = [str(x) for x in spec.get("levels") or sorted(values.dropna().unique())]
    table = np.array([[int(((values == lev) & mask).sum()) for _, mask in groups] for lev in levels])
    totals = [int((values.notna() & mask).sum()) for _, mask in groups]
    test = _chi2_test(table, settings) if len(groups) >= 2 else None
    rows = [_row(spec["label"] + ", n (%)", [""] * len(groups), test)]
    labels = spec.get("level_labels") or {}
    # each column's levels and its unprinted remainder (missing, other levels) add up to the n in
    # the column's header: complementary suppression within the column
    hidden = np.zeros(table.shape, dtype=bool)
    for j, (_, mask) in enumerate(groups):
        column = [int(n) for n in table[:, j]] + [int(mask.sum()) - int(table[:, j].sum())]
        flags = dc.protect_cells(column, settings.min_cell_count, shown=[True] * len(levels) + [False])
        hidden[:, j] = flags[:-1]
    for i, (lev, counts) in enumerate(zip(levels, table)):
        cells = [count_cell(int(n), d, settings, bool(hidden[i, j])) for j, (n, d) in enumerate(zip(counts, totals))]
        rows.append(_row("", cells, None, level=labels.get(lev, lev)))
    return rows


ROW_BUILDERS = {"continuous": continuous_rows, "binary": binary_rows, "categorical": categorical_rows}


def describe(frame: pd.DataFrame, rows: list[dict], settings: TableSettings, group: str | None = None,
             group_labels: dict[str, str] | None = None) -> pd.DataFrame:
    """A descriptive table: one line per row spec (and per level), a column per group, p and test."""
    if group is None:
        groups = [("All", pd.Series(True, index=frame.index))]
    else:
        labels = group_labels or {}
        keys = list(labels) if labels else sorted(frame[group].dropna().astype(str).unique())
        groups = [(labels.get(k, k), frame[group].astype("string") == k) for k in keys]
        groups = [(name, mask.fillna(False).astype(bool)) for name, mask in groups]
    out = []
    for spec in rows:
        out.extend(ROW_BUILDERS[spec["kind"]](frame, spec, groups, settings))
    headers = [f"{name} (n = {int(mask.sum())})" for name, mask in groups]
    table = pd.DataFrame(
        [{"Characteristic": r["label"], "Level": r["level"], **dict(zip(headers, r["cells"])), "p": r["p"], "Test": r["test"]} for r in out]
    )
    if group is None:
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
    Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(csv_path, index=False, lineterminator="\n")
    Path(md_path).write_text(to_markdown(table), encoding="utf-8")


def _ci_text(lower: float | None, upper: float | None) -> str:
    if lower is None and upper is None:
        return "-"
    fmt = lambda x: "not reached" if x is None else str(ds.round_half_up(x, 1))  # noqa: E731
    return f"{fmt(lower)}–{fmt(upper)}"


def survival_table(results: list[dict[str, Any]], min_cell_count: int = 0) -> pd.DataFrame:
    """One line per Kaplan-Meier curve: n, events, median with both CIs, and the log-rank p.

    With `min_cell_count`, a small n or number of events is hidden, and so are events whose
    censored remainder (n - events) is small (disclosure control)."""
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
            rows.append({
                "Analysis": res["label"] if i == 0 else "",
                "Group": km.get("group_label", key),
                "n": dc.hidden_text(n, min_cell_count) if hidden_n[i] else str(n),
                "Events": dc.hidden_text(events, min_cell_count) if hidden_n[i] else events_text,
                "Median, months": "not reached" if median is None else str(ds.round_half_up(median, 1)),
                "95% CI (log-log)": _ci_text(km["ci_loglog_lower"], km["ci_loglog_upper"]),
                "95% CI (SPSS, ±1.96 SE)": _ci_text(km["ci_spss_lower"], km["ci_spss_upper"]),
                "Log-rank p": _p_text(res.get("logrank_p")) if i == 0 else "",
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
