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


def by_meaning(values: pd.Series, mapping: Mapping[Any, Any], dtype: str) -> pd.Series:
    """Map each code through `mapping` (code -> value), keeping <NA> for missing cells."""
    return values.map(lambda v: mapping.get(code_key(v), pd.NA) if pd.notna(v) else pd.NA).astype(dtype)


def has_meaning(values: pd.Series, codes: tuple[Any, ...]) -> pd.Series:
    """True where the code is one of `codes`, False where another known code, <NA> where missing."""
    wanted = set(codes)
    out = values.map(lambda v: code_key(v) in wanted if pd.notna(v) else pd.NA)
    return pd.Series(pd.array(out.tolist(), dtype="boolean"), index=values.index)


def empty_groups(flow: Mapping[str, Any]) -> list[str]:
    """The groups of an attrition record with no patient (the analyses compare them: refused)."""
    return [g["label"] for g in flow.get("groups", []) if int(g["n"]) == 0]
