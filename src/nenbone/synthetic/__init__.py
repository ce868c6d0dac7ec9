"""Deterministic synthetic twins of both cohorts, built from published aggregates.

This is the top layer: it may use every other layer. Nothing else imports it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import pandas as pd

from nenbone.errors import ConfigError

SCALE_KEY = "scale"


def scale_cohort(raw: pd.DataFrame, k: int, id_col: str = "patient_id") -> pd.DataFrame:
    """The twin k times over: every count k times, every proportion and Kaplan-Meier curve unchanged.

    Replicate 0 keeps its IDs; replicate i >= 1 gets "<id>.<i>", so IDs stay unique. k = 1 returns the
    frame itself (today's files byte-identical). For registry-scale benchmarks, not for analysis.
    """
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ConfigError(f"synthetic.<study>.{SCALE_KEY} must be a whole number >= 1, got {k!r}")
    if k == 1:
        return raw
    copies = [raw if i == 0 else raw.assign(**{id_col: raw[id_col].astype(str) + f".{i}"}) for i in range(k)]
    out = pd.concat(copies, ignore_index=True)
    out[id_col] = out[id_col].astype(raw[id_col].dtype)
    return out


def generator(study: str) -> Callable[..., pd.DataFrame]:
    """The `generate(settings, study_config, ...)` function of a study's twin, honouring settings['scale']."""
    generate = importlib.import_module(f"nenbone.synthetic.{study}").generate

    def scaled(settings: dict, *args, **kwargs) -> pd.DataFrame:
        base = {key: value for key, value in settings.items() if key != SCALE_KEY}
        return scale_cohort(generate(base, *args, **kwargs), settings.get(SCALE_KEY, 1))

    return scaled
