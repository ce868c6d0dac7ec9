"""Counts, percentages and quantiles that a study's text quotes, from a block specification.

A block (config `plans.<study>.numbers`) is {key, where, group, count, flags, negated, categories,
quantiles}: rows are selected by `where`; `count` names the key under which the block's own n and
its % of all rows go; each flag column gives {n, pct} with pct of the rows where it is known (so a
definition's denominator lives in the derivation, not here); `negated` counts the False values;
`categories` gives {level: {n, pct}}; `quantiles` gives median and quartiles by SPSS's (n+1)p rule
and the range. With `group`, every flag is given per group level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from nenbone.analysis import descriptive as ds
from nenbone.analysis.plans import SelectionError, group_key, select_rows
from nenbone.errors import ConfigError


def flag_count(values: pd.Series, negate: bool = False) -> dict[str, Any]:
    """n and % of the known values that are True (False with negate)."""
    known = values.dropna().astype(bool)
    n = int((~known).sum() if negate else known.sum())
    d = int(len(known))
    return {"n": n, "pct": ds.count_percent(n, d).percent, "denominator_n": d}


def quantiles(values: pd.Series, prefix: str = "") -> dict[str, Any]:
    m = ds.median_iqr(values.astype(float).to_numpy())
    out = {"median": m.median, "q1": m.q1, "q3": m.q3, "min": m.minimum, "max": m.maximum, "n": m.n,
           "integer_valued": m.integer_valued}
    return {f"{prefix}{k}": v for k, v in out.items()}


def category_counts(values: pd.Series) -> dict[str, Any]:
    known = values.dropna().astype(str)
    return {group_key(level): {"n": int((known == level).sum()), "pct": ds.count_percent(int((known == level).sum()), len(known)).percent}
            for level in sorted(known.unique())}


def set_path(tree: dict[str, Any], dotted: str, value: Any) -> None:
    node = tree
    parts = [p for p in dotted.split(".") if p]
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    if parts:
        node[parts[-1]] = value
    else:
        tree.update(value)


def _flags(rows: pd.DataFrame, spec: dict[str, str], negate: bool, group: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, column in spec.items():
        if group is None:
            set_path(out, name, flag_count(rows[column], negate))
        else:
            set_path(out, name, {group_key(g): flag_count(part[column], negate)
                                 for g, part in rows.groupby(rows[group].astype(str), sort=True)})
    return out


def summarise_block(frame: pd.DataFrame, block: dict[str, Any]) -> dict[str, Any]:
    """The numbers of one block, nested under its dotted key names."""
    rows = select_rows(frame, block.get("where"), f"numbers block '{block.get('key', '')}'")
    group = block.get("group")
    out: dict[str, Any] = {}
    if block.get("count"):
        set_path(out, block["count"], {"n": len(rows), "pct": ds.count_percent(len(rows), len(frame)).percent})
    out.update(_flags(rows, block.get("flags") or {}, False, group))
    out.update(_flags(rows, block.get("negated") or {}, True, group))
    for name, column in (block.get("categories") or {}).items():
        set_path(out, name, category_counts(rows[column]))
    for name, column in (block.get("quantiles") or {}).items():
        set_path(out, name, quantiles(rows[column].dropna()))
    return out


def summarise(frame: pd.DataFrame, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """All blocks merged into one tree (a block's `key` is where its numbers go)."""
    tree: dict[str, Any] = {}
    for block in blocks:
        numbers = summarise_block(frame, block)
        if block.get("key"):
            set_path(tree, block["key"], numbers)
        else:
            tree.update(numbers)
    return tree


def study_numbers(frame: pd.DataFrame, plan: dict, number_blocks: list[dict], analysis: dict,
                  survival_frame: pd.DataFrame | None = None, median_ci: str = "loglog"
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """A study's numbers (summary blocks and every survival plan) and its Kaplan-Meier curves by plan."""
    from nenbone.analysis.plans import survival_results

    numbers = summarise(frame, number_blocks)
    surv_numbers, curves = survival_results(frame if survival_frame is None else survival_frame,
                                            plan.get("survival", []), analysis, median_ci)
    numbers.update(surv_numbers)
    return numbers, curves


@dataclass(frozen=True)
class BarItem:
    """One bar: a boolean column, its label, its section and which denominator it is a percentage of."""

    column: str
    label: str
    section: str
    denominator: str = "all"  # "all" (every patient shown) or the name of a boolean column (e.g. ever symptomatic)


def bar_counts(frame: pd.DataFrame, items: list[BarItem], id_col: str = "patient_id") -> pd.DataFrame:
    """n, denominator and % per item over its denominator rows; a missing value among them is an error.

    Values outside an item's denominator (e.g. <NA> for never-symptomatic patients when the
    denominator is the ever symptomatic) are not looked at.
    """
    def ids(rows: pd.DataFrame, mask: Any) -> str:
        return ", ".join(rows.loc[mask, id_col].astype(str)) if id_col in rows.columns else str(list(rows.index[mask]))

    cols = sorted({i.column for i in items} | {i.denominator for i in items if i.denominator != "all"})
    absent = [c for c in cols if c not in frame.columns]
    if absent:
        raise ConfigError(f"bar counts: columns not in the data: {', '.join(absent)}")
    problems, rows = [], []
    for item in items:
        if item.denominator == "all":
            base = frame
        else:
            flag = frame[item.denominator]
            if flag.isna().any():
                problems.append(f"denominator '{item.denominator}' missing for patient(s) {ids(frame, flag.isna().to_numpy())}")
                continue
            base = frame.loc[flag.astype(bool).to_numpy()]
        miss = base[item.column].isna().to_numpy()
        if miss.any():
            problems.append(f"'{item.column}' missing for patient(s) {ids(base, miss)}")
            continue
        n, d = int(base[item.column].astype(bool).sum()), len(base)
        rows.append({"column": item.column, "label": item.label, "section": item.section, "n": n,
                     "denominator": d, "denominator_kind": item.denominator,
                     "percent": 100.0 * n / d if d else float("nan")})
    if problems:
        raise SelectionError("bar counts: " + "; ".join(problems))
    return pd.DataFrame(rows, columns=["column", "label", "section", "n", "denominator", "denominator_kind", "percent"])


def descriptive_tables(frame: pd.DataFrame, specs: dict[str, dict], chi_square_correction: bool
                       ) -> dict[str, ds.Description]:
    """The numbers of every descriptive table of a plan (config plans.<design>.tables), by table name."""
    return {name: ds.describe(select_rows(frame, spec.get("where"), f"table '{name}'"), spec["rows"],
                              chi_square_correction, group=spec.get("group"), group_labels=spec.get("group_labels"))
            for name, spec in specs.items()}
