"""Deterministic synthetic twins of both cohorts, built from published aggregates.

This is the top layer: it may use every other layer. Nothing else imports it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import pandas as pd


def generator(study: str) -> Callable[[dict, dict], pd.DataFrame]:
    """The `generate(settings, study_config)` function of a study's twin."""
    return importlib.import_module(f"nenbone.synthetic.{study}").generate
