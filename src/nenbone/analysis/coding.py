"""Treatment (dummy) coding of categorical covariates, written once for the propensity and Cox models.

A categorical covariate enters a model as one 0/1 column per level but its reference level, each named
as formulaic and patsy name it, `sex[T.male]`; tables and figures look covariates up by that name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def dummy_term(name: str, level: Any) -> str:
    """The name of a treatment-coded dummy column: 'sex[T.male]'."""
    return f"{name}[T.{level}]"


def treatment_dummies(values: pd.Series, name: str, levels: Sequence[Any],
                      reference: Any = None) -> dict[str, np.ndarray]:
    """0/1 columns, one per level of `levels` but the reference (default the first), named by `dummy_term`.

    The caller orders the levels (text order for the propensity model, the categorical's own order for
    Cox); a value equal to none of them is 0 in every column.
    """
    ref = levels[0] if reference is None else reference
    return {dummy_term(name, level): (values == level).to_numpy(dtype=float)
            for level in levels if level != ref}
