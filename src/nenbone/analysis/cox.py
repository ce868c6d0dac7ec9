"""Native Cox proportional hazards engine, written to equal R's ``survival::coxph`` (survival 3.x).

Pure numpy/scipy on arrays (pandas only to code strata/cluster labels); no file IO. ``survival.cox`` builds the design (dummy coding,
missing-value checks) and calls ``fit_cox`` here; ``zph`` is R's ``cox.zph`` (survival >= 3.0).

What is computed, and how it follows R (``coxph.fit`` / ``coxfit6.c`` / ``coxscore2.c`` / ``cox.zph``):

* Times within sqrt(machine eps) of each other (absolutely, or relative to the mean |time|) are
  one tied time, as R's ``aeqSurv`` (``coxph.control(timefix = TRUE)``) makes them.
* Risk sets by sorting once on (stratum, time descending) and cumulative sums: O(n log n) for the
  sort, O(n p^2) per Newton step (p cumulative sums and one weighted X'X for the information).
* Ties: Efron (R's default) or Breslow (Stata's ``stcox`` default). With case weights, the d tied
  deaths at a time share meanwt = (sum of their weights) / d, as R does.
* Newton-Raphson from beta = 0; an iteration whose log-likelihood falls is replaced by the midpoint
  of the old and new beta (step halving); converged when |1 - ll_old / ll_new| <= 1e-9 without
  halving (R's ``eps``), at most ``max_iter`` (R: 20) iterations.
* Model-based variance: inverse information at the estimate. Robust (sandwich) variance: R's
  ``coxph(..., robust = TRUE)`` / ``cluster()``: D'D with D the weighted dfbeta residuals
  w_i U_i V summed within clusters (each subject its own cluster without one); no g/(g-1) factor.
  U_i are R's score residuals, Efron ties included (each tied death takes 1/d of each of the d
  Efron steps, and its own risk weight is reduced by k/d at step k).
* Tests: likelihood ratio 2 (ll - ll0), score U(0)' I(0)^-1 U(0), Wald b' V^-1 b (V robust when
  robust, as R's ``wald.test``) and, when robust, R's robust score test (``rscore``).
* Refusals (named errors, never a silent NA as R gives): a covariate constant within every stratum,
  collinear covariates (singular information), a likelihood that does not converge, and monotone
  likelihood (perfect separation), detected by R's own rule |U V| > 1e-9 and > sqrt(eps) |b|
  (R only warns "Loglik converged before variable ...; coefficient may be infinite") or, when the
  log-likelihood still climbs after max_iter iterations, by a coefficient worth e^10 per SD.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nenbone.errors import NenboneError

EPS = 1e-9  # R coxph.control(eps)
TOLER_INF = EPS**0.5  # R coxph.control(toler.inf)
TIMEFIX_TOLERANCE = float(np.finfo(float).eps) ** 0.5  # R aeqSurv
MAX_ITER = 20  # R coxph.control(iter.max)


class CoxModelError(NenboneError):
    """A Cox model the data cannot support: inputs, a constant covariate, separation, no convergence."""


class CoxSeparationError(CoxModelError):
    """Monotone likelihood (perfect separation): a coefficient runs to +-infinity."""


class CoxConstantCovariateError(CoxModelError):
    """A covariate constant (within every stratum) or collinear with others: not estimable."""


# ----------------------------------------------------------------------------------------------
# Risk-set bookkeeping
# ----------------------------------------------------------------------------------------------


def aeq_times(times: np.ndarray, tolerance: float = TIMEFIX_TOLERANCE) -> np.ndarray:
    """R's ``aeqSurv``: times closer than ``tolerance`` (absolutely or relative to mean |t|) become one."""
    t = np.asarray(times, dtype=float)
    y = _sorted_unique(t[np.isfinite(t)])
    if y.size < 2:
        return t
    dy = np.diff(y)
    tied = (dy <= tolerance) | (dy / np.mean(np.abs(y)) <= tolerance)
    if not tied.any():
        return t
    cuts = y[np.concatenate([[True], ~tied])]
    return cuts[np.searchsorted(cuts, t, side="right") - 1]


def _sorted_unique(t: np.ndarray) -> np.ndarray:
    """np.unique, faster when t is already sorted (either direction), as the benchmark's inputs are not."""
    if t.size > 1 and (np.all(t[1:] >= t[:-1]) or np.all(t[1:] <= t[:-1])):
        asc = t if t[0] <= t[-1] else t[::-1]
        keep = np.concatenate([[True], asc[1:] != asc[:-1]])
        return asc[keep]
    return np.unique(t)


@dataclass(frozen=True)
class RiskSets:
    """Data sorted by stratum, then time *descending*, with the groups of equal (stratum, time).

    In this order the risk set of a group (same stratum, time >= its time) is every row from its
    stratum's first row to the group's last row: a plain cumulative sum. ``group`` (per sorted row)
    indexes the distinct (stratum, time) groups; ``starts`` their first row; ``first`` (per group) the
    first group of its stratum, ``stratum_end`` the first group of the next one. ``tied_rows`` are the
    event rows in groups with two or more events (what Efron's correction needs), ``tied_slot`` their
    group's index among those groups.
    """

    order: np.ndarray
    time: np.ndarray
    event: np.ndarray
    weight: np.ndarray
    xt: np.ndarray  # covariates, p x n (each covariate contiguous)
    strata: np.ndarray
    group: np.ndarray
    starts: np.ndarray
    stratum_end: np.ndarray
    first: np.ndarray
    deaths: np.ndarray  # per group: number of events
    death_weight: np.ndarray  # per group: sum of the events' weights
    dead_rows: np.ndarray
    tied_rows: np.ndarray
    tied_slot: np.ndarray
    n_tied: int
    one_stratum: bool
    weighted_dead_sum: np.ndarray  # sum over events of w_i x_i

    @property
    def x(self) -> np.ndarray:
        return self.xt.T


def risk_sets(time: np.ndarray, event: np.ndarray, x: np.ndarray, weight: np.ndarray,
              strata: np.ndarray, order: np.ndarray | None = None) -> RiskSets:
    """Sort once (``order``: already sorted by stratum, then time descending) and index the
    (stratum, time) groups; everything else is cumulative sums."""
    if order is None:
        one = bool(strata.size == 0 or strata.min() == strata.max())
        order = np.argsort(-time, kind="stable") if one else np.lexsort((-time, strata))
    t, e, w, s = time[order], event[order], weight[order], strata[order]
    xt = np.ascontiguousarray(x.T)[:, order]
    n = t.size
    new = np.ones(n, dtype=bool)
    new[1:] = (t[1:] != t[:-1]) | (s[1:] != s[:-1])
    starts = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    g_strata = s[starts]
    new_stratum = np.ones(starts.size, dtype=bool)
    new_stratum[1:] = g_strata[1:] != g_strata[:-1]
    stratum_starts = np.flatnonzero(new_stratum)
    stratum_id = np.cumsum(new_stratum) - 1
    bounds = np.append(stratum_starts, starts.size)
    first = stratum_starts[stratum_id]
    stratum_end = bounds[stratum_id + 1]
    ef = e.astype(float)
    deaths = np.add.reduceat(ef, starts)
    death_weight = np.add.reduceat(ef * w, starts)
    dead_rows = np.flatnonzero(e == 1)
    tied_groups = np.flatnonzero(deaths >= 2)
    in_tied = np.isin(group[dead_rows], tied_groups)
    tied_rows = dead_rows[in_tied]
    tied_slot = np.searchsorted(tied_groups, group[tied_rows])
    return RiskSets(order, t, e, w, xt, s, group, starts, stratum_end, first, deaths, death_weight,
                    dead_rows, tied_rows, tied_slot, int(tied_groups.size), bool(stratum_starts.size == 1),
                    xt[:, dead_rows] @ w[dead_rows])


def _later_sum(per_group: np.ndarray, rs: RiskSets) -> np.ndarray:
    """Sum over the groups of the same stratum with time <= the group's (from it to the stratum's end)."""
    rc = np.cumsum(per_group[::-1])[::-1]
    return rc - np.concatenate([rc, [0.0]])[rs.stratum_end]


@dataclass(frozen=True)
class _Steps:
    """Efron (or Breslow) sub-steps at the event groups: for each, its group, k/d and meanwt."""

    group: np.ndarray  # event group of each sub-step
    frac: np.ndarray  # k/d (0 for Breslow and for single events)
    meanwt: np.ndarray  # weight of the sub-step in the likelihood
    slot: np.ndarray  # index of the group among the tied groups (0 where frac = 0)


def _steps(rs: RiskSets, efron: bool) -> _Steps:
    eg = np.flatnonzero(rs.deaths > 0)
    d = rs.deaths[eg].astype(np.int64)
    if efron:
        reps = d
        grp = np.repeat(eg, reps)
        offsets = np.repeat(np.cumsum(reps) - reps, reps)
        k = np.arange(grp.size) - offsets
        frac = k / np.repeat(d, reps)
        meanwt = np.repeat(rs.death_weight[eg] / d, reps)
        tied_groups = np.flatnonzero(rs.deaths >= 2)
        slot = np.clip(np.searchsorted(tied_groups, grp), 0, max(tied_groups.size - 1, 0))
    else:
        grp, frac, meanwt = eg, np.zeros(eg.size), rs.death_weight[eg]
        slot = np.zeros(eg.size, dtype=np.int64)
    return _Steps(grp, frac, meanwt, slot)


@dataclass(frozen=True)
class _Eval:
    loglik: float
    score: np.ndarray
    info: np.ndarray
    # per sub-step (kept for residuals and zph)
    denom: np.ndarray
    xbar: np.ndarray  # sub-steps x p
    step_info: np.ndarray | None = None


def _evaluate(rs: RiskSets, steps: _Steps, beta: np.ndarray, need_info: bool = True,
              step_info: bool = False) -> _Eval:
    """Log partial likelihood, score and information at beta (R coxfit6's sums, vectorised).

    One pass per covariate and per pair of covariates: risk-set sums of r x_j and r x_i x_j by
    cumulative sums, taken at the event sub-steps; Efron's k/d share of the tied deaths' own sums
    subtracted where a time has two or more events.
    """
    xt, w = rs.xt, rs.weight
    p = xt.shape[0]
    g, f, mw = steps.group, steps.frac, steps.meanwt
    efron_ties = rs.n_tied > 0 and bool(np.any(f))

    # risk set of a group = rows from its stratum's first row to the group's last row (time descending)
    last_row = np.append(rs.starts[1:], rs.group.size)[g] - 1
    stratum_row = None if rs.one_stratum else rs.starts[rs.first[g]]

    def at_steps(values: np.ndarray) -> np.ndarray:
        c = np.cumsum(values)
        risk = c[last_row]
        if stratum_row is not None:
            risk = risk - np.concatenate([[0.0], c])[stratum_row]
        if efron_ties:
            tied = np.bincount(rs.tied_slot, weights=values[rs.tied_rows], minlength=rs.n_tied)
            risk[tied_steps] -= tied_frac * tied[tied_slot]
        return risk

    tied_steps = np.flatnonzero(f > 0)
    tied_frac, tied_slot = f[tied_steps], steps.slot[tied_steps]
    eta = beta @ xt
    with np.errstate(over="ignore", invalid="ignore"):
        r = w * np.exp(eta)
    denom = at_steps(r)
    wx_dead = rs.weighted_dead_sum
    with np.errstate(divide="ignore", invalid="ignore"):
        loglik = float(beta @ wx_dead - mw @ np.log(denom))
    xbar = np.empty((p, g.size))
    score = np.empty(p)
    rx = []
    for j in range(p):
        with np.errstate(over="ignore", invalid="ignore"):
            rx.append(r * xt[j])
            xbar[j] = at_steps(rx[j]) / denom
        score[j] = wx_dead[j] - mw @ xbar[j]
    info = np.zeros((p, p))
    per_step = np.zeros((g.size, p, p)) if step_info else None
    if need_info:
        a = mw / denom
        # sum_k a_k S2(t_k) = sum_i r_i Lambda_i x_i x_i', Lambda_i = sum of a_k over the steps whose
        # risk set holds i (same stratum, t_k <= t_i); Efron removes sum_k a_k f_k S2_tied(t_k)
        lam = _later_sum(np.bincount(g, weights=a, minlength=rs.starts.size), rs)[rs.group]
        with np.errstate(over="ignore", invalid="ignore"):
            info = (xt * (r * lam)) @ xt.T
        if efron_ties:
            b_g = np.bincount(steps.slot[tied_steps], weights=a[tied_steps] * tied_frac, minlength=rs.n_tied)
            xr = xt[:, rs.tied_rows]
            info -= (xr * (r[rs.tied_rows] * b_g[rs.tied_slot])) @ xr.T
        info -= (xbar * mw) @ xbar.T
        if per_step is not None:  # per sub-step information (cox.zph): one cumulative sum per pair
            for i in range(p):
                for j in range(i, p):
                    with np.errstate(over="ignore", invalid="ignore"):
                        s2 = at_steps(rx[i] * xt[j])
                    per_step[:, i, j] = per_step[:, j, i] = a * s2 - mw * xbar[i] * xbar[j]
    return _Eval(loglik, score, info, denom, xbar.T, per_step)


def score_residuals(rs: RiskSets, steps: _Steps, beta: np.ndarray, ev: _Eval | None = None) -> np.ndarray:
    """R's score residuals U_i (unweighted), in the sorted order of ``rs`` (coxscore2.c, vectorised).

    U_i = delta_i (x_i - (1/d) sum_k xbar_k) - r_i sum_{t_k <= t_i} h_k c_ik (x_i - xbar_k), with
    h_k = meanwt / D_k the hazard of sub-step k, r_i = exp(eta_i) and c_ik = 1 except for the deaths
    at t_k under Efron, where c_ik = 1 - k/d.
    """
    ev = ev or _evaluate(rs, steps, beta, need_info=False)
    x, e = rs.x, rs.event.astype(bool)
    gn = rs.starts.size
    p = x.shape[1]
    g, f, mw = steps.group, steps.frac, steps.meanwt
    h = mw / ev.denom
    hx = h[:, None] * ev.xbar
    big_h = np.bincount(g, weights=h, minlength=gn)
    big_a = np.column_stack([np.bincount(g, weights=hx[:, j], minlength=gn) for j in range(p)])
    big_b = np.bincount(g, weights=h * f, minlength=gn)
    big_c = np.column_stack([np.bincount(g, weights=hx[:, j] * f, minlength=gn) for j in range(p)])
    n_steps = np.maximum(np.bincount(g, minlength=gn), 1)  # d under Efron, 1 under Breslow
    xbar_mean = np.column_stack([np.bincount(g, weights=ev.xbar[:, j], minlength=gn) for j in range(p)])
    xbar_mean = xbar_mean / n_steps[:, None]
    cum_h = _later_sum(big_h, rs)[rs.group]
    cum_a = np.column_stack([_later_sum(big_a[:, j], rs) for j in range(p)])[rs.group]
    risk = np.exp(x @ beta)
    resid = -risk[:, None] * (x * cum_h[:, None] - cum_a)
    gi = rs.group[e]
    resid[e] += x[e] - xbar_mean[gi] + risk[e, None] * (x[e] * big_b[gi, None] - big_c[gi])
    return resid


# ----------------------------------------------------------------------------------------------
# The fit
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoxFit:
    """A fitted Cox model (arrays in the order of the covariate names)."""

    names: tuple[str, ...]
    coef: np.ndarray
    var: np.ndarray  # model-based: inverse information at the estimate
    robust_var: np.ndarray | None  # sandwich, clustered when a cluster was given
    loglik: float
    loglik_null: float
    iterations: int
    n: int
    events: int
    ties: str
    lr_test: float
    score_test: float
    wald_test: float  # with robust_var when robust (R's wald.test)
    robust_score_test: float | None
    df: int

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.robust_var if self.robust_var is not None else self.var))

    @property
    def model_se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.var))

    def p_values(self) -> dict[str, float]:
        from scipy.special import chdtrc

        out = {"lr": float(chdtrc(self.df, self.lr_test)), "score": float(chdtrc(self.df, self.score_test)),
               "wald": float(chdtrc(self.df, self.wald_test))}
        if self.robust_score_test is not None:
            out["robust_score"] = float(chdtrc(self.df, self.robust_score_test))
        return out


def _check_inputs(time: np.ndarray, event: np.ndarray, x: np.ndarray, weight: np.ndarray,
                  names: tuple[str, ...]) -> None:
    problems = []
    n = time.size
    if event.size != n or x.shape[0] != n or weight.size != n:
        raise CoxModelError(f"Cox model: lengths differ (time {n}, event {event.size}, "
                            f"covariates {x.shape[0]}, weights {weight.size})")
    if n == 0:
        raise CoxModelError("Cox model: no observations")
    for what, bad in (("time", ~np.isfinite(time) | (time < 0)), ("weight", ~np.isfinite(weight) | (weight <= 0))):
        idx = np.flatnonzero(bad)
        if idx.size:
            problems.append(f"invalid {what} (missing, infinite or {'negative' if what == 'time' else 'not > 0'}) "
                            f"at positions {idx[:20].tolist()}")
    bad_x = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if bad_x.size:
        problems.append(f"missing or infinite covariates at positions {bad_x[:20].tolist()}")
    if not np.isin(event, (0, 1)).all():
        problems.append(f"event not 0/1 at positions {np.flatnonzero(~np.isin(event, (0, 1)))[:20].tolist()}")
    if problems:
        raise CoxModelError("Cox model: " + "; ".join(problems))
    if event.sum() == 0:
        raise CoxModelError("Cox model: no events")
    if len(names) != x.shape[1]:
        raise CoxModelError(f"Cox model: {x.shape[1]} covariate columns but {len(names)} names")


def _check_estimable(rs: RiskSets, names: tuple[str, ...]) -> None:
    x = rs.x
    constant = []
    s = rs.strata
    new = np.ones(s.size, dtype=bool)
    new[1:] = s[1:] != s[:-1]
    starts = np.flatnonzero(new)
    for j, name in enumerate(names):
        lo = np.minimum.reduceat(x[:, j], starts)
        hi = np.maximum.reduceat(x[:, j], starts)
        if np.all(hi - lo == 0):
            constant.append(name)
    if constant:
        where = " within every stratum" if starts.size > 1 else ""
        raise CoxConstantCovariateError(f"Cox model: covariate(s) {constant} constant{where}: no effect can be estimated")


def _invert(info: np.ndarray, names: tuple[str, ...], what: str) -> np.ndarray:
    from scipy.linalg import cho_factor, cho_solve, LinAlgError

    try:
        c = cho_factor(info)
        if np.min(np.abs(np.diag(c[0]))) < 1e-9 * np.max(np.abs(np.diag(c[0]))):
            raise LinAlgError("near singular")
        return cho_solve(c, np.eye(info.shape[0]))
    except (LinAlgError, ValueError):
        raise CoxConstantCovariateError(
            f"Cox model: information matrix singular {what} (covariates {list(names)} collinear "
            "or without variation in the risk sets)") from None


def fit_cox(time: Any, event: Any, x: Any, *, names: tuple[str, ...] | list[str] | None = None,
            ties: str = "efron", weights: Any = None, strata: Any = None, cluster: Any = None,
            robust: bool = False, max_iter: int = MAX_ITER, timefix: bool = True) -> CoxFit:
    """Fit a Cox model as R's ``coxph`` does (see the module docstring for every rule)."""
    ties = ties.lower()
    if ties not in ("efron", "breslow"):
        raise CoxModelError(f"Cox model: ties must be 'efron' or 'breslow', got {ties!r}")
    rs, steps, names = _setup(time, event, x, names, weights, strata, ties, timefix)
    _check_estimable(rs, names)
    n, p = rs.time.size, len(names)
    e = rs.event

    beta = np.zeros(p)
    ev0 = _evaluate(rs, steps, beta)
    v0 = _invert(ev0.info, names, "at beta = 0")
    score_test = float(ev0.score @ v0 @ ev0.score)
    ll0 = ev0.loglik
    # R coxfit6: newbeta = beta + I^-1 U; accept if the log-likelihood rises, else halve
    ll_old, ev = ll0, ev0
    new = beta + v0 @ ev0.score
    converged, halving, it = False, False, 0
    for it in range(1, max_iter + 1):
        ev_new = _evaluate(rs, steps, new)
        ll_new = ev_new.loglik
        if np.isfinite(ll_new) and abs(1 - ll_old / ll_new) <= EPS and not halving:
            beta, ev, converged = new, ev_new, True
            break
        if it == max_iter:
            break
        if not np.isfinite(ll_new) or ll_new < ll_old:
            halving = True
            new = (new + beta) / 2
        else:
            halving = False
            ll_old, beta, ev = ll_new, new, ev_new
            new = beta + _invert(ev.info, names, "during the iterations") @ ev.score
    if not converged:
        # the log-likelihood still climbing towards its supremum at infinity (e.g. it tends to 0, so
        # R's relative criterion never triggers): a coefficient worth e^10 per SD is taken as running away
        spread = np.sqrt(np.average(rs.x**2, axis=0, weights=rs.weight))
        _raise_separation([names[j] for j in np.flatnonzero(np.abs(new * spread) > 10)])
        raise CoxModelError(f"Cox model ({', '.join(names)}): the partial likelihood did not converge "
                            f"in {max_iter} Newton-Raphson iterations")
    var = _invert(ev.info, names, "at the estimate")
    infs = np.abs(ev.score @ var)
    runaway = (infs > EPS) & (infs > TOLER_INF * np.abs(beta))
    _raise_separation([names[j] for j in np.flatnonzero(runaway)])
    robust = robust or cluster is not None
    robust_var = robust_score = None
    if robust:
        c_codes = _codes(cluster, n, "cluster")[rs.order] if cluster is not None else np.arange(n)
        d = rs.weight[:, None] * score_residuals(rs, steps, beta, ev) @ var
        dg = _sum_by(d, c_codes)
        robust_var = dg.T @ dg
        u0 = _sum_by(rs.weight[:, None] * score_residuals(rs, steps, np.zeros(p), ev0), c_codes)
        usum = u0.sum(0)
        robust_score = float(usum @ np.linalg.solve(u0.T @ u0, usum))
    wald_v = robust_var if robust_var is not None else var
    wald = float(beta @ np.linalg.solve(wald_v, beta))
    return CoxFit(names=names, coef=beta, var=var, robust_var=robust_var, loglik=ev.loglik, loglik_null=ll0,
                  iterations=it, n=n, events=int(e.sum()), ties=ties, lr_test=2 * (ev.loglik - ll0),
                  score_test=score_test, wald_test=wald, robust_score_test=robust_score, df=p)


def _raise_separation(bad: list[str]) -> None:
    if bad:
        raise CoxSeparationError(
            f"Cox model: monotone likelihood (perfect separation) in {bad}: the log-likelihood converges "
            "while the coefficient runs to infinity (e.g. a group with no events, or every event with the "
            "largest value in its risk set); no finite hazard ratio exists")


def _codes(labels: Any, n: int, what: str) -> np.ndarray:
    import pandas as pd

    s = pd.Series(np.asarray(labels))
    if len(s) != n:
        raise CoxModelError(f"Cox model: {len(s)} {what} labels for {n} observations")
    missing = np.flatnonzero(s.isna().to_numpy())
    if missing.size:
        raise CoxModelError(f"Cox model: missing {what} labels at positions {missing[:20].tolist()}")
    return pd.factorize(s, sort=True)[0].astype(np.int64)


def _sum_by(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    k = int(codes.max()) + 1
    return np.column_stack([np.bincount(codes, weights=values[:, j], minlength=k) for j in range(values.shape[1])])


# ----------------------------------------------------------------------------------------------
# Proportional-hazards test: R's cox.zph (survival >= 3.0) and the pre-3.0 test
# ----------------------------------------------------------------------------------------------

ZPH_TRANSFORMS = ("km", "rank", "identity", "log")


@dataclass(frozen=True)
class ZphResult:
    """PH test per term and global; scaled Schoenfeld residuals (one row per event) for plots."""

    terms: tuple[str, ...]
    chisq: np.ndarray  # per term, then global
    df: np.ndarray
    p: np.ndarray
    transform: str
    method: str
    time: np.ndarray  # event times (sorted by stratum, then time)
    x: np.ndarray  # transformed event times g(t)
    scaled_residuals: np.ndarray  # events x covariates: beta + scaled Schoenfeld residual
    coef: np.ndarray | None = None  # the fitted Cox coefficients (one per covariate column)
    var: np.ndarray | None = None  # R's cox.zph()$var: (I / d)^-1, the scale of the residuals (plot bands)


def transform_times(time: np.ndarray, event: np.ndarray, transform: str) -> np.ndarray:
    """cox.zph's g(t) for every observation: km = 1 - S(t-) (unweighted KM of all data, left-continuous),
    rank = rank of t among all observations (average for ties), identity = t, log = log t."""
    if transform == "identity":
        return time.astype(float)
    if transform == "log":
        with np.errstate(divide="ignore"):
            return np.log(time.astype(float))
    if transform == "rank":
        from scipy.stats import rankdata

        return rankdata(time, method="average")
    if transform == "km":
        times, inverse = np.unique(time, return_inverse=True)
        d = np.bincount(inverse, weights=event.astype(float), minlength=times.size)
        n = np.bincount(inverse, minlength=times.size)[::-1].cumsum()[::-1].astype(float)
        s = np.cumprod(1.0 - d / n)
        s_before = np.concatenate([[1.0], s[:-1]])  # S(t-): the value just before each distinct time
        return 1.0 - s_before[inverse]
    raise CoxModelError(f"PH test: transform must be one of {ZPH_TRANSFORMS}, got {transform!r}")


def _setup(time: Any, event: Any, x: Any, names: Any, weights: Any, strata: Any, ties: str,
           timefix: bool) -> tuple[RiskSets, _Steps, tuple[str, ...]]:
    """Checked inputs, R's time fix, centred covariates, sorted once: the risk sets and Efron steps."""
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    xm = np.asarray(x, dtype=float)
    xm = xm[:, None] if xm.ndim == 1 else xm
    n, p = xm.shape
    names = tuple(names) if names is not None else tuple(f"x{j + 1}" for j in range(p))
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    _check_inputs(t, e, xm, w, names)
    s_codes = np.zeros(n, dtype=np.int64) if strata is None else _codes(strata, n, "strata")
    order = None
    if strata is None or s_codes.min() == s_codes.max():
        order = np.argsort(-t, kind="stable")  # aeq_times maps monotonically: this order stays valid
        if timefix:
            t_sorted = aeq_times(t[order])
            t = np.empty_like(t)
            t[order] = t_sorted
    elif timefix:
        t = aeq_times(t)
    centred = xm - np.average(xm, axis=0, weights=w)
    rs = risk_sets(t, e, centred, w, s_codes, order)
    return rs, _steps(rs, ties.lower() == "efron"), names


def zph(time: Any, event: Any, x: Any, *, names: Any = None, terms: dict[str, list[int]] | None = None,
        ties: str = "efron", weights: Any = None, strata: Any = None, transform: str = "km",
        method: str = "score", timefix: bool = True) -> ZphResult:
    """Test of proportional hazards, as R's ``cox.zph`` (survival >= 3.0) or its pre-3.0 version.

    method="score" (R >= 3.0): for each term, the score test of adding x * g(t) to the fitted model,
    U_g' (I_gg - I_gb I_bb^-1 I_bg)^-1 U_g at (beta_hat, 0), with g centred on its mean over the
    events; global: all terms at once. Information and score use the model's ties (Efron sub-steps).
    method="pre3" (R survival < 3.0, Grambsch and Therneau 1994): per covariate
    T = (sum_i g_i r*_i)^2 / (d Var(b) sum g_i^2) with r* = d V r (scaled Schoenfeld residuals) and,
    global, (g'R) V (g'R)' d / sum g^2; g over the d event times (km: 1 - S(t-); rank: rank among the
    event times), V the model-based variance. Chi-square with 1 (p) df.
    Scaled Schoenfeld residuals (for plots, as R's ``cox.zph()$y``): beta + r_i (I / d)^-1.
    """
    from scipy.special import chdtrc

    if method not in ("score", "pre3"):
        raise CoxModelError(f"PH test: method must be 'score' (R survival >= 3.0) or 'pre3', got {method!r}")
    fit = fit_cox(time, event, x, names=names, ties=ties, weights=weights, strata=strata, timefix=timefix)
    rs, steps, names = _setup(time, event, x, fit.names, weights, strata, ties, timefix)
    p = len(names)
    terms = terms or {nm: [j] for j, nm in enumerate(names)}
    beta = fit.coef
    ev = _evaluate(rs, steps, beta, step_info=True)
    gn = rs.starts.size
    dead = rs.event.astype(bool)
    # per event group: score contribution and information
    u_g = np.zeros((gn, p))
    for j in range(p):
        u_g[:, j] = np.bincount(rs.group[dead], weights=(rs.weight * rs.x[:, j])[dead], minlength=gn) - np.bincount(
            steps.group, weights=steps.meanwt * ev.xbar[:, j], minlength=gn)
    i_g = np.zeros((gn, p, p))
    np.add.at(i_g, steps.group, ev.step_info)
    n_steps = np.maximum(np.bincount(steps.group, minlength=gn), 1)
    xbar_mean = np.column_stack([np.bincount(steps.group, weights=ev.xbar[:, j], minlength=gn) for j in range(p)])
    xbar_mean /= n_steps[:, None]
    schoen = rs.x[dead] - xbar_mean[rs.group[dead]]  # unscaled Schoenfeld residuals, sorted order
    g_all = transform_times(rs.time, rs.event, transform)
    ndead = int(dead.sum())
    info = i_g.sum(0)
    if method == "score":
        g_obs = g_all - g_all[dead].mean()
        g_grp = g_obs[rs.starts]
        u_gamma = (g_grp[:, None] * u_g).sum(0)
        i_bg = (g_grp[:, None, None] * i_g).sum(0)
        i_gg = ((g_grp**2)[:, None, None] * i_g).sum(0)
        full = np.block([[info, i_bg], [i_bg.T, i_gg]])
        chisq, df = [], []
        for cols in terms.values():
            kk = list(range(p)) + [p + j for j in cols]
            u = np.concatenate([np.zeros(p), u_gamma[cols]])
            chisq.append(float(u @ np.linalg.solve(full[np.ix_(kk, kk)], u)))
            df.append(len(cols))
        u = np.concatenate([np.zeros(p), u_gamma])
        chisq.append(float(u @ np.linalg.solve(full, u)))
        df.append(p)
        label = "R survival >= 3.0 cox.zph: score test of x * g(t) at the fitted beta"
    else:
        if transform == "rank":
            from scipy.stats import rankdata

            g_dead = rankdata(rs.time[dead], method="average")
        else:
            g_dead = g_all[dead]
        xx = g_dead - g_dead.mean()
        var = fit.var
        test = xx @ (schoen @ var * ndead)
        chisq = list(test**2 / (np.diag(var) * ndead * np.sum(xx**2)))
        df = [1] * p
        gt = xx @ schoen
        chisq.append(float(gt @ var @ gt * ndead / np.sum(xx**2)))
        df.append(p)
        if list(terms) != list(names):
            raise CoxModelError("PH test: the pre-3.0 method tests single covariates, not multi-column terms")
        label = "R survival < 3.0 cox.zph (Grambsch-Therneau, scaled Schoenfeld residuals on g(t))"
    chisq_a, df_a = np.array(chisq), np.array(df)
    scaled = beta + schoen @ np.linalg.inv(info / ndead)
    asc = np.lexsort((rs.time[dead], rs.strata[dead]))  # R's order: stratum, then time ascending
    return ZphResult(terms=tuple(terms), chisq=chisq_a, df=df_a, p=chdtrc(df_a, chisq_a), transform=transform,
                     method=f"{label}; transform {transform}; {ties.capitalize()} ties",
                     time=rs.time[dead][asc], x=g_all[dead][asc], scaled_residuals=scaled[asc],
                     coef=np.asarray(beta, dtype=float).copy(), var=np.linalg.inv(info / ndead))


# ----------------------------------------------------------------------------------------------
# The smoothed scaled Schoenfeld residuals: R's plot.cox.zph
# ----------------------------------------------------------------------------------------------

ZPH_SMOOTH_METHOD = ("least-squares natural cubic spline (intercept included; boundary knots at the extremes of "
                     "g(t), interior knots at equally spaced quantiles) through the scaled Schoenfeld residuals "
                     "against g(t), with a pointwise band of +- k standard errors, as R survival's plot.cox.zph "
                     "(its defaults: df = 4, nsmo = 40 grid points, k = 2)")


@dataclass(frozen=True)
class ZphSmooth:
    """beta(t) estimated from the scaled Schoenfeld residuals of one covariate column, on a grid of g(t)."""

    x: np.ndarray  # grid of transformed times g(t), from the smallest to the largest at an event
    fit: np.ndarray  # the smoothed beta(t) at x
    lower: np.ndarray  # fit - band_se x SE
    upper: np.ndarray
    method: str = ZPH_SMOOTH_METHOD


def natural_spline_basis(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """A basis of the natural cubic splines with the given knots (sorted, boundary knots first and last),
    intercept included: len(knots) columns (Hastie, Tibshirani, Friedman, ESL eq. 5.4-5.5). It spans the
    same space as R's ``splines::ns(x, knots = interior, Boundary.knots = ends, intercept = TRUE)``, so
    least-squares fits and their standard errors are the same, whatever the basis."""
    lo, hi = float(knots[0]), float(knots[-1])
    scale = hi - lo if hi > lo else 1.0
    u, k = (np.asarray(x, dtype=float) - lo) / scale, (np.asarray(knots, dtype=float) - lo) / scale

    def d(j: int) -> np.ndarray:
        return (np.maximum(u - k[j], 0) ** 3 - np.maximum(u - k[-1], 0) ** 3) / (k[-1] - k[j])

    cols = [np.ones_like(u), u] + [d(j) - d(len(k) - 2) for j in range(len(k) - 2)]
    return np.column_stack(cols)


def zph_smooth(res: ZphResult, column: int, *, df: int = 4, n_grid: int = 40, band_se: float = 2.0,
               name: str | None = None) -> ZphSmooth:
    """R's ``plot.cox.zph`` curve for one covariate column: the scaled Schoenfeld residuals regressed on a
    natural cubic spline of g(t) with ``df`` degrees of freedom (knots from the grid and the event g(t)
    together, as R computes them), evaluated on ``n_grid`` equally spaced points of g(t); band: fit +-
    ``band_se`` x sqrt(var_jj x p' (X'X)^-1 p), var = ``res.var`` (R: ``2 * sqrt(x$var[i, i] * seval)``).
    Refused (CoxModelError) when the spline cannot be fitted (fewer distinct event times than df)."""
    if res.var is None:
        raise CoxModelError("PH plot: the cox.zph result carries no variance (computed by an older zph)")
    xx = np.asarray(res.x, dtype=float)
    y = np.asarray(res.scaled_residuals, dtype=float)[:, column]
    keep = np.isfinite(y)
    grid = np.linspace(xx.min(), xx.max(), n_grid)
    both = np.concatenate([grid, xx])
    n_interior = df - 2  # ns(df, intercept = TRUE): df - 1 - 1 interior knots at equally spaced quantiles
    interior = np.quantile(both, np.linspace(0, 1, n_interior + 2)[1:-1])  # R quantile type 7
    knots = np.concatenate([[both.min()], interior, [both.max()]])
    design = natural_spline_basis(xx[keep], knots)
    q, r = np.linalg.qr(design)
    if np.linalg.matrix_rank(design) < df or np.min(np.abs(np.diag(r))) < 1e-10 * np.max(np.abs(np.diag(r))):
        raise CoxModelError(f"PH plot: the spline of the scaled Schoenfeld residuals of '{name or column + 1}' "
                            f"cannot be fitted ({np.unique(xx[keep]).size} distinct event times for {df} df)")
    coef = np.linalg.solve(r, q.T @ y[keep])
    pmat = natural_spline_basis(grid, knots)
    fit = pmat @ coef
    r_inv = np.linalg.solve(r, np.eye(df))
    seval = np.sum((pmat @ r_inv) ** 2, axis=1)  # p' (X'X)^-1 p
    half = band_se * np.sqrt(res.var[column, column] * seval)
    return ZphSmooth(x=grid, fit=fit, lower=fit - half, upper=fit + half)

