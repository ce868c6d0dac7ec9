"""Survival statistics (Kaplan-Meier, log-rank, Cox, PH test), each result naming its software convention.

Pure functions on arrays: durations (>= 0, finite), event indicators (bool or 0/1, 1 = event) and,
where needed, group labels. No file IO. lifelines and statsmodels are imported inside the functions
that need them, so importing this module stays fast.

Conventions (each result carries a ``method``/``convention`` string naming the one it used):

* Kaplan-Meier S(t) is the product-limit estimate, right-continuous: S(t_j) includes the events at t_j.
  Greenwood variance Var S(t) = S(t)^2 * sum_{t_j <= t} d_j / (n_j (n_j - d_j)); undefined (NaN) once
  S(t) = 0 (the last term divides by zero).
* Comparisons of S with 0.5 (and with 0.5 +- 0.05 in the SPSS SE) allow an absolute tolerance of
  ``S_TOLERANCE`` = 1e-9, as R's survfit does (sqrt(machine eps)): a product such as 37/38 * ... * 19/20
  is exactly 1/2 but its floating-point value can be 0.5000000000000002.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nenbone.errors import NenboneError

S_TOLERANCE = 1e-9
SPSS_PERCENTILE_EPSILON = 0.05

METHOD_KM = "Kaplan-Meier product-limit estimate; Greenwood standard error"
METHOD_MEDIAN_FIRST = "first event time with S(t) <= 0.5 (SPSS, Stata, lifelines)"
METHOD_MEDIAN_MIDPOINT = (
    "midpoint of the flat stretch where S(t) = 0.5 exactly, else first time with S(t) <= 0.5 "
    "(R survfit, SAS PROC LIFETEST)"
)
METHOD_SPSS_MEDIAN_CI = (
    "SPSS Kaplan-Meier: median +- z*SE, SE = Greenwood SE of S(median) / f, "
    "f = (S(u) - S(l)) / (l - u), u = max{t_j: S(t_j) >= 0.55}, l = min{t_j: S(t_j) <= 0.45} "
    "over distinct event times (Collett 2.4; IBM SPSS Statistics Algorithms, Kaplan-Meier)"
)
METHOD_LOGLOG_MEDIAN_CI = (
    "Brookmeyer-Crowley: first times the pointwise log(-log) (exponential Greenwood) "
    "confidence band of S(t) reaches 0.5 (lifelines KaplanMeierFitter + median_survival_times)"
)
METHOD_LOGRANK = "log-rank (Mantel-Cox)"


class SurvivalInputError(NenboneError):
    """Survival data that cannot be analysed (lengths differ, missing or negative times, bad events)."""


# ----------------------------------------------------------------------------------------------
# Input checks and the Kaplan-Meier table
# ----------------------------------------------------------------------------------------------


def _as_arrays(durations: Any, events: Any, what: str = "survival data") -> tuple[np.ndarray, np.ndarray]:
    """Check and convert durations/events; every problem is reported at once, never silently dropped."""
    t = np.asarray(pd.Series(durations, dtype="Float64").to_numpy(dtype=float, na_value=np.nan), dtype=float)
    e_series = pd.Series(events)
    problems: list[str] = []
    if len(t) != len(e_series):
        raise SurvivalInputError(f"{what}: {len(t)} durations but {len(e_series)} event indicators")
    if len(t) == 0:
        raise SurvivalInputError(f"{what}: no observations")
    bad_t = np.flatnonzero(~np.isfinite(t))
    if bad_t.size:
        problems.append(f"missing or infinite durations at positions {bad_t.tolist()}")
    neg_t = np.flatnonzero(np.isfinite(t) & (t < 0))
    if neg_t.size:
        problems.append(f"negative durations at positions {neg_t.tolist()}")
    if e_series.dtype == bool:
        e = e_series.to_numpy(dtype=bool)
    else:
        e_num = pd.to_numeric(e_series, errors="coerce").astype("Float64")
        bad_e = np.flatnonzero(~e_num.isin([0, 1]).fillna(False).to_numpy(dtype=bool))
        if bad_e.size:
            problems.append(f"event indicators not 0/1 at positions {bad_e.tolist()}")
            e = np.zeros(len(t), dtype=bool)
        else:
            e = e_num.to_numpy(dtype=float) == 1
    if problems:
        raise SurvivalInputError(f"{what}: " + "; ".join(problems))
    return t, e


def km_table(durations: Any, events: Any) -> pd.DataFrame:
    """Kaplan-Meier life table at every distinct observed time (event or censoring).

    Columns: time, n_at_risk, events, censored, S, se (Greenwood), variance_sum (sum d/(n(n-d))).
    """
    t, e = _as_arrays(durations, events)
    times, inverse = np.unique(t, return_inverse=True)
    d = np.bincount(inverse, weights=e.astype(float), minlength=times.size)
    total = np.bincount(inverse, minlength=times.size).astype(float)
    c = total - d
    n = total[::-1].cumsum()[::-1]
    s = np.cumprod(1.0 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(d > 0, d / (n * (n - d)), 0.0)
    vsum = np.cumsum(terms)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(s**2 * vsum)
    se = np.where(np.isfinite(vsum), se, np.nan)
    return pd.DataFrame(
        {
            "time": times,
            "n_at_risk": n.astype(int),
            "events": d.astype(int),
            "censored": c.astype(int),
            "S": s,
            "se": se,
            "variance_sum": vsum,
        }
    )


def _event_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table.loc[table["events"] > 0].reset_index(drop=True)


def _median_first(table: pd.DataFrame) -> float | None:
    """Smallest event time with S(t) <= 0.5 (within S_TOLERANCE); None when not reached."""
    ev = _event_rows(table)
    hit = ev.loc[ev["S"] <= 0.5 + S_TOLERANCE, "time"]
    return float(hit.iloc[0]) if len(hit) else None


def _median_midpoint(table: pd.DataFrame) -> float | None:
    """R survfit/SAS median: if S == 0.5 exactly from t_k, the midpoint of t_k and the next event time.

    When S stays at 0.5 to the end of follow-up (no later event), R reports t_k itself; so do we.
    """
    ev = _event_rows(table)
    first = _median_first(table)
    if first is None:
        return None
    k = int(np.flatnonzero(ev["time"].to_numpy() == first)[0])
    if abs(float(ev["S"].iloc[k]) - 0.5) <= S_TOLERANCE and k + 1 < len(ev):
        return (first + float(ev["time"].iloc[k + 1])) / 2.0
    return first


# ----------------------------------------------------------------------------------------------
# SPSS median and its symmetric interval
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpssMedianCI:
    """SPSS's Kaplan-Meier median with its symmetric interval median +- z*SE; None = not available."""

    median: float | None
    se: float | None
    lower: float | None
    upper: float | None
    level: float
    s_at_median: float | None = None
    se_s_at_median: float | None = None
    u_hat: float | None = None
    s_u_hat: float | None = None
    l_hat: float | None = None
    s_l_hat: float | None = None
    f_hat: float | None = None
    note: str = ""
    method: str = METHOD_SPSS_MEDIAN_CI

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def spss_median_ci(durations: Any, events: Any, level: float = 0.95) -> SpssMedianCI:
    """SPSS's KM median and its symmetric CI (median +- z*SE), the interval the Study A poster prints.

    Exactly what is computed (IBM SPSS Statistics Algorithms, "Kaplan-Meier"; Collett, Modelling
    Survival Data in Medical Research, section 2.4):

    * t_j runs over the distinct *event* times t_(1) < ... < t_(r) (censoring times are not candidates;
      the origin t_(0) = 0 with S = 1 is not included, following Collett's j = 1, ..., r).
    * S(t_j) is the right-continuous product-limit value at t_j, i.e. after the events at t_j.
    * median = min{t_j : S(t_j) <= 0.5}; None ("not reached") when S never gets to 0.5.
    * SE(S(median)) is the Greenwood standard error at the median time.
    * u = max{t_j : S(t_j) >= 0.5 + 0.05}, l = min{t_j : S(t_j) <= 0.5 - 0.05},
      f = (S(u) - S(l)) / (l - u), SE(median) = SE(S(median)) / f.
    * lower/upper = median -+ z * SE with z = Phi^-1((1 + level) / 2); not truncated at 0.
    * Comparisons with 0.5, 0.55 and 0.45 allow the absolute tolerance S_TOLERANCE (1e-9).

    If u or l does not exist (the first event already takes S below 0.55, or S never falls to 0.45),
    or SE(S(median)) is undefined (S = 0 at the median), no SE and no interval are returned
    (``se``/``lower``/``upper`` None, the reason in ``note``): nothing is invented.
    """
    _check_level(level)
    table = km_table(durations, events)
    ev = _event_rows(table)
    median = _median_first(table)
    if median is None:
        return SpssMedianCI(None, None, None, None, level, note="median not reached")
    row = ev.loc[ev["time"] == median].iloc[0]
    s_med, se_s = float(row["S"]), float(row["se"])
    eps = SPSS_PERCENTILE_EPSILON
    upper_side = ev.loc[ev["S"] >= 0.5 + eps - S_TOLERANCE]
    lower_side = ev.loc[ev["S"] <= 0.5 - eps + S_TOLERANCE]
    u_hat = float(upper_side["time"].iloc[-1]) if len(upper_side) else None
    s_u = float(upper_side["S"].iloc[-1]) if len(upper_side) else None
    l_hat = float(lower_side["time"].iloc[0]) if len(lower_side) else None
    s_l = float(lower_side["S"].iloc[0]) if len(lower_side) else None
    common = dict(s_at_median=s_med, se_s_at_median=se_s if math.isfinite(se_s) else None,
                  u_hat=u_hat, s_u_hat=s_u, l_hat=l_hat, s_l_hat=s_l)
    if u_hat is None or l_hat is None:
        missing = "u (no event time with S >= 0.55)" if u_hat is None else "l (no event time with S <= 0.45)"
        return SpssMedianCI(median, None, None, None, level, note=f"no SE: {missing}", **common)
    if not math.isfinite(se_s):
        return SpssMedianCI(median, None, None, None, level,
                            note="no SE: Greenwood SE of S(median) undefined (S = 0)", **common)
    f_hat = (s_u - s_l) / (l_hat - u_hat)
    se = se_s / f_hat
    z = _normal_quantile(level)
    return SpssMedianCI(median, se, median - z * se, median + z * se, level, f_hat=f_hat, **common)


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise SurvivalInputError(f"confidence level must lie strictly between 0 and 1, got {level}")


# ----------------------------------------------------------------------------------------------
# Kaplan-Meier with every median convention
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KMResult:
    """One Kaplan-Meier curve with its medians under each convention; None = "not reached"."""

    label: str
    n: int
    events: int
    level: float
    table: pd.DataFrame = field(repr=False)
    median: float | None
    median_method: str
    median_midpoint: float | None
    median_midpoint_method: str
    median_ci_loglog: tuple[float | None, float | None]
    median_ci_loglog_method: str
    spss: SpssMedianCI
    at_risk: dict[float, int]
    at_risk_method: str = "n at risk at t = number with duration >= t (still under observation just before t)"
    method: str = METHOD_KM

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (the table as records) for JSON/YAML number files."""
        out = {k: v for k, v in asdict(self).items() if k != "table"}
        out["median_ci_loglog"] = list(self.median_ci_loglog)
        out["at_risk"] = {str(k): v for k, v in self.at_risk.items()}
        out["table"] = self.table.to_dict(orient="records")
        return out


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _normal_quantile(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf((1.0 + level) / 2.0)


def loglog_band(table: pd.DataFrame, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise log(-log) ("exponential Greenwood") band of S(t) at each row of a KM table.

    lower/upper = exp(-exp(log(-log S) +- z sqrt(sum d/(n(n-d))) / log S)), as lifelines'
    KaplanMeierFitter.confidence_interval_; where S = 1 the band is (1, 1), where S = 0 it is (0, 0).
    """
    z = _normal_quantile(level)
    s = table["S"].to_numpy(dtype=float)
    v = table["variance_sum"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(s)
        shift = z * np.sqrt(v) / log_s
        lower = np.exp(-np.exp(np.log(-log_s) - shift))
        upper = np.exp(-np.exp(np.log(-log_s) + shift))
    lower = np.where(s >= 1.0, 1.0, np.where(s <= 0.0, 0.0, lower))
    upper = np.where(s >= 1.0, 1.0, np.where(s <= 0.0, 0.0, upper))
    return np.nan_to_num(lower, nan=0.0), np.nan_to_num(upper, nan=0.0)


def loglog_median_ci(durations: Any, events: Any, level: float = 0.95) -> tuple[float | None, float | None]:
    """Brookmeyer-Crowley median CI: the first times the log(-log) band of S(t) reaches 0.5.

    The band is lifelines' exponential Greenwood band (``loglog_band``); the lower (upper) limit of
    the median is the first time the lower (upper) band is <= 0.5, exactly what
    ``lifelines.utils.median_survival_times(kmf.confidence_interval_)`` returns (tested against it).
    A limit the band never reaches is None (not reached). Computed here, without importing
    lifelines, because the import alone costs more than a second in every workflow job.
    """
    _check_level(level)
    table = km_table(durations, events)
    lower, upper = loglog_band(table, level)
    times = table["time"].to_numpy(dtype=float)

    def first_at_or_below_half(band: np.ndarray) -> float | None:
        hit = np.flatnonzero(band <= 0.5)
        return float(times[hit[0]]) if hit.size else None

    # the lower band reaches 0.5 first: it gives the lower limit of the median
    return first_at_or_below_half(lower), first_at_or_below_half(upper)


def at_risk_counts(durations: Any, times: Sequence[float]) -> dict[float, int]:
    """Numbers at risk at the given times: durations >= t (R summary.survfit, Stata sts list)."""
    t = np.asarray(durations, dtype=float)
    return {float(x): int(np.sum(t >= x)) for x in times}


def kaplan_meier(
    durations: Any,
    events: Any,
    level: float = 0.95,
    label: str = "all",
    at_risk_times: Sequence[float] = (),
) -> KMResult:
    """Kaplan-Meier curve, Greenwood SEs, the median under each convention and both median CIs."""
    _check_level(level)
    t, e = _as_arrays(durations, events, what=f"Kaplan-Meier '{label}'")
    table = km_table(t, e)
    return KMResult(
        label=label,
        n=int(t.size),
        events=int(e.sum()),
        level=level,
        table=table,
        median=_median_first(table),
        median_method=METHOD_MEDIAN_FIRST,
        median_midpoint=_median_midpoint(table),
        median_midpoint_method=METHOD_MEDIAN_MIDPOINT,
        median_ci_loglog=loglog_median_ci(t, e, level),
        median_ci_loglog_method=METHOD_LOGLOG_MEDIAN_CI,
        spss=spss_median_ci(t, e, level),
        at_risk=at_risk_counts(t, at_risk_times),
    )


# ----------------------------------------------------------------------------------------------
# Log-rank test
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogRankResult:
    """Log-rank chi-square with per-group observed and expected events."""

    chi2: float
    df: int
    p: float
    groups: pd.DataFrame = field(repr=False)  # group, n, observed, expected
    test: str = METHOD_LOGRANK
    implementation: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "groups"}
        out["groups"] = self.groups.to_dict(orient="records")
        return out


def _group_labels(groups: Any, n: int) -> pd.Series:
    g = pd.Series(groups).reset_index(drop=True)
    if len(g) != n:
        raise SurvivalInputError(f"log-rank: {n} durations but {len(g)} group labels")
    missing = np.flatnonzero(g.isna().to_numpy())
    if missing.size:
        raise SurvivalInputError(f"log-rank: missing group labels at positions {missing.tolist()}")
    if g.nunique() < 2:
        raise SurvivalInputError(f"log-rank: needs at least two groups, found {g.unique().tolist()}")
    return g


def _risk_sets(t: np.ndarray, e: np.ndarray, codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """At each distinct event time: number at risk and number of events per group, in O(n log n)."""
    times, inverse = np.unique(t, return_inverse=True)
    at_time = np.zeros((times.size, k))
    dead = np.zeros((times.size, k))
    np.add.at(at_time, (inverse, codes), 1.0)
    np.add.at(dead, (inverse, codes), e.astype(float))
    at_risk = at_time[::-1].cumsum(axis=0)[::-1]
    keep = dead.sum(axis=1) > 0
    return at_risk[keep], dead[keep]


def _levels(g: pd.Series) -> list[Any]:
    if isinstance(g.dtype, pd.CategoricalDtype):
        return list(g.cat.categories[g.cat.categories.isin(g.unique())])
    return sorted(g.unique(), key=str)


def observed_expected(durations: Any, events: Any, groups: Any) -> pd.DataFrame:
    """Observed and expected (under equal hazards) events per group, summed over distinct event times."""
    t, e = _as_arrays(durations, events, what="log-rank")
    g = _group_labels(groups, t.size)
    levels = _levels(g)
    codes = pd.Categorical(g, categories=levels).codes
    n_jt, d_jt = _risk_sets(t, e, codes, len(levels))
    expected = (d_jt.sum(1, keepdims=True) * n_jt / n_jt.sum(1, keepdims=True)).sum(0)
    return pd.DataFrame({"group": levels, "n": np.bincount(codes, minlength=len(levels)).astype(int),
                         "observed": d_jt.sum(0).astype(int), "expected": expected})


def logrank(durations: Any, events: Any, groups: Any) -> LogRankResult:
    """Log-rank (Mantel-Cox) test of equal survival across two or more groups (what SPSS/Stata print).

    chi2 = (O - E)' V^- (O - E) over the first k-1 groups, with the hypergeometric covariance
    V_jl = sum_t d (n - d) / (n - 1) * (n_j / n) (delta_jl - n_l / n); df = k - 1. Computed in
    O(n log n) here (tested against lifelines' logrank_test and multivariate_logrank_test).
    """
    from scipy.special import chdtrc

    t, e = _as_arrays(durations, events, what="log-rank")
    g = _group_labels(groups, t.size)
    levels = _levels(g)
    if len(levels) < 2:
        raise SurvivalInputError(f"log-rank: need at least two groups, got {levels}")
    codes = pd.Categorical(g, categories=levels).codes
    n_jt, d_jt = _risk_sets(t, e, codes, len(levels))
    n_t, d_t = n_jt.sum(1), d_jt.sum(1)
    frac = n_jt / n_t[:, None]
    o_minus_e = (d_jt - d_t[:, None] * frac).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n_t > 1, d_t * (n_t - d_t) / (n_t - 1), 0.0)
    cov = np.diag((w[:, None] * frac).sum(0)) - np.einsum("t,tj,tl->jl", w, frac, frac)
    k = len(levels) - 1
    stat = float(o_minus_e[:k] @ np.linalg.solve(cov[:k, :k], o_minus_e[:k]))
    oe = pd.DataFrame({"group": levels, "n": np.bincount(codes, minlength=len(levels)).astype(int),
                       "observed": d_jt.sum(0).astype(int), "expected": (d_t[:, None] * frac).sum(0)})
    return LogRankResult(chi2=stat, df=k, p=float(chdtrc(k, stat)), groups=oe,
                         implementation="nenbone (hypergeometric variance, as lifelines and R survdiff)")


# ----------------------------------------------------------------------------------------------
# Cox proportional hazards
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoxDesign:
    """Numeric design matrix with categorical covariates dummy-coded against a named reference."""

    frame: pd.DataFrame  # duration, event, dummy columns (+ cluster/strata columns)
    terms: pd.DataFrame  # term, covariate, level, reference
    references: dict[str, Any]


def _cox_design(
    frame: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    categorical: Sequence[str],
    reference: dict[str, Any] | None,
    extra_cols: Sequence[str],
) -> CoxDesign:
    """Dummy-code categoricals (treatment coding, "col[T.level]"); refuse missing values rather than drop them."""
    reference = dict(reference or {})
    used = [duration_col, event_col, *covariates, *extra_cols]
    absent = [c for c in used if c not in frame.columns]
    if absent:
        raise SurvivalInputError(f"Cox model: columns not in the data: {absent}")
    problems = []
    for c in used:
        miss = frame.index[frame[c].isna().to_numpy()]
        if len(miss):
            problems.append(f"'{c}' missing for rows {list(map(str, miss))}")
    if problems:
        raise SurvivalInputError("Cox model: missing values (select complete cases explicitly): " + "; ".join(problems))
    t, e = _as_arrays(frame[duration_col].to_numpy(), frame[event_col].to_numpy(), what="Cox model")
    out = pd.DataFrame({"__duration": t, "__event": e.astype(float)})
    terms, refs = [], {}
    for c in covariates:
        col = frame[c].reset_index(drop=True)
        is_cat = c in categorical or not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col))
        if not is_cat:
            out[c] = col.astype(float).to_numpy()
            terms.append({"term": c, "covariate": c, "level": None, "reference": None})
            continue
        levels = list(col.cat.categories[col.cat.categories.isin(col.unique())]) if isinstance(
            col.dtype, pd.CategoricalDtype) else sorted(col.unique().tolist(), key=lambda v: (str(type(v)), v))
        ref = reference.get(c, levels[0])
        if ref not in levels:
            raise SurvivalInputError(f"Cox model: reference level {ref!r} of '{c}' not among its values {levels}")
        refs[c] = ref
        for lev in levels:
            if lev == ref:
                continue
            name = f"{c}[T.{lev}]"
            out[name] = (col == lev).astype(float).to_numpy()
            terms.append({"term": name, "covariate": c, "level": lev, "reference": ref})
    for c in extra_cols:
        out[c] = frame[c].reset_index(drop=True).to_numpy()
    return CoxDesign(out, pd.DataFrame(terms), refs)


class _TermsTable:
    """as_dict for results holding a per-term table: the table becomes a list of records."""

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "terms"}  # type: ignore[call-overload]
        out["terms"] = self.terms.to_dict(orient="records")  # type: ignore[attr-defined]
        return out


@dataclass(frozen=True)
class CoxResult(_TermsTable):
    """Cox model: one row per term (coef, se, HR and CI, Wald z and p) and what produced it."""

    terms: pd.DataFrame = field(repr=False)
    n: int
    events: int
    ties: str
    implementation: str
    level: float
    robust: bool
    cluster_col: str | None
    strata: str | None
    references: dict[str, Any]
    log_likelihood: float
    warnings: tuple[str, ...] = ()
    method: str = "Cox proportional hazards, partial likelihood; Wald z tests; HR CI = exp(coef +- z*se)"


def cox(
    frame: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    ties: str = "efron",
    level: float = 0.95,
    categorical: Sequence[str] = (),
    reference: dict[str, Any] | None = None,
    robust: bool = False,
    cluster_col: str | None = None,
    strata: str | None = None,
    weights_col: str | None = None,
) -> CoxResult:
    """Cox model with Efron ties (lifelines CoxPHFitter, as R) or Breslow ties (statsmodels PHReg, as Stata stcox).

    Categorical covariates (listed in ``categorical``, or any non-numeric column) are dummy-coded against
    ``reference[col]`` (default: first level; category order for pandas Categoricals, else sorted).
    ``robust=True`` gives Lin-Wei sandwich SEs, per subject or, with ``cluster_col`` (e.g. match_id),
    per cluster (supported for both tie methods): lifelines ``robust=True, cluster_col=...`` for Efron;
    for Breslow, H^-1 (sum_g U_g U_g') H^-1 from statsmodels' Breslow score residuals (see
    ``_breslow_sandwich_se``); neither applies a small-sample factor g/(g-1). ``strata`` fits a
    stratified model (e.g. on match_id for a conditional analysis of matched sets).
    ``weights_col`` fits a weighted partial likelihood (e.g. inverse-probability weights); Efron ties
    only (lifelines ``weights_col``), and it needs ``robust=True``: model SEs ignore the weighting.
    """
    _check_level(level)
    ties = ties.lower()
    if ties not in ("efron", "breslow"):
        raise SurvivalInputError(f"Cox model: ties must be 'efron' or 'breslow', got {ties!r}")
    if cluster_col is not None and not robust:
        raise SurvivalInputError("Cox model: cluster_col given without robust=True (cluster SEs are sandwich SEs)")
    if weights_col is not None and (ties != "efron" or not robust):
        raise SurvivalInputError("Cox model: weights need Efron ties and robust=True (sandwich SEs)")
    extra = list(dict.fromkeys(c for c in (cluster_col, strata, weights_col) if c is not None))
    design = _cox_design(frame, duration_col, event_col, covariates, categorical, reference, extra)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if ties == "efron":
            coef, se, loglik, impl = _fit_efron(design, robust, cluster_col, strata, weights_col)
        else:
            coef, se, loglik, impl = _fit_breslow(design, robust, cluster_col, strata)
    from scipy.stats import norm

    z_crit = float(norm.ppf((1 + level) / 2))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        z = coef / se
        terms = design.terms.assign(
            coef=coef, se=se, hr=np.exp(coef), hr_lower=np.exp(coef - z_crit * se),
            hr_upper=np.exp(coef + z_crit * se), z=z, p=2 * norm.sf(np.abs(z)),
        )
    df = design.frame
    return CoxResult(terms=terms, n=len(df), events=int(df["__event"].sum()), ties=ties, implementation=impl,
                     level=level, robust=robust, cluster_col=cluster_col, strata=strata,
                     references=design.references, log_likelihood=loglik, warnings=_messages(caught))


def _messages(caught: list[warnings.WarningMessage]) -> tuple[str, ...]:
    """Fitting warnings (non-convergence, separation) kept on the result instead of lost on stderr."""
    return tuple(dict.fromkeys(f"{w.category.__name__}: {str(w.message).strip()}" for w in caught
                               if not issubclass(w.category, DeprecationWarning)))


def _fit_efron(design: CoxDesign, robust: bool, cluster_col: str | None,
               strata: str | None, weights_col: str | None = None) -> tuple[np.ndarray, np.ndarray, float, str]:
    """Efron ties: lifelines CoxPHFitter (unpenalised)."""
    from lifelines import CoxPHFitter

    names = design.terms["term"].tolist()
    extra = list(dict.fromkeys(c for c in (cluster_col, strata, weights_col) if c is not None))
    cph = CoxPHFitter(penalizer=0.0)
    cph.fit(design.frame[["__duration", "__event", *names, *extra]], "__duration", "__event",
            robust=robust, cluster_col=cluster_col, strata=strata, weights_col=weights_col)
    coef = cph.params_.loc[names].to_numpy()
    se = cph.standard_errors_.loc[names].to_numpy()
    return coef, se, float(cph.log_likelihood_), f"lifelines {_version('lifelines')} CoxPHFitter (Efron ties)"


def _fit_breslow(design: CoxDesign, robust: bool, cluster_col: str | None,
                 strata: str | None) -> tuple[np.ndarray, np.ndarray, float, str]:
    """Breslow ties: statsmodels PHReg, as Stata's stcox default."""
    from statsmodels.duration.hazard_regression import PHReg

    df = design.frame
    names = design.terms["term"].tolist()
    model = PHReg(df["__duration"].to_numpy(), df[names].to_numpy(), status=df["__event"].to_numpy(),
                  ties="breslow", strata=None if strata is None else df[strata].to_numpy())
    res = model.fit()
    coef, se = np.asarray(res.params), np.asarray(res.bse)
    if robust:
        groups = df[cluster_col].to_numpy() if cluster_col is not None else np.arange(len(df))
        se = _breslow_sandwich_se(model, coef, groups)
    return coef, se, float(model.loglike(res.params)), f"statsmodels {_version('statsmodels')} PHReg(ties='breslow')"


def _breslow_sandwich_se(model: Any, params: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Lin-Wei sandwich SEs H^-1 (sum_g U_g U_g') H^-1 from statsmodels' (Breslow) score residuals.

    statsmodels' own ``fit(groups=...)`` returns NaN as soon as one subject is at risk at no event time
    (e.g. the longest time is censored): it marks that subject's score residual NaN, though it is 0.
    Here those residuals are 0, which reproduces lifelines' robust SEs exactly when there are no ties.
    """
    score = np.nan_to_num(model.score_residuals(params), nan=0.0)
    per_group = pd.DataFrame(score).groupby(pd.Series(groups).to_numpy()).sum().to_numpy()
    h_inv = np.linalg.inv(model.hessian(params))
    cov = h_inv @ per_group.T @ per_group @ h_inv
    return np.sqrt(np.diag(cov))


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


# ----------------------------------------------------------------------------------------------
# Proportional-hazards test (scaled Schoenfeld residuals)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PHTestResult(_TermsTable):
    """Grambsch-Therneau test per term and global; small p = evidence against proportional hazards."""

    terms: pd.DataFrame = field(repr=False)  # term, statistic, df, p
    global_statistic: float
    global_df: int
    global_p: float
    time_transform: str
    method: str
    implementation: str
    warnings: tuple[str, ...] = ()


def ph_test(
    frame: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    time_transform: str = "km",
    categorical: Sequence[str] = (),
    reference: dict[str, Any] | None = None,
    strata: str | None = None,
) -> PHTestResult:
    """Scaled Schoenfeld residual test of proportional hazards on the Efron (lifelines) fit.

    Per term: lifelines ``proportional_hazard_test`` (the approximation R's cox.zph used before
    survival 3.0): T_k = (sum_i g_i r*_ik)^2 / (d * Var(b_k) * sum_i g_i^2), g = centred transformed
    event times, r* = scaled Schoenfeld residuals, d = number of events; chi-square, 1 df.
    Global (same approximation, R survival < 3.0): T = (g'R) V (g'R)' * d / sum g^2 with R the
    unscaled Schoenfeld residuals and V the model covariance; chi-square with p df.
    time_transform: "km" (R's default), "rank" (lifelines' default), "identity" or "log".
    """
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test
    from lifelines.statistics import TimeTransformers
    from scipy.stats import chi2

    if time_transform not in ("km", "rank", "identity", "log"):
        raise SurvivalInputError(f"PH test: time_transform must be km, rank, identity or log, got {time_transform!r}")
    extra = [strata] if strata else []
    design = _cox_design(frame, duration_col, event_col, covariates, categorical, reference, extra)
    names = design.terms["term"].tolist()
    df = design.frame[["__duration", "__event", *names, *extra]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cph = CoxPHFitter(penalizer=0.0).fit(df, "__duration", "__event", strata=strata)
        res = proportional_hazard_test(cph, df, time_transform=time_transform)
    summary = res.summary.reindex(names)
    terms = pd.DataFrame({"term": names, "statistic": summary["test_statistic"].to_numpy(),
                          "df": 1, "p": summary["p"].to_numpy()})
    # global statistic from the same ingredients lifelines uses
    events = cph.event_observed.astype(bool)
    g = TimeTransformers().get(time_transform)(cph.durations, cph.event_observed, cph.weights)[events.values]
    g = np.asarray(g, dtype=float)
    g = g - g.mean()
    schoenfeld = cph.compute_residuals(df, kind="schoenfeld").loc[:, names].to_numpy()
    v = cph.variance_matrix_.loc[names, names].to_numpy()
    score = g @ schoenfeld
    d = float(events.sum())
    global_stat = float(score @ v @ score * d / np.sum(g**2))
    p_df = len(names)
    return PHTestResult(
        terms=terms, global_statistic=global_stat, global_df=p_df, global_p=float(chi2.sf(global_stat, p_df)),
        time_transform=time_transform,
        method=("scaled Schoenfeld residual test (Grambsch-Therneau), approximation of R survival < 3.0 "
                f"cox.zph; time transform '{time_transform}'; Efron ties"),
        implementation=f"lifelines {_version('lifelines')} proportional_hazard_test; global test computed here",
        warnings=_messages(caught),
    )
