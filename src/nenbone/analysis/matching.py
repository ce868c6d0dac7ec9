"""Propensity-score matching (Study B): logistic model, greedy 1:k matching on the logit, balance, weights.

Why our own matcher: psmpy penalises its logistic model and its 1:k matcher has no caliper;
causallib matches 1:1 only. This module reproduces R MatchIt's

    matchit(treat ~ covariates, method = "nearest", distance = "glm", link = "linear.logit",
            ratio = k, caliper = c, std.caliper = TRUE, replace = FALSE, m.order = "largest")

Rules, as MatchIt applies them (R/input_processing.R, src/nn_matchC_vec.cpp):
- propensity model: unpenalised logistic regression (statsmodels Logit, Newton-Raphson);
  categorical covariates dummy-coded against their first level (sorted);
- distance: |logit(ps_treated) - logit(ps_control)|;
- caliper: caliper_sd_logit x SD of the logit. ``caliper_sd_convention = "all_units"`` (default): the SD over
  every patient in the model (treated and controls together, ddof = 1, as R's sd()), as MatchIt's
  ``std.caliper = TRUE``; ``"pooled_within"``: Austin's (2011) pooled SD sqrt((s_t^2 + s_c^2) / 2)
  of the treated and the controls (each ddof = 1). A control is within the caliper when
  distance <= caliper;
- greedy matching in rounds: in round r = 1..k every treated patient, in the stated order,
  takes its nearest still-available control; a treated patient that finds none stops there;
- exact ties in distance (and in the treated order) are broken by seeded random keys:
  ``rng = numpy.random.default_rng(seed)``; ``control_key = rng.random(n_controls)`` and then
  ``treated_key = rng.random(n_treated)``, in the order the patients appear in the input; the
  smaller key wins. MatchIt breaks ties by data order instead.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nenbone.analysis import coding
from nenbone.errors import ConfigError, NenboneError

log = logging.getLogger(__name__)

TREATED_ORDERS = ("descending_ps", "ascending_ps", "data", "random")
SD_CONVENTIONS = ("all_units", "pooled_within")  # the SD a caliper is a multiple of (see logit_sd)
REASON_CALIPER = "caliper"
REASON_EXHAUSTED = "pool exhausted"
REASON_MISSING = "missing covariate"
REASON_GROUP = "not in the treated or control group"


class MatchingError(NenboneError):
    """The propensity model or the matching cannot be carried out on these data."""


@dataclass(frozen=True)
class PropensityFit:
    """A fitted propensity model and the scores of every patient in it."""

    covariates: tuple[str, ...]
    params: pd.Series  # by design column ("const", "age_years", "sex[T.male]", ...)
    scores: pd.DataFrame  # patient_id, treated (bool), ps, logit; in input order
    converged: bool = True


@dataclass(frozen=True)
class MatchResult:
    """Everything a report needs about one matching run."""

    matched: pd.DataFrame  # patient_id, group, treated, ps, logit, match_id, weight
    per_treated: pd.DataFrame  # patient_id, ps, logit, match_id, n_controls, reason
    excluded: pd.DataFrame  # patient_id, group, reason
    scores: pd.DataFrame  # every patient in the model: patient_id, group, treated, ps, logit, matched
    ratio: int
    caliper: float | None  # in logit units (caliper_sd_logit x sd_logit); None = no caliper
    sd_logit: float  # the SD the caliper is a multiple of (config matching.caliper_sd_convention)
    treated_order: str
    seed: int
    model: PropensityFit | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def n_treated_matched(self) -> int:
        return int((self.per_treated["n_controls"] > 0).sum())

    @property
    def n_controls_matched(self) -> int:
        return int((~self.matched["treated"]).sum())


# --------------------------------------------------------------------------- model


def _is_categorical(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_string_dtype(s)


def treatment_dummies(values: pd.Series, name: str, reference: Any = None) -> dict[str, pd.Series]:
    """0/1 columns, one per level but the reference (default the first level, sorted as text), named by `dummy_term`."""
    text = values.astype(str)
    levels = sorted(values.dropna().astype(str).unique())
    columns = coding.treatment_dummies(text, name, levels, None if reference is None else str(reference))
    return {term: pd.Series(col, index=values.index) for term, col in columns.items()}


def design_matrix(frame: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Model matrix: intercept, numeric covariates as they are, categorical ones as dummies (first level = reference)."""
    missing = [c for c in covariates if c not in frame.columns]
    if missing:
        raise ConfigError(f"matching covariate(s) not in the derived data: {', '.join(missing)}")
    cols: dict[str, pd.Series] = {"const": pd.Series(1.0, index=frame.index)}
    for name in covariates:
        s = frame[name]
        if _is_categorical(s):
            levels = sorted(s.dropna().astype(str).unique())
            if len(levels) < 2:
                raise MatchingError(
                    f"propensity model: covariate '{name}' has a single value ({levels}) among the patients "
                    "to be matched; it cannot enter the model - remove it from the matching covariates (matching.covariates of the design settings)"
                )
            cols.update(treatment_dummies(s, name))
        else:
            x = pd.to_numeric(s, errors="raise").astype(float)
            if x.nunique() < 2:
                raise MatchingError(
                    f"propensity model: covariate '{name}' is constant among the patients to be matched; "
                    "it cannot enter the model - remove it from the matching covariates (matching.covariates of the design settings)"
                )
            cols[name] = x
    return pd.DataFrame(cols, index=frame.index)


def _separation_problems(X: pd.DataFrame, treated: np.ndarray) -> list[str]:
    """Binary design columns that predict the group perfectly for one of their values (quasi-separation)."""
    problems = []
    for col in X.columns[1:]:
        x = X[col].to_numpy()
        if not np.isin(x, (0.0, 1.0)).all():
            continue
        cells = {
            (g, v): int(((treated == g) & (x == v)).sum()) for g in (True, False) for v in (0.0, 1.0)
        }
        empty = [(g, v) for (g, v), n in cells.items() if n == 0]
        if empty:
            g, v = empty[0]
            who = "treated" if g else "control"
            other = "control" if g else "treated"
            problems.append(
                f"'{col}' = {int(v)} occurs only in the {other} group ({cells[(not g, v)]} patients, "
                f"0 {who}) - the model cannot estimate its coefficient (separation)"
            )
    return problems


def fit_propensity(
    frame: pd.DataFrame, covariates: Sequence[str], treated: pd.Series, id_col: str = "patient_id"
) -> PropensityFit:
    """Unpenalised logistic regression of group on the covariates; ps and its logit for every row."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    t = np.asarray(treated, dtype=bool)
    if t.sum() == 0 or (~t).sum() == 0:
        raise MatchingError(
            f"propensity model needs both groups: {int(t.sum())} treated and {int((~t).sum())} control patients"
        )
    X = design_matrix(frame, covariates)
    problems = _separation_problems(X, t)
    if problems:
        raise MatchingError("propensity model: perfect or quasi-perfect separation:\n  - " + "\n  - ".join(problems))
    rank = np.linalg.matrix_rank(X.to_numpy())
    if rank < X.shape[1]:
        raise MatchingError(
            f"propensity model: the covariates are collinear (design rank {rank} < {X.shape[1]} columns: "
            f"{', '.join(X.columns)})"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = sm.Logit(t.astype(float), X).fit(method="newton", maxiter=100, disp=0)
        except np.linalg.LinAlgError as exc:
            raise MatchingError(f"propensity model: singular information matrix ({exc}); check the covariates") from None
    separated = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    converged = bool(res.mle_retvals.get("converged", True)) and not any(
        issubclass(w.category, ConvergenceWarning) for w in caught
    )
    if separated or not converged:
        big = res.params.abs().sort_values(ascending=False).head(3)
        raise MatchingError(
            "propensity model: the logistic regression did not converge "
            f"({'perfect separation' if separated else 'no convergence in 100 Newton steps'}); largest "
            f"coefficients: {', '.join(f'{k} = {v:.1f}' for k, v in big.items())}. Some combination of "
            "covariates predicts the group perfectly: simplify the matching covariates (matching.covariates of the design settings)"
        )
    lin = X.to_numpy() @ res.params.to_numpy()
    scores = pd.DataFrame(
        {
            id_col: frame[id_col].to_numpy(),
            "treated": t,
            "ps": 1.0 / (1.0 + np.exp(-lin)),
            "logit": lin,
        }
    )
    return PropensityFit(covariates=tuple(covariates), params=res.params, scores=scores, converged=True)


# ----------------------------------------------------------------------- matching


def logit_sd(logit: np.ndarray, treated: np.ndarray, convention: str = "all_units") -> float:
    """The SD of the logit a caliper is a multiple of: over all patients (``all_units``, MatchIt) or
    Austin's pooled within-group SD sqrt((s_t^2 + s_c^2) / 2) (``pooled_within``); ddof = 1 throughout.
    All units: 0 for a single patient (as before). Pooled: refused (MatchingError) unless both groups have
    two or more patients: a group's variance is not defined otherwise."""
    x = np.asarray(logit, dtype=float)
    t = np.asarray(treated, dtype=bool)
    if convention == "all_units":
        return float(np.std(x, ddof=1)) if x.size > 1 else 0.0
    if convention == "pooled_within":
        if t.sum() < 2 or (~t).sum() < 2:
            raise MatchingError(f"matching: the pooled SD of the logit (caliper_sd_convention pooled_within) needs "
                                f"two or more patients in each group; the model has {int(t.sum())} treated and "
                                f"{int((~t).sum())} controls")
        return float(np.sqrt((np.var(x[t], ddof=1) + np.var(x[~t], ddof=1)) / 2))
    raise ConfigError(f"matching.caliper_sd_convention: must be one of {', '.join(SD_CONVENTIONS)} "
                      f"(got {convention!r})")


def _check_settings(ratio: Any, caliper_sd_logit: Any, treated_order: Any, seed: Any,
                    caliper_sd_convention: Any = "all_units") -> None:
    problems = []
    if not isinstance(ratio, (int, np.integer)) or isinstance(ratio, bool) or ratio < 1:
        problems.append(f"ratio must be an integer >= 1 (got {ratio!r})")
    if caliper_sd_logit is not None and (
        isinstance(caliper_sd_logit, bool) or not isinstance(caliper_sd_logit, (int, float)) or caliper_sd_logit <= 0
    ):
        problems.append(f"caliper_sd_logit must be a number > 0 or null (got {caliper_sd_logit!r})")
    if caliper_sd_convention not in SD_CONVENTIONS:
        problems.append(f"caliper_sd_convention must be one of {', '.join(SD_CONVENTIONS)} "
                        f"(got {caliper_sd_convention!r})")
    if treated_order not in TREATED_ORDERS:
        problems.append(f"treated_order must be one of {', '.join(TREATED_ORDERS)} (got {treated_order!r})")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        problems.append(f"seed must be an integer >= 0 (got {seed!r})")
    if problems:
        raise ConfigError("matching settings: " + "; ".join(problems))


def greedy_match(
    logit_treated: np.ndarray,
    logit_control: np.ndarray,
    ratio: int,
    caliper: float | None,
    order: np.ndarray,
    control_key: np.ndarray,
    replace: bool = False,
) -> tuple[list[list[int]], list[str]]:
    """Greedy nearest-neighbour matching in rounds; returns control indices per treated and why some got fewer than ratio."""
    n_t, n_c = len(logit_treated), len(logit_control)
    available = np.ones(n_c, dtype=bool)
    picks: list[list[int]] = [[] for _ in range(n_t)]
    reasons = [""] * n_t
    active = np.ones(n_t, dtype=bool)
    for _round in range(ratio):
        for i in order:
            if not active[i]:
                continue
            cand = available.copy()
            if replace and picks[i]:
                cand[picks[i]] = False
            if not cand.any():
                reasons[i], active[i] = REASON_EXHAUSTED, False
                continue
            dist = np.abs(logit_control - logit_treated[i])
            ok = cand if caliper is None else cand & (dist <= caliper)
            if not ok.any():
                reasons[i], active[i] = REASON_CALIPER, False
                continue
            idx = np.flatnonzero(ok)
            best = idx[np.lexsort((control_key[idx], dist[idx]))[0]]
            picks[i].append(int(best))
            if not replace:
                available[best] = False
    return picks, reasons


def treated_order_indices(logit_treated: np.ndarray, treated_key: np.ndarray, how: str) -> np.ndarray:
    """Positions of the treated patients in the order they choose controls."""
    n = len(logit_treated)
    if how == "descending_ps":
        return np.lexsort((treated_key, -logit_treated))
    if how == "ascending_ps":
        return np.lexsort((treated_key, logit_treated))
    if how == "data":
        return np.arange(n)
    if how == "random":
        return np.argsort(treated_key, kind="stable")
    raise ConfigError(f"matching.treated_order: unknown order {how!r}; use one of {', '.join(TREATED_ORDERS)}")


def match_on_scores(
    scores: pd.DataFrame,
    *,
    ratio: int,
    caliper_sd_logit: float | None,
    treated_order: str,
    seed: int,
    replace: bool = False,
    id_col: str = "patient_id",
    caliper_sd_convention: str = "all_units",
) -> MatchResult:
    """Match on given scores (columns id_col, treated, logit; optional group, ps); the propensity model is not refitted.
    The caliper is caliper_sd_logit x the SD of the logit named by ``caliper_sd_convention`` (``logit_sd``)."""
    _check_settings(ratio, caliper_sd_logit, treated_order, seed, caliper_sd_convention)
    sc = scores.reset_index(drop=True).copy()
    sc["treated"] = sc["treated"].astype(bool)
    if "ps" not in sc:
        sc["ps"] = 1.0 / (1.0 + np.exp(-sc["logit"].astype(float)))
    if "group" not in sc:
        sc["group"] = np.where(sc["treated"], "treated", "control")
    if sc[id_col].duplicated().any():
        dup = sc.loc[sc[id_col].duplicated(), id_col].astype(str).tolist()
        raise MatchingError(f"matching: duplicated patient IDs: {', '.join(dup)}")
    t_rows = np.flatnonzero(sc["treated"].to_numpy())
    c_rows = np.flatnonzero(~sc["treated"].to_numpy())
    lt = sc.loc[t_rows, "logit"].to_numpy(dtype=float)
    lc = sc.loc[c_rows, "logit"].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    control_key = rng.random(len(c_rows))
    treated_key = rng.random(len(t_rows))
    sd = logit_sd(sc["logit"].to_numpy(dtype=float), sc["treated"].to_numpy(), caliper_sd_convention)
    caliper = None if caliper_sd_logit is None else float(caliper_sd_logit) * sd
    order = treated_order_indices(lt, treated_key, treated_order)
    picks, reasons = greedy_match(lt, lc, int(ratio), caliper, order, control_key, replace)

    match_id = np.empty(len(t_rows), dtype=int)
    match_id[order] = np.arange(1, len(t_rows) + 1)
    per = pd.DataFrame(
        {
            id_col: sc.loc[t_rows, id_col].to_numpy(),
            "ps": sc.loc[t_rows, "ps"].to_numpy(),
            "logit": lt,
            "match_id": match_id,
            "n_controls": [len(p) for p in picks],
            "reason": reasons,
        }
    ).sort_values("match_id", kind="stable").reset_index(drop=True)

    rows = []
    n_t_matched = sum(1 for p in picks if p)
    n_c_matched = sum(len(p) for p in picks)
    scale = n_c_matched / n_t_matched if n_t_matched else 0.0
    ids, grp = sc[id_col].to_numpy(), sc["group"].to_numpy()
    ps, lg = sc["ps"].to_numpy(dtype=float), sc["logit"].to_numpy(dtype=float)
    for i in order:
        if not picks[i]:
            continue
        r = t_rows[i]
        rows.append((ids[r], grp[r], True, ps[r], lg[r], match_id[i], 1.0))
        for j in picks[i]:
            c = c_rows[j]
            rows.append((ids[c], grp[c], False, ps[c], lg[c], match_id[i], scale / len(picks[i])))
    matched = pd.DataFrame(rows, columns=[id_col, "group", "treated", "ps", "logit", "match_id", "weight"])
    matched["match_id"] = matched["match_id"].astype(int)
    matched["treated"] = matched["treated"].astype(bool)
    in_match = set(matched[id_col])
    sc["matched"] = sc[id_col].isin(in_match)
    short = per[per["n_controls"] < ratio]
    if len(short):
        log.info(
            "matching: %d of %d treated patients found fewer than %d controls (%s)",
            len(short), len(per), ratio, ", ".join(f"{p}: {n} [{r}]" for p, n, r in
                                                    short[[id_col, "n_controls", "reason"]].itertuples(index=False)),
        )
    return MatchResult(
        matched=matched,
        per_treated=per,
        excluded=pd.DataFrame({id_col: pd.Series(dtype=object), "group": pd.Series(dtype=object),
                               "reason": pd.Series(dtype=object)}),
        scores=sc[[id_col, "group", "treated", "ps", "logit", "matched"]],
        ratio=int(ratio),
        caliper=caliper,
        sd_logit=sd,
        treated_order=treated_order,
        seed=int(seed),
        settings={"ratio": ratio, "caliper_sd_logit": caliper_sd_logit,
                  "caliper_sd_convention": caliper_sd_convention, "treated_order": treated_order, "seed": seed,
                  "replace": replace},
    )


def match(
    frame: pd.DataFrame,
    settings: Mapping[str, Any],
    *,
    id_col: str = "patient_id",
    group_col: str = "group",
) -> MatchResult:
    """Fit the propensity model on complete cases of the two groups and match (settings = the study's matching settings)."""
    required = ("treated_group", "control_group", "covariates", "ratio", "caliper_sd_logit", "treated_order", "seed")
    absent = [k for k in required if k not in settings]
    if absent:
        raise ConfigError(f"matching settings: missing key(s) {', '.join(absent)}")
    treated_group, control_group = settings["treated_group"], settings["control_group"]
    covariates = list(settings["covariates"])
    replace = bool(settings.get("replace", False))
    caliper_sd_convention = settings.get("caliper_sd_convention", "all_units")
    _check_settings(settings["ratio"], settings["caliper_sd_logit"], settings["treated_order"], settings["seed"],
                    caliper_sd_convention)
    for col in (id_col, group_col, *covariates):
        if col not in frame.columns:
            raise ConfigError(f"matching: column '{col}' (from the matching settings) is not in the derived data")

    excluded = []
    in_groups = frame[group_col].isin([treated_group, control_group])
    for pid, grp in frame.loc[~in_groups, [id_col, group_col]].itertuples(index=False):
        excluded.append((pid, grp, REASON_GROUP))
    data = frame.loc[in_groups]
    miss = data[covariates].isna()
    incomplete = miss.any(axis=1)
    for (pid, grp), row in zip(data.loc[incomplete, [id_col, group_col]].itertuples(index=False),
                               miss.loc[incomplete].itertuples(index=False)):
        names = [c for c, m in zip(covariates, row) if m]
        excluded.append((pid, grp, f"{REASON_MISSING}: {', '.join(names)}"))
    data = data.loc[~incomplete].reset_index(drop=True)
    if excluded:
        log.warning(
            "matching: %d patient(s) left out of the propensity model (%s)",
            len(excluded), "; ".join(sorted({r for _, _, r in excluded})),
        )
    treated = data[group_col] == treated_group
    fit = fit_propensity(data, covariates, treated, id_col=id_col)
    scores = fit.scores.copy()
    scores["group"] = data[group_col].to_numpy()
    res = match_on_scores(
        scores,
        ratio=int(settings["ratio"]),
        caliper_sd_logit=settings["caliper_sd_logit"],
        treated_order=settings["treated_order"],
        seed=int(settings["seed"]),
        replace=replace,
        id_col=id_col,
        caliper_sd_convention=caliper_sd_convention,
    )
    excl = pd.DataFrame(excluded, columns=[id_col, "group", "reason"])
    return MatchResult(
        matched=res.matched,
        per_treated=res.per_treated,
        excluded=excl,
        scores=res.scores,
        ratio=res.ratio,
        caliper=res.caliper,
        sd_logit=res.sd_logit,
        treated_order=res.treated_order,
        seed=res.seed,
        model=fit,
        settings=dict(settings),
    )


# ------------------------------------------------------------------------ balance


def _weighted_mean_var(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean and variance with the reliability-weights correction (= ddof 1 for equal weights)."""
    sw = w.sum()
    m = float((w * x).sum() / sw)
    denom = sw - (w**2).sum() / sw
    v = float((w * (x - m) ** 2).sum() / denom) if denom > 0 else 0.0
    return m, v


def _smd(diff: float, pooled_var: float) -> float:
    if pooled_var > 0:
        return diff / np.sqrt(pooled_var)
    return 0.0 if diff == 0 else float(np.sign(diff) * np.inf)


def smd_table(
    frame: pd.DataFrame,
    covariates: Sequence[str],
    treated: pd.Series,
    weights: pd.Series | None = None,
) -> pd.DataFrame:
    """Standardised mean differences, treated minus control.

    Continuous: (mean_t - mean_c) / sqrt((var_t + var_c) / 2) (pooled SD, Austin 2009).
    Binary (0/1) and each level of a categorical covariate: (p_t - p_c) / sqrt((p_t(1-p_t) + p_c(1-p_c)) / 2).
    With weights (matching or IPT weights) means, proportions and variances are weighted; rows with
    a missing value are left out of that covariate only.
    """
    t = np.asarray(treated, dtype=bool)
    w_all = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    out = []
    for name in covariates:
        s = frame[name].reset_index(drop=True)
        ok = s.notna().to_numpy()
        if _is_categorical(s):
            text = s.astype(str)
            levels = sorted(text[ok].unique())
            items = [(lvl, (text == lvl).astype(float).to_numpy(), "categorical") for lvl in levels]
        else:
            x = pd.to_numeric(s, errors="coerce").astype(float).to_numpy()
            kind = "binary" if np.isin(x[ok], (0.0, 1.0)).all() else "continuous"
            items = [("1" if kind == "binary" else "", x, kind)]
        for level, x, kind in items:
            mt, vt = _weighted_mean_var(x[ok & t], w_all[ok & t]) if (ok & t).any() else (np.nan, np.nan)
            mc, vc = _weighted_mean_var(x[ok & ~t], w_all[ok & ~t]) if (ok & ~t).any() else (np.nan, np.nan)
            if kind == "continuous":
                pooled = (vt + vc) / 2
            else:
                pooled = (mt * (1 - mt) + mc * (1 - mc)) / 2
            smd = _smd(mt - mc, pooled) if np.isfinite(mt) and np.isfinite(mc) else np.nan
            out.append((name, level, kind, mt, mc, smd))
    return pd.DataFrame(out, columns=["variable", "level", "kind", "treated", "control", "smd"])


def balance_table(
    frame: pd.DataFrame,
    result: MatchResult,
    covariates: Sequence[str] | None = None,
    *,
    id_col: str = "patient_id",
) -> pd.DataFrame:
    """SMDs before matching (every patient in the propensity model) and after (matched sets, matching weights)."""
    covs = list(covariates if covariates is not None else (result.model.covariates if result.model else []))
    data = frame.set_index(id_col)
    before_ids = result.scores[id_col]
    before = smd_table(data.loc[before_ids, covs].reset_index(), covs, result.scores["treated"].to_numpy())
    m = result.matched
    after = smd_table(data.loc[m[id_col], covs].reset_index(), covs, m["treated"].to_numpy(), m["weight"].to_numpy())
    out = before.rename(columns={"treated": "treated_before", "control": "control_before", "smd": "smd_before"})
    out[["treated_after", "control_after", "smd_after"]] = after[["treated", "control", "smd"]].to_numpy()
    return out


def iptw_weights(ps: pd.Series, treated: pd.Series, estimand: str = "ATT") -> pd.Series:
    """Inverse-probability-of-treatment weights: ATT (treated 1, controls ps/(1-ps)) or ATE (1/ps, 1/(1-ps)).

    ATT is the natural estimand here: the question is how patients with bone metastases would have
    fared with liver-only disease, the same target as 1:k matching on the treated. Weights are not
    normalised (weighted Kaplan-Meier estimates do not change when a group's weights are rescaled).
    """
    p = np.asarray(ps, dtype=float)
    t = np.asarray(treated, dtype=bool)
    if ((p <= 0) | (p >= 1)).any():
        raise MatchingError("IPT weights: propensity scores of exactly 0 or 1 give infinite weights")
    if estimand == "ATT":
        w = np.where(t, 1.0, p / (1 - p))
    elif estimand == "ATE":
        w = np.where(t, 1 / p, 1 / (1 - p))
    else:
        raise ConfigError(f"IPT weights: estimand must be 'ATT' or 'ATE' (got {estimand!r})")
    index = ps.index if isinstance(ps, pd.Series) else None
    return pd.Series(w, index=index, name=f"iptw_{estimand.lower()}")


# ------------------------------------------------------------------------ attrition


def match_attrition(frame: pd.DataFrame, result: MatchResult, settings: Mapping[str, Any],
                    labels: Mapping[str, str], *, group_col: str = "group") -> dict[str, Any]:
    """Who entered the propensity model, who was left out for a missing covariate (by variable, with
    its label: `labels` maps each covariate to the codebook's label, which the flow diagram prints) and
    who was matched, per study group (treated first): results/matched/<study>_attrition.json."""
    covariates = list(settings["covariates"])
    unlabelled = [c for c in covariates if not labels.get(c)]
    if unlabelled:
        raise ConfigError(f"match attrition: the codebook gives no label for the covariate(s) {', '.join(unlabelled)} "
                          "(add a label under derived:)")
    out = []
    for name in (settings["treated_group"], settings["control_group"]):
        rows = frame.loc[frame[group_col] == name]
        missing = rows[covariates].isna()
        n_in_model = int((result.scores["group"] == name).sum())
        n_matched = int((result.matched["group"] == name).sum())
        out.append({
            "group": str(name),
            "n": int(len(rows)),
            "n_in_model": n_in_model,
            "excluded_missing": [{"variable": c, "label": str(labels[c]), "n": int(missing[c].sum())}
                                 for c in covariates if missing[c].any()],
            "n_missing_any": int(missing.any(axis=1).sum()),
            "n_matched": n_matched,
            "n_unmatched": n_in_model - n_matched,
        })
    return {"groups": out}


def _plain(value: Any) -> Any:
    """numpy scalars to plain Python; NaN to None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def matching_summary(result: MatchResult, balance: pd.DataFrame) -> dict[str, Any]:
    """Aggregate facts of one matching run, safe to publish (no row-level data): results/matched/<study>_matching.json."""
    per = result.per_treated
    short = per[per["n_controls"] < result.ratio]
    reasons = short["reason"].fillna("").value_counts().sort_index()
    model = result.model
    return _plain({
        "ratio": result.ratio,
        "caliper_sd_logit": result.settings.get("caliper_sd_logit"),
        "caliper_sd_convention": result.settings.get("caliper_sd_convention", "all_units"),
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


# ------------------------------------------------------------------------ the match rule


@dataclass(frozen=True)
class StudyMatching:
    """What the match rule writes for one study (results/matched/<study>_*)."""

    matched: pd.DataFrame  # patient_id, group, ps, logit_ps, match_id, weight
    scores: pd.DataFrame  # patient_id, group, ps, logit_ps, matched
    balance: pd.DataFrame  # label, covariate, level, kind, *_before, *_after
    summary: dict[str, Any]
    attrition: dict[str, Any]


def labelled_balance(frame: pd.DataFrame, result: MatchResult, covariates: Sequence[str],
                     labels: Mapping[str, str]) -> pd.DataFrame:
    """The balance table with each row's label ('Sex: male'; a 0/1 flag's level 1 is not repeated)."""
    balance = balance_table(frame, result, covariates)
    balance.insert(0, "label", [labels.get(v, v) + (f": {lvl}" if lvl not in ("", "1") else "")
                                for v, lvl in zip(balance["variable"], balance["level"])])
    return balance.rename(columns={"variable": "covariate"})


def match_study(derived: pd.DataFrame, settings: Mapping[str, Any], labels: Mapping[str, str]) -> StudyMatching:
    """Propensity score, matching, balance, summary and attrition of one study, as the match rule writes them."""
    settings = dict(settings)
    result = match(derived, settings)
    matched = result.matched[["patient_id", "group", "ps", "logit", "match_id", "weight"]]
    scores = result.scores[["patient_id", "group", "ps", "logit", "matched"]]
    balance = labelled_balance(derived, result, settings["covariates"], labels)
    return StudyMatching(matched=matched.rename(columns={"logit": "logit_ps"}),
                         scores=scores.rename(columns={"logit": "logit_ps"}), balance=balance,
                         summary=matching_summary(result, balance),
                         attrition=match_attrition(derived, result, settings, labels))
