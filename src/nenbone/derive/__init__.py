"""Derivation of each study's analysis variables from the clean (validated) data.

Each design's module exposes `derive(clean, settings, days_per_month, codebook) -> DataFrame`,
`attrition(clean, settings, codebook) -> dict` (who was excluded, by reason) and `NEEDS` (the
meanings it asks the codebook for, checked before a run). The definitions of the derived variables
are written once, in the study's codebook (`derived:` section); raw codes are never held here: a
derivation asks the codebook which code means dead, yes, male, bilobar...
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd


def design_module(design: str) -> ModuleType:
    """The derivation module of a design (derive, attrition, NEEDS, REQUIRED, GROUPED)."""
    return importlib.import_module(f"nenbone.derive.{design}")


def code_key(value: Any) -> Any:
    """A clean cell as a codebook code: 2.0 -> 2, text stays text."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "item") and not isinstance(value, str):
        return code_key(value.item())
    return value


def _per_code(values: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """(row -> index of its distinct value, -1 where missing; the distinct values as codebook codes).

    Each distinct cell is turned into a code once (not once per row): at registry scale a column of
    10^6 cells has a handful of codes.
    """
    rows, distinct = pd.factorize(values, use_na_sentinel=True)
    return rows, [code_key(v) for v in distinct]


def code_keys(values: pd.Series) -> pd.Series:
    """Every cell as a codebook code (`code_key`), <NA> where missing (object dtype)."""
    rows, keys = _per_code(values)
    table = np.empty(len(keys) + 1, dtype=object)
    table[:-1] = keys
    table[-1] = pd.NA
    return pd.Series(table[rows], index=values.index, dtype=object)


def by_meaning(values: pd.Series, mapping: Mapping[Any, Any], dtype: str) -> pd.Series:
    """Map each code through `mapping` (code -> value), keeping <NA> for missing cells."""
    rows, keys = _per_code(values)
    table = np.empty(len(keys) + 1, dtype=object)
    table[:-1] = [mapping.get(k, pd.NA) for k in keys]
    table[-1] = pd.NA
    return pd.Series(table[rows], index=values.index, dtype=object).astype(dtype)


def has_meaning(values: pd.Series, codes: tuple[Any, ...]) -> pd.Series:
    """True where the code is one of `codes`, False where another known code, <NA> where missing."""
    wanted = set(codes)
    rows, keys = _per_code(values)
    hit = np.array([k in wanted for k in keys] + [False], dtype=bool)
    return pd.Series(pd.arrays.BooleanArray(hit[rows], rows < 0), index=values.index)


def empty_groups(flow: Mapping[str, Any]) -> list[str]:
    """The groups of an attrition record with no patient (the analyses compare them: refused)."""
    return [g["label"] for g in flow.get("groups", []) if int(g["n"]) == 0]
