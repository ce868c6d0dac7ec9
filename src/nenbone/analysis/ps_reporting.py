"""Propensity-score reporting: the caliper in absolute units, variance ratios, balance and weights after IPTW.

Conventions (each result names its own):

* Caliper on the logit of the propensity score = multiplier x SD of the logit. ``sd="all_units"``
  (default): SD over every patient in the propensity model, treated and controls together
  (ddof = 1, R ``sd()``), as MatchIt's ``std.caliper = TRUE`` and ``analysis.matching``.
  ``sd="pooled_within"``: Austin's (2011) pooled SD sqrt((s_t^2 + s_c^2) / 2) of the two groups.
  Both are ``analysis.matching.logit_sd``, the SD the matcher uses (config ``matching.caliper_sd_convention``).
* Variance ratio = variance in the treated / variance in the controls, for continuous covariates
  (cobalt reports none for binary ones). With weights, each variance is the weighted variance with
  the reliability-weights correction sum w (x - m)^2 / (sum w - sum w^2 / sum w), i.e. R
  ``cov.wt(x, wt = w / sum(w), method = "unbiased")`` (= the ordinary ddof-1 variance for equal weights);
  the same estimator ``analysis.matching.smd_table`` uses for SMDs.
* SMDs: ``analysis.matching.smd_table`` (pooled SD of the compared sample, weighted when weights
  are given).
* Kish effective sample size (sum w)^2 / sum w^2, per group.
* Weight quartiles by R's default ``quantile(type = 7)`` (numpy's default linear rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from nenbone.analysis.matching import SD_CONVENTIONS, _weighted_mean_var, logit_sd, smd_table
from nenbone.errors import NenboneError

METHOD_VARIANCE_RATIO = ("variance ratio treated / control (reliability-weighted variances when weighted, "
                         "as R cov.wt(method = 'unbiased'))")
METHOD_KISH = "Kish effective sample size (sum w)^2 / sum w^2"


class PSReportingError(NenboneError):
    """Scores, weights or covariates that cannot be summarised as asked."""


def _treated(treated: Any, n: int) -> np.ndarray:
    t = np.asarray(treated)
    if len(t) != n:
        raise PSReportingError(f"propensity reporting: {n} values but {len(t)} treatment indicators")
    if t.dtype != bool and not np.isin(t, (0, 1)).all():
        raise PSReportingError("propensity reporting: treatment indicators must be 0/1 or true/false")
    t = t.astype(bool)
    if t.all() or not t.any():
        raise PSReportingError("propensity reporting: needs both treated and control patients")
    return t


def caliper_in_logit_units(logit: Any, treated: Any, multiplier: float, sd: str = "all_units") -> dict[str, Any]:
    """The caliper in absolute logit units and the SD it was scaled by.

    Returns keys: multiplier, sd_convention, sd_logit (the SD used), sd_all_units, sd_pooled_within
    (both, for the methods text), caliper_logit (= multiplier x sd_logit), method.
    """
    x = np.asarray(logit, dtype=float)
    if not np.isfinite(x).all():
        raise PSReportingError("caliper: the logit of the propensity score has missing or infinite values")
    if sd not in SD_CONVENTIONS:
        raise PSReportingError(f"caliper: sd must be one of {', '.join(SD_CONVENTIONS)} (got {sd!r})")
    if not (isinstance(multiplier, (int, float)) and not isinstance(multiplier, bool) and multiplier > 0):
        raise PSReportingError(f"caliper: the multiplier must be a number > 0 (got {multiplier!r})")
    t = _treated(treated, len(x))
    sd_all, sd_pooled = logit_sd(x, t, "all_units"), logit_sd(x, t, "pooled_within")
    used = sd_all if sd == "all_units" else sd_pooled
    text = ("SD of the logit over all patients in the model (MatchIt std.caliper)" if sd == "all_units"
            else "pooled within-group SD of the logit, sqrt((s_t^2 + s_c^2)/2) (Austin 2011)")
    return {"multiplier": float(multiplier), "sd_convention": sd, "sd_logit": used, "sd_all_units": sd_all,
            "sd_pooled_within": sd_pooled, "caliper_logit": float(multiplier) * used,
            "method": f"caliper = {multiplier} x {text}"}


def variance_ratios(frame: pd.DataFrame, covariates: Sequence[str], treated: Any,
                    weights: Any = None) -> pd.DataFrame:
    """Variance ratio (treated / control) of each continuous covariate, weighted when weights are given.

    Binary (0/1) and categorical covariates are listed with ratio NaN and kind "binary"/"categorical"
    (a variance ratio is not reported for them). Rows with a missing value leave that covariate only.
    Columns: variable, kind, var_treated, var_control, variance_ratio, n_treated, n_control.
    """
    t = _treated(treated, len(frame))
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    if len(w) != len(frame) or not np.isfinite(w).all() or (w < 0).any():
        raise PSReportingError("variance ratios: weights must be finite, >= 0 and one per patient")
    rows = []
    for name in covariates:
        if name not in frame.columns:
            raise PSReportingError(f"variance ratios: covariate '{name}' is not in the data")
        s = frame[name].reset_index(drop=True)
        ok = s.notna().to_numpy()
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float) if numeric else None
        if x is None or np.isin(x[ok], (0.0, 1.0)).all():
            kind = "categorical" if x is None else "binary"
            rows.append((name, kind, np.nan, np.nan, np.nan, int((ok & t).sum()), int((ok & ~t).sum())))
            continue
        _, vt = _weighted_mean_var(x[ok & t], w[ok & t])
        _, vc = _weighted_mean_var(x[ok & ~t], w[ok & ~t])
        ratio = vt / vc if vc > 0 else np.nan
        rows.append((name, "continuous", vt, vc, ratio, int((ok & t).sum()), int((ok & ~t).sum())))
    return pd.DataFrame(rows, columns=["variable", "kind", "var_treated", "var_control", "variance_ratio",
                                       "n_treated", "n_control"])


def kish_ess(weights: Any) -> float:
    """Kish effective sample size (sum w)^2 / sum w^2."""
    w = np.asarray(weights, dtype=float)
    if w.size == 0 or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise PSReportingError("effective sample size: weights must be finite, >= 0, not all zero")
    return float(w.sum() ** 2 / (w**2).sum())


def distribution_by_group(values: Any, treated: Any) -> pd.DataFrame:
    """Distribution of a score (e.g. the propensity score, for overlap) in each group.

    Columns: group ("treated"/"control"), n, mean, min, q1, median, q3, max (quartiles by R quantile type 7).
    """
    v = np.asarray(values, dtype=float)
    if not np.isfinite(v).all():
        raise PSReportingError("distribution: values must be finite (no missing values)")
    t = _treated(treated, len(v))
    rows = []
    for label, mask in (("treated", t), ("control", ~t)):
        x = v[mask]
        q = np.quantile(x, [0.0, 0.25, 0.5, 0.75, 1.0])
        rows.append({"group": label, "n": int(mask.sum()), "mean": float(x.mean()), "min": float(q[0]),
                     "q1": float(q[1]), "median": float(q[2]), "q3": float(q[3]), "max": float(q[4])})
    return pd.DataFrame(rows)


def weight_summary(weights: Any, treated: Any) -> pd.DataFrame:
    """Distribution of the weights in each group: ``distribution_by_group`` plus ess (Kish) and sum.

    Columns: group ("treated"/"control"), n, ess, sum, mean, min, q1, median, q3, max.
    """
    w = np.asarray(weights, dtype=float)
    t = _treated(treated, len(w))
    out = distribution_by_group(w, t)
    out.insert(2, "ess", [kish_ess(w[t]), kish_ess(w[~t])])
    out.insert(3, "sum", [float(w[t].sum()), float(w[~t].sum())])
    return out


def iptw_balance(frame: pd.DataFrame, covariates: Sequence[str], treated: Any, weights: Any) -> dict[str, Any]:
    """Balance before and after weighting (e.g. IPTW for the ATT): SMDs, variance ratios, ESS, weights.

    Returns keys:
      balance: DataFrame with variable, level, kind, smd_before, smd_after (``smd_table``, unweighted
        and weighted), variance_ratio_before, variance_ratio_after (continuous covariates only);
      weights: ``weight_summary`` DataFrame;
      ess_treated, ess_control: Kish effective sample sizes;
      n_treated, n_control: patients in each group;
      max_abs_smd_after: the largest |SMD| after weighting;
      method: the conventions in words.
    """
    t = _treated(treated, len(frame))
    w = np.asarray(weights, dtype=float)
    if len(w) != len(frame) or not np.isfinite(w).all() or (w < 0).any():
        raise PSReportingError("IPTW balance: weights must be finite, >= 0 and one per patient")
    data = frame.reset_index(drop=True)
    before = smd_table(data, covariates, t)
    after = smd_table(data, covariates, t, weights=w)
    bal = before[["variable", "level", "kind"]].copy()
    bal["smd_before"] = before["smd"].to_numpy()
    bal["smd_after"] = after["smd"].to_numpy()
    vr0 = variance_ratios(data, covariates, t).set_index("variable")["variance_ratio"]
    vr1 = variance_ratios(data, covariates, t, weights=w).set_index("variable")["variance_ratio"]
    cont = bal["kind"] == "continuous"
    bal["variance_ratio_before"] = np.where(cont, bal["variable"].map(vr0), np.nan)
    bal["variance_ratio_after"] = np.where(cont, bal["variable"].map(vr1), np.nan)
    ws = weight_summary(w, t)
    return {"balance": bal, "weights": ws, "ess_treated": float(ws.loc[0, "ess"]),
            "ess_control": float(ws.loc[1, "ess"]), "n_treated": int(t.sum()), "n_control": int((~t).sum()),
            "max_abs_smd_after": float(np.nanmax(np.abs(bal["smd_after"].to_numpy(dtype=float)))),
            "method": "SMD with the pooled SD of the compared (weighted) sample; " + METHOD_VARIANCE_RATIO
                      + "; " + METHOD_KISH}
