"""What the supplement says about a matching run: counts, caliper, model, balance (no patient IDs)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nenbone.analysis.matching import MatchResult
from nenbone.presentation.numbers import to_plain


def matching_summary(result: MatchResult, balance: pd.DataFrame) -> dict[str, Any]:
    """Aggregate facts of one matching run, safe to publish (no row-level data)."""
    per = result.per_treated
    short = per[per["n_controls"] < result.ratio]
    reasons = short["reason"].fillna("").value_counts().sort_index()
    model = result.model
    return to_plain({
        "ratio": result.ratio,
        "caliper_sd_logit": result.settings.get("caliper_sd_logit"),
        "caliper_logit": result.caliper,
        "sd_logit": result.sd_logit,
        "treated_order": result.treated_order,
        "seed": result.seed,
        "n_treated": int(len(per)),
        "n_treated_matched": result.n_treated_matched,
        "n_controls_pool": int((~result.scores["treated"]).sum()),
        "n_controls_matched": result.n_controls_matched,
        "n_treated_fewer_than_ratio": int(len(short)),
        "fewer_than_ratio_reasons": {str(k): int(v) for k, v in reasons.items()},
        "controls_per_treated": {str(k): int(v) for k, v in per["n_controls"].value_counts().sort_index().items()},
        "n_excluded_from_model": int(len(result.excluded)),
        "excluded_reasons": {str(k): int(v) for k, v in result.excluded["reason"].value_counts().sort_index().items()},
        "model_converged": bool(model.converged) if model else None,
        "model_coefficients": {str(k): float(v) for k, v in model.params.items()} if model else {},
        "max_abs_smd_before": float(np.nanmax(np.abs(balance["smd_before"]))),
        "max_abs_smd_after": float(np.nanmax(np.abs(balance["smd_after"]))),
    })
