"""Derivation of each study's analysis variables from the clean (validated) data.

Each study module exposes `derive(clean, settings, days_per_month) -> DataFrame`; the definitions
of the derived variables are written once, in the study's codebook (`derived:` section).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import pandas as pd


def deriver(study: str) -> Callable[[pd.DataFrame, dict, float], pd.DataFrame]:
    """The `derive` function of a study module."""
    return importlib.import_module(f"nenbone.derive.{study}").derive
