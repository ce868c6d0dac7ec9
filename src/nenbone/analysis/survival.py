"""Survival statistics (Kaplan-Meier, log-rank, Cox, PH test), each result naming its software convention.

Pure functions on arrays: durations (>= 0, finite), event indicators (bool or 0/1, 1 = event) and,
where needed, group labels. No file IO. The Cox model and the PH test are the package's own engine
(``nenbone.analysis.cox``, equal to R's survival to 1e-8: tests/r_reference); lifelines and
statsmodels are not used here.

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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nenbone.analysis import coding
from nenbone.errors import NenboneError

S_TOLERANCE = 1e-9
SPSS_PERCENTILE_EPSILON = 0.05

METHOD_KM = "Kaplan-Meier product-limit estimate; Greenwood standard error"
METHOD_MEDIAN_FIRST = "first event time with S(t) <= 0.5 (SPSS, Stata, lifelines)"
METHOD_MEDIAN_MIDPOINT = (
    "midpoint of the flat stretch where S(t) = 0.5 exactly up to the next event, else first time with "
    "S(t) <= 0.5 (R print.survfit / summary()$table, SAS PROC LIFETEST)"
)
METHOD_MEDIAN_R_QUANTILE = (
    "R quantile.survfit: as the printed median, but where S(t) rests at 0.5 with only censorings after, "
    "the midpoint of that time and the last follow-up time"
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
    raw = durations.to_numpy() if isinstance(durations, pd.Series) else durations
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "fiu":  # plain numbers: no nullable round trip
        t = raw.astype(float, copy=False)
    else:
        t = np.asarray(pd.Series(durations, dtype="Float64").to_numpy(dtype=float, na_value=np.nan), dtype=float)
    e_raw = events.to_numpy() if isinstance(events, pd.Series) else events
    if isinstance(e_raw, np.ndarray) and e_raw.dtype.kind in "fiub" and e_raw.ndim == 1 and len(e_raw) == len(t):
        if e_raw.dtype.kind == "b" or np.isin(e_raw, (0, 1)).all():
            problems_t = ~np.isfinite(t) | (t < 0)
            if not problems_t.any() and len(t):
                return t, e_raw.astype(bool)
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
    """R's printed median (``print.survfit``, ``summary(fit)$table``; SAS): the first time with S(t) <= 0.5,
    except where S = 0.5 exactly from t_k and a later event takes S lower: then the midpoint of t_k and
    that event time. Where S stays at 0.5 to the end (only censorings follow), t_k itself: R's
    ``survmean`` rule. ``quantile(fit, 0.5)`` differs there (see ``_median_r_quantile``).
    """
    ev = _event_rows(table)
    first = _median_first(table)
    if first is None:
        return None
    k = int(np.flatnonzero(ev["time"].to_numpy() == first)[0])
    if abs(float(ev["S"].iloc[k]) - 0.5) <= S_TOLERANCE and k + 1 < len(ev):
        return (first + float(ev["time"].iloc[k + 1])) / 2.0
    return first


R_TOLERANCE = float(np.finfo(float).eps) ** 0.5  # R survival's tolerance in quantile.survfit


def _median_r_quantile(table: pd.DataFrame) -> float | None:
    """R's ``quantile(survfit(...), 0.5)`` (survival's ``findq``): as ``_median_midpoint``, except that
    where S sits at 0.5 exactly and only censorings follow, the midpoint of t_k and the last follow-up
    time. Comparisons with tolerance sqrt(machine eps), as R. None = not reached (R: NA).
    """
    x = np.concatenate([[0.0], table["time"].to_numpy(dtype=float)])
    y = np.concatenate([[0.0], 1.0 - table["S"].to_numpy(dtype=float)])
    x_max, p, tol = float(x[-1]), 0.5, R_TOLERANCE
    if np.max(y) < p:
        return None
    keep = np.concatenate([[True], y[1:] != y[:-1]]) & ~pd.Series(y).duplicated().to_numpy()
    x, y = x[keep], y[keep]
    if abs(p - y[-1]) < tol:  # S rests at 0.5 to the end of follow-up
        first = np.flatnonzero(y >= p - tol)[0]
        return float((x[first] + x_max) / 2.0)
    lo = np.flatnonzero(y >= p - tol)
    hi = np.flatnonzero(y >= p + tol)
    if not lo.size or not hi.size:
        return None
    return float((x[lo[0]] + x[hi[0]]) / 2.0)


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
    median_r_quantile: float | None
    median_r_quantile_method: str
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
    KaplanMeierFitter.confidence_interval_; where S = 1 the band is (1, 1). Where S = 0 it is undefined
    (NaN), as in R's survfit (NA); lifelines gives (0, 0) there.
    """
    z = _normal_quantile(level)
    s = table["S"].to_numpy(dtype=float)
    v = table["variance_sum"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(s)
        shift = z * np.sqrt(v) / log_s
        lower = np.exp(-np.exp(np.log(-log_s) - shift))
        upper = np.exp(-np.exp(np.log(-log_s) + shift))
    lower = np.where(s >= 1.0, 1.0, np.where(s <= 0.0, np.nan, lower))
    upper = np.where(s >= 1.0, 1.0, np.where(s <= 0.0, np.nan, upper))
    return lower, upper


def loglog_median_ci(durations: Any, events: Any, level: float = 0.95) -> tuple[float | None, float | None]:
    """Brookmeyer-Crowley median CI: the first times the log(-log) band of S(t) reaches 0.5.

    The band is lifelines' exponential Greenwood band (``loglog_band``); the lower (upper) limit of
    the median is the first time the lower (upper) band is <= 0.5, exactly what
    ``lifelines.utils.median_survival_times(kmf.confidence_interval_)`` returns (tested against it).
    A limit the band never reaches is None (not reached), as R (NA). Where S(t) reaches 0 the band is
    undefined: an upper band still above 0.5 until then gives "not reached" (R: NA; lifelines instead
    gives the time S reaches 0, and SPSS prints no log-log interval at all). Computed here, without
    importing lifelines, because the import alone costs more than a second in every workflow job.
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


KM_DRAWN_POINTS = 2000  # a printed page shows about this many distinct points across a figure


def step_vertices(table: pd.DataFrame, max_points: int = KM_DRAWN_POINTS) -> pd.DataFrame:
    """The rows of a KM table needed to draw its step function to within 1/max_points of each axis.

    Tables of at most ``max_points`` rows are returned unchanged (every figure of the studies). Longer
    ones (registry scale: one row per distinct time) are cut to a grid of max_points x max_points cells
    over (time, S): a row is kept where the curve enters a new cell, where a censoring mark enters a new
    cell, and the last row. Drawn 'steps-post', the thinned curve stays in the cell the true one is in,
    so it differs by at most one cell (under a printed pixel); marks hidden under another are dropped.
    """
    if max_points < 2:
        raise SurvivalInputError(f"step_vertices: max_points must be at least 2, got {max_points}")
    if len(table) <= max_points:
        return table
    time = table["time"].to_numpy(dtype=float)
    surv = table["S"].to_numpy(dtype=float)
    span = max(float(time.max()), np.finfo(float).tiny)
    cell = (np.floor(time / span * (max_points - 1)).astype(np.int64) * (max_points + 1)
            + np.floor(surv * max_points).astype(np.int64))
    enters = np.concatenate([[True], cell[1:] != cell[:-1]])
    enters[-1] = True
    cens = np.flatnonzero(table["censored"].to_numpy() > 0)
    cens_cell = cell[cens]
    cens_enters = cens[np.concatenate([[True], cens_cell[1:] != cens_cell[:-1]])] if cens.size else cens
    keep = np.union1d(np.flatnonzero(enters), cens_enters)
    return table.iloc[keep].reset_index(drop=True)


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
        median_r_quantile=_median_r_quantile(table),
        median_r_quantile_method=METHOD_MEDIAN_R_QUANTILE,
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
        for name, column in coding.treatment_dummies(col, c, levels, ref).items():
            out[name] = column
        terms += [{"term": coding.dummy_term(c, lev), "covariate": c, "level": lev, "reference": ref}
                  for lev in levels if lev != ref]
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
    """Cox model: one row per term (coef, se, se_model, HR and CI, Wald z and p) and what produced it.

    ``se`` is the SE the HR's CI and p use: robust (sandwich) when ``robust``, else model-based;
    ``se_model`` is always the model-based SE. ``tests``: likelihood ratio, score, Wald (robust
    variance when robust, as R) and, when robust, R's robust score test, each {statistic, df, p}.
    """

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
    log_likelihood_null: float = float("nan")
    iterations: int = 0
    tests: dict[str, dict[str, float]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    method: str = "Cox proportional hazards, partial likelihood; Wald z tests; HR CI = exp(coef +- z*se)"


IMPLEMENTATION_COX = "nenbone analysis.cox (Newton-Raphson as R survival coxph; equal to R 3.5-3 to 1e-8)"


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
    """Cox model with Efron ties (R's default) or Breslow ties (Stata stcox's), fitted as R's coxph.

    Categorical covariates (listed in ``categorical``, or any non-numeric column) are dummy-coded against
    ``reference[col]`` (default: first level; category order for pandas Categoricals, else sorted).
    ``robust=True`` gives R's sandwich SEs (``coxph(..., robust = TRUE)``), per subject or, with
    ``cluster_col`` (e.g. match_id), per cluster (R ``cluster()``); no small-sample factor g/(g-1).
    ``strata`` fits a stratified model (e.g. on match_id for a conditional analysis of matched sets).
    ``weights_col`` fits a weighted partial likelihood (e.g. inverse-probability weights); it needs
    ``robust=True``, since model SEs treat weights as frequencies. Engine and its rules:
    ``nenbone.analysis.cox`` (separation, a constant covariate and non-convergence are named errors).
    """
    from nenbone.analysis import cox as engine
    from scipy.stats import norm

    _check_level(level)
    ties = ties.lower()
    if ties not in ("efron", "breslow"):
        raise SurvivalInputError(f"Cox model: ties must be 'efron' or 'breslow', got {ties!r}")
    if cluster_col is not None and not robust:
        raise SurvivalInputError("Cox model: cluster_col given without robust=True (cluster SEs are sandwich SEs)")
    if weights_col is not None and not robust:
        raise SurvivalInputError("Cox model: weights need robust=True (sandwich SEs)")
    extra = list(dict.fromkeys(c for c in (cluster_col, strata, weights_col) if c is not None))
    design = _cox_design(frame, duration_col, event_col, covariates, categorical, reference, extra)
    df = design.frame
    names = design.terms["term"].tolist()
    fit = engine.fit_cox(df["__duration"].to_numpy(), df["__event"].to_numpy(), df[names].to_numpy(dtype=float),
                         names=names, ties=ties, robust=robust,
                         weights=None if weights_col is None else df[weights_col].to_numpy(dtype=float),
                         strata=None if strata is None else df[strata].to_numpy(),
                         cluster=None if cluster_col is None else df[cluster_col].to_numpy())
    coef, se = fit.coef, fit.se
    z_crit = float(norm.ppf((1 + level) / 2))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        z = coef / se
        terms = design.terms.assign(
            coef=coef, se=se, se_model=fit.model_se, hr=np.exp(coef), hr_lower=np.exp(coef - z_crit * se),
            hr_upper=np.exp(coef + z_crit * se), z=z, p=2 * norm.sf(np.abs(z)),
        )
    pvals = fit.p_values()
    stats = {"lr": fit.lr_test, "score": fit.score_test, "wald": fit.wald_test,
             "robust_score": fit.robust_score_test}
    tests = {k: {"statistic": float(v), "df": fit.df, "p": pvals[k]} for k, v in stats.items() if v is not None}
    return CoxResult(terms=terms, n=len(df), events=int(df["__event"].sum()), ties=ties,
                     implementation=IMPLEMENTATION_COX, level=level, robust=robust, cluster_col=cluster_col,
                     strata=strata, references=design.references, log_likelihood=fit.loglik,
                     log_likelihood_null=fit.loglik_null, iterations=fit.iterations, tests=tests)


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


def _zph(frame: pd.DataFrame, duration_col: str, event_col: str, covariates: Sequence[str], time_transform: str,
         categorical: Sequence[str], reference: dict[str, Any] | None, strata: str | None, ties: str,
         method: str) -> tuple[Any, dict[str, list[int]], pd.DataFrame]:
    """The design and ``cox.zph`` of ph_test and ph_curves (one computation, so the plotted residuals
    are those of the reported test): the zph result, the terms' columns and the design's terms table."""
    from nenbone.analysis import cox as engine

    if time_transform not in engine.ZPH_TRANSFORMS:
        raise SurvivalInputError(f"PH test: time_transform must be one of {engine.ZPH_TRANSFORMS}, got {time_transform!r}")
    extra = [strata] if strata else []
    design = _cox_design(frame, duration_col, event_col, covariates, categorical, reference, extra)
    names = design.terms["term"].tolist()
    df = design.frame
    groups: dict[str, list[int]] = {}
    for j, cov in enumerate(design.terms["covariate"]):
        groups.setdefault(cov, []).append(j)
    if method == "pre3":
        groups = {nm: [j] for j, nm in enumerate(names)}
    res = engine.zph(df["__duration"].to_numpy(), df["__event"].to_numpy(), df[names].to_numpy(dtype=float),
                     names=names, terms=groups, ties=ties, transform=time_transform, method=method,
                     strata=None if strata is None else df[strata].to_numpy())
    return res, groups, design.terms


def ph_test(
    frame: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    time_transform: str = "km",
    categorical: Sequence[str] = (),
    reference: dict[str, Any] | None = None,
    strata: str | None = None,
    ties: str = "efron",
    method: str = "score",
) -> PHTestResult:
    """Test of proportional hazards per covariate (all its dummies together) and global, as R's cox.zph.

    method="score" (default): R survival >= 3.0 ``cox.zph``, the score test of adding x * g(t);
    method="pre3": the test of R survival < 3.0 (scaled Schoenfeld residuals regressed on g(t)).
    time_transform: "km" (R's default, g = 1 - S(t-), left-continuous KM), "rank" or "identity".
    Both are ``nenbone.analysis.cox.zph``, equal to R 3.5-3 (tests/r_reference). lifelines'
    ``proportional_hazard_test`` matches neither (its km transform uses the right-continuous S(t)).
    """
    res, groups, _ = _zph(frame, duration_col, event_col, covariates, time_transform, categorical, reference,
                          strata, ties, method)
    k = len(groups)
    terms = pd.DataFrame({"term": list(groups), "statistic": res.chisq[:k], "df": res.df[:k], "p": res.p[:k]})
    return PHTestResult(
        terms=terms, global_statistic=float(res.chisq[k]), global_df=int(res.df[k]), global_p=float(res.p[k]),
        time_transform=time_transform, method=res.method,
        implementation="nenbone analysis.cox.zph (equal to R survival 3.5-3 cox.zph to 1e-8)",
    )


def ph_curves(
    frame: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    time_transform: str = "km",
    categorical: Sequence[str] = (),
    reference: dict[str, Any] | None = None,
    ties: str = "efron",
    tick_every: float = 12.0,
    n_grid: int = 40,
    smooth_df: int = 4,
    band_se: float = 2.0,
) -> dict[str, Any]:
    """The PH test of ``ph_test`` (method "score") with, per covariate column, beta(t) smoothed from the
    scaled Schoenfeld residuals on a grid of g(t) (R's plot.cox.zph: ``analysis.cox.zph_smooth``).

    Only aggregates are returned, no residual (one per event: an event time and a covariate value, which
    could be mapped back to a patient). With the km transform (the workflow's, as ph_test's default) the
    grid runs from g = 0 to 1 - S(t-) at the last event, values of the Kaplan-Meier curve; with identity or
    log its ends would be the first and last event times, one patient's value each.
    per column the grid x, fit, lower, upper, the Cox coefficient and its term's test; per model the
    global test; ``time_ticks``: g(t) at the multiples of ``tick_every`` (time units) between the first
    and the last event time, by linear interpolation between the events' (t, g(t)) as R's plot labels
    its axis (for the km transform these are 1 - S(t-), read off the Kaplan-Meier curve).
    """
    from nenbone.analysis import cox as engine

    res, groups, terms = _zph(frame, duration_col, event_col, covariates, time_transform, categorical, reference,
                              None, ties, "score")
    k = len(groups)
    term_of = {j: term for term, cols in groups.items() for j in cols}
    columns = []
    for j, row in enumerate(terms.to_dict(orient="records")):
        curve = engine.zph_smooth(res, j, df=smooth_df, n_grid=n_grid, band_se=band_se, name=row["term"])
        t = list(groups).index(term_of[j])
        columns.append({"term": row["term"], "covariate": row["covariate"], "level": row["level"],
                        "reference": row["reference"], "coef": float(res.coef[j]),
                        "test": {"term": term_of[j], "chi2": float(res.chisq[t]), "df": int(res.df[t]),
                                 "p": float(res.p[t])},
                        "x": curve.x.tolist(), "fit": curve.fit.tolist(), "lower": curve.lower.tolist(),
                        "upper": curve.upper.tolist()})
    times, first = np.unique(res.time, return_index=True)
    g = res.x[first]
    ticks = np.arange(np.ceil(times[0] / tick_every), np.floor(times[-1] / tick_every) + 1) * tick_every
    return {"transform": time_transform, "ties": ties, "n": int(len(frame)), "events": int(res.time.size),
            "global": {"chi2": float(res.chisq[k]), "df": int(res.df[k]), "p": float(res.p[k])},
            "test_method": res.method,
            "smoother": {"method": engine.ZPH_SMOOTH_METHOD, "df": smooth_df, "band_se": band_se, "n_grid": n_grid},
            "time_ticks": [{"time": float(v), "x": float(np.interp(v, times, g))} for v in ticks],
            "columns": columns}
