"""Tests that respect a matched design: CMH, exact conditional test and conditional logistic regression
by matched set, the range of their p-values attainable from published margins, and the log-rank
stratified by set.

Inputs are plain arrays, one element per patient: ``matched_set`` (any hashable label of the matched
set), ``exposure`` (bool / 0-1: the treated group, e.g. bone metastases) and ``outcome`` (bool / 0-1,
e.g. major resection). Outputs are plain dicts with the keys documented in each function.

Conventions (each result names its own in ``method``):

* CMH (Cochran-Mantel-Haenszel) chi-square for K 2x2 tables, as R's ``mantelhaen.test(x)``:
  DELTA = sum_k (a_k - n1_k m1_k / N_k), V = sum_k n1_k n0_k m1_k m0_k / (N_k^2 (N_k - 1)),
  X^2 = (|DELTA| - c)^2 / V on 1 df, with c = 0.5 when ``correct`` and |DELTA| >= 0.5, else 0
  (R's default is ``correct = TRUE``). A 1:k matched set is one stratum with N = k + 1.
  The Mantel-Haenszel common odds ratio with the Robins-Breslow-Greenland interval, as R.
* Exact conditional test (R ``mantelhaen.test(x, exact = TRUE)``): the null distribution of
  sum_k a_k given all margins is the convolution of the sets' hypergeometric distributions;
  two-sided p = total probability of values no more likely than the observed one.
* Conditional logistic regression of outcome on exposure within matched sets, with the exact
  conditional likelihood (R ``survival::clogit(outcome ~ exposure + strata(set))``, method "exact"):
  for a set with n1 exposed, n0 unexposed and m1 outcomes, the likelihood of the observed x = sum of
  exposure among the outcomes is exp(b x) / sum_j C(n1, j) C(n0, m1 - j) exp(b j). Newton-Raphson;
  Wald, likelihood-ratio and score tests as ``summary(clogit(...))``. For a binary exposure the
  score test equals the CMH chi-square without continuity correction.
* Log-rank stratified by matched set, as R ``survdiff(Surv(t, d) ~ group + strata(set))``:
  observed, expected and the hypergeometric covariance are summed over strata.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nenbone.errors import NenboneError

METHOD_CMH = "Cochran-Mantel-Haenszel chi-square stratified by matched set (R mantelhaen.test)"
METHOD_CLOGIT = "conditional logistic regression by matched set, exact conditional likelihood (R clogit, method 'exact')"
METHOD_STRATIFIED_LOGRANK = "log-rank stratified by matched set (R survdiff with strata())"


class MatchedTestError(NenboneError):
    """Matched data that cannot be analysed as asked."""


# ----------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------


def _binary(values: Any, what: str) -> np.ndarray:
    s = pd.Series(values).reset_index(drop=True)
    if s.dtype == bool:
        return s.to_numpy(dtype=bool)
    num = pd.to_numeric(s, errors="coerce")
    bad = np.flatnonzero(~num.isin([0, 1]).to_numpy())
    if bad.size:
        raise MatchedTestError(f"{what}: values must be 0/1 or true/false; not so at positions {bad.tolist()}")
    return num.to_numpy(dtype=float) == 1


def _set_codes(matched_set: Any, n: int) -> np.ndarray:
    s = pd.Series(matched_set).reset_index(drop=True)
    if len(s) != n:
        raise MatchedTestError(f"matched sets: {len(s)} labels for {n} patients")
    missing = np.flatnonzero(s.isna().to_numpy())
    if missing.size:
        raise MatchedTestError(f"matched sets: missing matched-set labels at positions {missing.tolist()}")
    return pd.factorize(s, sort=True)[0]


@dataclass(frozen=True)
class SetTables:
    """Per matched set: n (size), n1 (exposed), m1 (with the outcome), a (exposed with the outcome)."""

    n: np.ndarray
    n1: np.ndarray
    m1: np.ndarray
    a: np.ndarray


def set_tables(matched_set: Any, exposure: Any, outcome: Any) -> SetTables:
    """The 2x2 table of exposure by outcome in each matched set, as four count vectors."""
    x = _binary(exposure, "exposure")
    y = _binary(outcome, "outcome")
    if len(x) != len(y):
        raise MatchedTestError(f"matched sets: {len(x)} exposure values but {len(y)} outcome values")
    k = _set_codes(matched_set, len(x))
    n_sets = int(k.max()) + 1 if len(k) else 0
    count = lambda w: np.bincount(k, weights=w.astype(float), minlength=n_sets).astype(int)  # noqa: E731
    return SetTables(n=count(np.ones(len(x))), n1=count(x), m1=count(y), a=count(x & y))


# ----------------------------------------------------------------------------------------------
# Cochran-Mantel-Haenszel
# ----------------------------------------------------------------------------------------------


def cmh_from_tables(tables: SetTables, correct: bool = True, level: float = 0.95) -> dict[str, Any]:
    """CMH test from per-set 2x2 counts (see the module docstring for the formula; R mantelhaen.test).

    Returns keys: statistic (chi-square, 1 df), p, df, delta (sum of a - E[a]), variance (sum of
    hypergeometric variances), correct (bool), continuity (0.5 or 0 actually subtracted),
    or_mh (Mantel-Haenszel common odds ratio, None if undefined), or_lower, or_upper (Robins-Breslow-
    Greenland interval at ``level``), n_sets, n_informative_sets (sets with both outcome levels and
    both exposure levels), method.
    """
    from scipy.stats import chi2, norm

    n, n1, m1, a = (t.astype(float) for t in (tables.n, tables.n1, tables.m1, tables.a))
    small = np.flatnonzero(n < 2)
    if small.size:
        raise MatchedTestError(f"CMH: every matched set needs at least 2 patients; sets at positions {small.tolist()} have fewer")
    n0, m0 = n - n1, n - m1
    delta = float(np.sum(a - n1 * m1 / n))
    var = float(np.sum(n1 * n0 * m1 * m0 / (n**2 * (n - 1))))
    if var <= 0:
        raise MatchedTestError("CMH: no matched set has both exposures and both outcomes; the test is undefined")
    cc = 0.5 if (correct and abs(delta) >= 0.5) else 0.0
    stat = (abs(delta) - cc) ** 2 / var
    b, c = n1 - a, m1 - a
    d = n0 - c
    s_diag, s_off = float(np.sum(a * d / n)), float(np.sum(b * c / n))
    or_mh = lower = upper = None
    if s_diag > 0 and s_off > 0:
        or_mh = s_diag / s_off
        sd = math.sqrt(
            np.sum((a + d) * a * d / n**2) / (2 * s_diag**2)
            + np.sum(((a + d) * b * c + (b + c) * a * d) / n**2) / (2 * s_diag * s_off)
            + np.sum((b + c) * b * c / n**2) / (2 * s_off**2)
        )
        z = norm.ppf((1 + level) / 2)
        lower, upper = or_mh * math.exp(-z * sd), or_mh * math.exp(z * sd)
    informative = int(np.sum((n1 > 0) & (n0 > 0) & (m1 > 0) & (m0 > 0)))
    return {
        "statistic": float(stat), "p": float(chi2.sf(stat, 1)), "df": 1, "delta": delta, "variance": var,
        "correct": bool(correct), "continuity": cc, "or_mh": or_mh, "or_lower": lower, "or_upper": upper,
        "n_sets": int(len(n)), "n_informative_sets": informative,
        "method": METHOD_CMH + (" with continuity correction" if cc else " without continuity correction"),
    }


def cmh_test(matched_set: Any, exposure: Any, outcome: Any, correct: bool = True, level: float = 0.95) -> dict[str, Any]:
    """CMH test stratified by matched set from patient-level arrays; keys as ``cmh_from_tables``."""
    return cmh_from_tables(set_tables(matched_set, exposure, outcome), correct=correct, level=level)


def _hypergeom_pmf(n1: int, n0: int, m1: int) -> tuple[int, np.ndarray]:
    """Null distribution of a (exposed with the outcome) in one 2x2 table: (lowest a, probabilities)."""
    lo, hi = max(0, m1 - n0), min(n1, m1)
    j = np.arange(lo, hi + 1)
    logp = np.array([math.lgamma(n1 + 1) - math.lgamma(i + 1) - math.lgamma(n1 - i + 1)
                     + math.lgamma(n0 + 1) - math.lgamma(m1 - i + 1) - math.lgamma(n0 - m1 + i + 1)
                     - (math.lgamma(n1 + n0 + 1) - math.lgamma(m1 + 1) - math.lgamma(n1 + n0 - m1 + 1)) for i in j])
    return lo, np.exp(logp)


def _two_sided_exact_p(pmf: np.ndarray, index: int) -> float:
    """R's two-sided exact p: the total probability of outcomes no more likely than the observed (relative 1e-7)."""
    return float(min(1.0, pmf[pmf <= pmf[index] * (1 + 1e-7)].sum()))


def exact_conditional_from_tables(tables: SetTables) -> dict[str, Any]:
    """Exact conditional test of no association in K 2x2 tables (R ``mantelhaen.test(x, exact = TRUE)``).

    Under the null, given every table's margins, S = sum of a_k is a sum of independent
    hypergeometric variables; its distribution is their convolution. Two-sided p as R: the sum of
    the probabilities of the values of S no more likely than the observed one (relative tolerance 1e-7).
    Returns keys: s (observed S), s_min, s_max, expected (E[S]), p, method.
    """
    lo_total, pmf = 0, np.ones(1)
    for n, n1, m1 in zip(tables.n, tables.n1, tables.m1):
        lo, p = _hypergeom_pmf(int(n1), int(n - n1), int(m1))
        lo_total += lo
        pmf = np.convolve(pmf, p)
    s = int(tables.a.sum())
    support = np.arange(lo_total, lo_total + len(pmf))
    return {"s": s, "s_min": int(support[0]), "s_max": int(support[-1]), "expected": float((support * pmf).sum()),
            "p": _two_sided_exact_p(pmf, s - lo_total),
            "method": "exact conditional test in 2 x 2 x K tables by matched set (R mantelhaen.test, exact = TRUE)"}


def exact_conditional_test(matched_set: Any, exposure: Any, outcome: Any) -> dict[str, Any]:
    """Exact conditional test stratified by matched set from patient-level arrays; keys as ``exact_conditional_from_tables``."""
    return exact_conditional_from_tables(set_tables(matched_set, exposure, outcome))


# ----------------------------------------------------------------------------------------------
# Conditional logistic regression (binary exposure)
# ----------------------------------------------------------------------------------------------


def _clogit_terms(tables: SetTables) -> tuple[list[np.ndarray], np.ndarray]:
    """Per informative set: log C(n1, j) C(n0, m1 - j) for the attainable j, and the observed x."""
    logc, obs = [], []
    for n, n1, m1, a in zip(tables.n, tables.n1, tables.m1, tables.a):
        n0 = n - n1
        lo, hi = max(0, m1 - n0), min(n1, m1)
        if hi == lo:  # every allocation gives the same x: no information
            continue
        j = np.arange(lo, hi + 1)
        lc = np.array([math.lgamma(n1 + 1) - math.lgamma(i + 1) - math.lgamma(n1 - i + 1)
                       + math.lgamma(n0 + 1) - math.lgamma(m1 - i + 1) - math.lgamma(n0 - m1 + i + 1) for i in j])
        logc.append(np.column_stack([j, lc]))
        obs.append(a)
    return logc, np.asarray(obs, dtype=float)


def _clogit_loglik(beta: float, terms: list[np.ndarray], obs: np.ndarray) -> tuple[float, float, float]:
    """Conditional log-likelihood, score and information at beta."""
    ll, score, info = 0.0, 0.0, 0.0
    for t, x in zip(terms, obs):
        j, lc = t[:, 0], t[:, 1]
        eta = lc + beta * j
        mx = eta.max()
        w = np.exp(eta - mx)
        tot = w.sum()
        mean = float((w * j).sum() / tot)
        ll += beta * x - (mx + math.log(tot)) + float(lc[j == x][0])
        score += x - mean
        info += float((w * j**2).sum() / tot) - mean**2
    return ll, score, info


def conditional_logistic(matched_set: Any, exposure: Any, outcome: Any, level: float = 0.95,
                         tol: float = 1e-10, max_iter: int = 50) -> dict[str, Any]:
    """Conditional logistic regression of a binary outcome on a binary exposure within matched sets.

    Exact conditional likelihood (module docstring), maximised by Newton-Raphson from beta = 0.
    Returns keys: beta (log odds ratio), se (model-based, 1/sqrt(information)), or, or_lower, or_upper
    (Wald at ``level``), wald_statistic, wald_p, lr_statistic, lr_p, score_statistic, score_p (all
    chi-square 1 df, as ``summary(clogit(...))``), loglik_null, loglik, n, n_sets,
    n_informative_sets, iterations, method. When the maximum-likelihood estimate does not exist
    (every informative set at the extreme of its range: monotone likelihood) beta, se, or and the
    Wald/LR results are None and ``note`` says why; the score test is still given.
    """
    from scipy.stats import chi2, norm

    tables = set_tables(matched_set, exposure, outcome)
    terms, obs = _clogit_terms(tables)
    base = {"n": int(tables.n.sum()), "n_sets": int(len(tables.n)), "n_informative_sets": len(terms),
            "method": METHOD_CLOGIT, "note": ""}
    if not terms:
        raise MatchedTestError("conditional logistic regression: no matched set is informative "
                               "(none has both exposures and both outcomes)")
    ll0, u0, i0 = _clogit_loglik(0.0, terms, obs)
    score_stat = u0**2 / i0
    out = {**base, "loglik_null": float(ll0), "score_statistic": float(score_stat),
           "score_p": float(chi2.sf(score_stat, 1))}
    at_min = all(x == t[0, 0] for t, x in zip(terms, obs))
    at_max = all(x == t[-1, 0] for t, x in zip(terms, obs))
    if at_min or at_max:
        return {**out, "beta": None, "se": None, "or": None, "or_lower": None, "or_upper": None,
                "wald_statistic": None, "wald_p": None, "lr_statistic": None, "lr_p": None, "loglik": None,
                "iterations": 0,
                "note": "maximum-likelihood estimate does not exist (monotone likelihood: the odds ratio is "
                        f"{'0' if at_min else 'infinite'})"}
    beta, ll = 0.0, ll0
    for it in range(1, max_iter + 1):
        ll, u, info = _clogit_loglik(beta, terms, obs)
        step = u / info
        new = beta + step
        # step halving keeps Newton-Raphson monotone (as survival's coxph)
        while _clogit_loglik(new, terms, obs)[0] < ll - 1e-12:
            step /= 2
            new = beta + step
        beta = new
        if abs(step) < tol:
            break
    else:
        raise MatchedTestError(f"conditional logistic regression: no convergence in {max_iter} Newton steps")
    ll, _, info = _clogit_loglik(beta, terms, obs)
    se = 1 / math.sqrt(info)
    z = norm.ppf((1 + level) / 2)
    wald = (beta / se) ** 2
    lr = 2 * (ll - ll0)
    return {**out, "beta": float(beta), "se": float(se), "or": math.exp(beta), "or_lower": math.exp(beta - z * se),
            "or_upper": math.exp(beta + z * se), "wald_statistic": float(wald), "wald_p": float(chi2.sf(wald, 1)),
            "lr_statistic": float(lr), "lr_p": float(chi2.sf(lr, 1)), "loglik": float(ll), "iterations": it}


# ----------------------------------------------------------------------------------------------
# CMH p-values attainable from published margins (1:k matched sets)
# ----------------------------------------------------------------------------------------------


def _class_options(n_sets: int, ratio: int, treated_outcome: int) -> dict[int, dict[int, tuple[int, ...]]]:
    """For ``n_sets`` sets whose treated patient has outcome ``treated_outcome`` (0/1): every attainable
    (total controls with the outcome) -> {sum over sets of m1 (N - m1): one witness multiset of counts}.

    Dynamic programme over sets, counts per set 0..ratio kept non-increasing (a multiset), so each
    witness is sorted descending.
    """
    size = ratio + 1
    # state: (last count used, total) -> {variance numerator: witness}
    states: dict[tuple[int, int], dict[int, tuple[int, ...]]] = {(ratio, 0): {0: ()}}
    for _ in range(n_sets):
        nxt: dict[tuple[int, int], dict[int, tuple[int, ...]]] = {}
        for (last, total), vals in states.items():
            for c in range(last + 1):
                m1 = treated_outcome + c
                v = m1 * (size - m1)
                bucket = nxt.setdefault((c, total + c), {})
                for vs, wit in vals.items():
                    bucket.setdefault(vs + v, wit + (c,))
        states = nxt
    out: dict[int, dict[int, tuple[int, ...]]] = {}
    for (_, total), vals in states.items():
        bucket = out.setdefault(total, {})
        for vs, wit in vals.items():
            bucket.setdefault(vs, wit)
    return out


def cmh_attainable_p(n_sets: int, ratio: int, treated_with_outcome: int, controls_with_outcome: int,
                     correct: bool, target: tuple[float, float] | None = None) -> dict[str, Any]:
    """CMH p-values attainable from published margins over every allocation of outcomes to 1:k sets.

    ``n_sets`` sets of 1 treated + ``ratio`` controls; ``treated_with_outcome`` of the treated and
    ``controls_with_outcome`` of the controls have the outcome; which sets they fall in is unknown.
    In a set with treated outcome a and c controls with the outcome (m1 = a + c, N = ratio + 1),
    a - E[a] = a - m1/N and Var = ratio m1 (N - m1) / (N^2 (N - 1)). Summed over sets, DELTA =
    T1 - (T1 + C1)/N is the same for every allocation, so the CMH statistic depends only on
    sum m1 (N - m1); an exact dynamic programme over the multisets of control counts in the sets of
    each treated class enumerates every attainable value (allocations that differ only by the order
    of sets give the same statistic).

    Returns keys: n_distinct_statistics (distinct attainable CMH values), delta, p_min, p_max, allocation_p_min,
    allocation_p_max, p_values (sorted distinct attainable p), target (the half-open interval asked
    about, e.g. (0.415, 0.425) for a p printed as 0.42), target_attainable (bool), allocation_target
    (one allocation whose p lies in the target, or None), p_target (its p), correct, method.
    An allocation is a dict {"treated_with_outcome": counts of controls with the outcome per set
    whose treated patient has the outcome, "treated_without_outcome": the same for the other sets}.
    """
    from scipy.stats import chi2

    n_with, n_without = treated_with_outcome, n_sets - treated_with_outcome
    if not (0 <= treated_with_outcome <= n_sets and 0 <= controls_with_outcome <= n_sets * ratio):
        raise MatchedTestError("CMH range: the published counts do not fit the matched sets")
    size = ratio + 1
    delta = treated_with_outcome - (treated_with_outcome + controls_with_outcome) / size
    cc = 0.5 if (correct and abs(delta) >= 0.5) else 0.0
    one = _class_options(n_with, ratio, 1)
    zero = _class_options(n_without, ratio, 0)
    found: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {}
    for total1, vals1 in one.items():
        vals0 = zero.get(controls_with_outcome - total1)
        if not vals0:
            continue
        for v1, w1 in vals1.items():
            for v0, w0 in vals0.items():
                found.setdefault(v1 + v0, (w1, w0))
    if not found:
        raise MatchedTestError("CMH range: no allocation of the published counts to the matched sets exists")

    def p_of(vnum: int) -> float:
        var = ratio * vnum / (size**2 * (size - 1))  # n1 n0 = 1 x ratio in every set
        return float(chi2.sf((abs(delta) - cc) ** 2 / var, 1)) if var > 0 else float("nan")

    rows = sorted((p_of(v), v) for v in found if v > 0)

    def allocation(v: int) -> dict[str, list[int]]:
        w1, w0 = found[v]
        return {"treated_with_outcome": list(w1), "treated_without_outcome": list(w0)}

    hit = None
    if target is not None:
        hit = next((v for p, v in rows if target[0] <= p < target[1]), None)
    return {
        "n_distinct_statistics": len(rows), "delta": delta,
        "p_min": rows[0][0], "p_max": rows[-1][0],
        "allocation_p_min": allocation(rows[0][1]), "allocation_p_max": allocation(rows[-1][1]),
        "p_values": [p for p, _ in rows],
        "target": None if target is None else [float(target[0]), float(target[1])],
        "target_attainable": None if target is None else hit is not None,
        "allocation_target": None if hit is None else allocation(hit),
        "p_target": None if hit is None else p_of(hit),
        "correct": bool(correct),
        "method": METHOD_CMH + (" with continuity correction" if cc else " without continuity correction")
        + f"; all allocations of the published counts to {n_sets} sets of 1:{ratio}",
    }


def exact_attainable_p(n_sets: int, ratio: int, treated_with_outcome: int, controls_with_outcome: int,
                       target: tuple[float, float] | None = None) -> dict[str, Any]:
    """Exact conditional (R ``mantelhaen.test(exact = TRUE)``) p-values attainable from published margins.

    In a 1:k set with m1 outcomes, a is Bernoulli(m1 / (k + 1)) under the null, so S = T1 is
    Poisson-binomial and its distribution depends only on how many sets have each m1 = 0..k+1.
    Every vector of counts (n_0, ..., n_{k+1}) with sum n_sets and sum m1 n_m = T1 + C1 is an
    attainable allocation iff n_0 <= sets whose treated patient lacks the outcome and
    n_{k+1} <= sets whose treated patient has it (the rest can always be arranged).
    Returns keys: n_distinct_p, p_min, p_max, p_values (sorted distinct, rounded to 12 digits),
    allocation_p_min, allocation_p_max (allocations as in ``cmh_attainable_p``), target,
    target_attainable, m1_counts_target (counts n_0..n_{k+1} of one allocation in the target, or
    None), allocation_target, p_target, method.
    """
    size = ratio + 1
    total = treated_with_outcome + controls_with_outcome
    n_without = n_sets - treated_with_outcome
    found: dict[float, tuple[int, ...]] = {}

    def rec(level: int, left_sets: int, left_total: int, counts: tuple[int, ...]) -> None:
        if level == size:  # the last level, m1 = size, takes the remaining sets
            n_last = left_sets
            if left_total != size * n_last or n_last > treated_with_outcome:
                return
            full = counts + (n_last,)
            if full[0] > n_without:
                return
            pmf = np.ones(1)
            for m1, count in enumerate(full):
                if count:
                    q = m1 / size
                    j = np.arange(count + 1)
                    logc = np.array([math.lgamma(count + 1) - math.lgamma(i + 1) - math.lgamma(count - i + 1) for i in j])
                    with np.errstate(divide="ignore"):
                        pmf = np.convolve(pmf, np.exp(logc + j * np.log(q) + (count - j) * np.log1p(-q)) if 0 < q < 1
                                          else (np.eye(1, count + 1, 0 if q == 0 else count).ravel()))
            p = round(_two_sided_exact_p(pmf, treated_with_outcome), 12)
            found.setdefault(p, full)
            return
        for count in range(left_sets + 1):
            if level * count > left_total:
                break
            rec(level + 1, left_sets - count, left_total - level * count, counts + (count,))

    rec(0, n_sets, total, ())
    if not found:
        raise MatchedTestError("exact range: no allocation of the published counts to the matched sets exists")
    ps = sorted(found)
    hit = None if target is None else next((p for p in ps if target[0] <= p < target[1]), None)

    def allocation(p: float) -> dict[str, list[int]]:
        return m1_counts_to_allocation(found[p], treated_with_outcome, ratio)

    return {"n_distinct_p": len(ps), "p_min": ps[0], "p_max": ps[-1], "p_values": ps,
            "allocation_p_min": allocation(ps[0]), "allocation_p_max": allocation(ps[-1]),
            "target": None if target is None else [float(target[0]), float(target[1])],
            "target_attainable": None if target is None else hit is not None,
            "m1_counts_target": None if hit is None else list(found[hit]),
            "allocation_target": None if hit is None else allocation(hit), "p_target": hit,
            "method": "exact conditional test (R mantelhaen.test, exact = TRUE); all allocations of the published "
                      f"counts to {n_sets} sets of 1:{ratio}"}


def m1_counts_to_allocation(m1_counts: Sequence[int], treated_with_outcome: int, ratio: int) -> dict[str, list[int]]:
    """One allocation of 1:k sets with the given numbers of sets having m1 = 0..k+1 outcomes.

    Sets with m1 = k + 1 get a treated patient with the outcome, sets with m1 = 0 one without; the
    remaining treated-with-outcome places go to the sets with the largest m1. Returns the allocation
    as in ``cmh_attainable_p`` (controls with the outcome per set, by treated class).
    """
    values = sorted((m1 for m1, count in enumerate(m1_counts) for _ in range(count)), reverse=True)
    if len(values) and (values[0] > ratio + 1 or sum(1 for v in values if v > 0) < treated_with_outcome
                        or sum(1 for v in values if v == ratio + 1) > treated_with_outcome):
        raise MatchedTestError("allocation: these outcome counts cannot hold the treated patients with the outcome")
    with_outcome = [v - 1 for v in values[:treated_with_outcome]]
    without = values[treated_with_outcome:]
    if any(v > ratio for v in without):
        raise MatchedTestError("allocation: a set without a treated outcome cannot have more than k control outcomes")
    return {"treated_with_outcome": with_outcome, "treated_without_outcome": without}


def rounding_interval(printed: float, decimals: int) -> tuple[float, float]:
    """The half-open interval of values that print as ``printed`` when rounded half up to ``decimals``.

    E.g. p = 0.42 printed to 2 decimals comes from [0.415, 0.425).
    """
    half = 0.5 * 10.0 ** (-decimals)
    return (round(printed - half, decimals + 1), round(printed + half, decimals + 1))


def allocation_to_patients(allocation: dict[str, Sequence[int]], ratio: int) -> pd.DataFrame:
    """Patient-level rows (matched_set, exposure, outcome) for an allocation from ``cmh_attainable_p``."""
    rows = []
    s = 0
    for key, treated_outcome in (("treated_with_outcome", 1), ("treated_without_outcome", 0)):
        for c in allocation[key]:
            s += 1
            rows.append((s, 1, treated_outcome))
            rows.extend((s, 0, int(i < c)) for i in range(ratio))
    return pd.DataFrame(rows, columns=["matched_set", "exposure", "outcome"])


# ----------------------------------------------------------------------------------------------
# Log-rank stratified by matched set
# ----------------------------------------------------------------------------------------------


def stratified_logrank(durations: Any, events: Any, groups: Any, strata: Any) -> dict[str, Any]:
    """Log-rank test of equal survival across groups, stratified (R ``survdiff(... + strata(set))``).

    Within each stratum, at each distinct event time: O - E and the hypergeometric covariance
    d (n - d) / (n - 1) (n_j / n)(delta_jl - n_l / n); both summed over times and strata;
    chi2 = (O - E)' V^- (O - E) over the first g - 1 groups, g - 1 df.
    Returns keys: chi2, df, p, groups (list of {group, n, observed, expected}), n_strata,
    n_strata_informative (strata contributing variance), method.
    """
    from scipy.stats import chi2 as chi2_dist

    t = np.asarray(pd.Series(durations, dtype=float), dtype=float)
    e = _binary(events, "events")
    g = pd.Series(groups).reset_index(drop=True)
    problems = []
    if not (len(t) == len(e) == len(g)):
        raise MatchedTestError(f"stratified log-rank: lengths differ ({len(t)} durations, {len(e)} events, {len(g)} groups)")
    bad = np.flatnonzero(~np.isfinite(t) | (t < 0))
    if bad.size:
        problems.append(f"missing or negative durations at positions {bad.tolist()}")
    if g.isna().any():
        problems.append(f"missing groups at positions {np.flatnonzero(g.isna().to_numpy()).tolist()}")
    if problems:
        raise MatchedTestError("stratified log-rank: " + "; ".join(problems))
    levels = sorted(g.unique(), key=str)
    if len(levels) < 2:
        raise MatchedTestError(f"stratified log-rank: needs two or more groups, found {levels}")
    codes = pd.Categorical(g, categories=levels).codes
    sc = _set_codes(strata, len(t))
    k = len(levels)
    o_e = np.zeros(k)
    obs = np.zeros(k)
    exp_ = np.zeros(k)
    cov = np.zeros((k, k))
    informative = 0
    for s in np.unique(sc):
        idx = sc == s
        ts, es, cs = t[idx], e[idx], codes[idx]
        before = cov.trace()
        for u in np.unique(ts[es]):
            at_risk = ts >= u
            n_j = np.bincount(cs[at_risk], minlength=k).astype(float)
            d_j = np.bincount(cs[(ts == u) & es], minlength=k).astype(float)
            n, d = n_j.sum(), d_j.sum()
            frac = n_j / n
            obs += d_j
            exp_ += d * frac
            if n > 1:
                w = d * (n - d) / (n - 1)
                cov += w * (np.diag(frac) - np.outer(frac, frac))
        informative += int(cov.trace() > before)
    o_e = obs - exp_
    stat = float(o_e[: k - 1] @ np.linalg.solve(cov[: k - 1, : k - 1], o_e[: k - 1]))
    return {
        "chi2": stat, "df": k - 1, "p": float(chi2_dist.sf(stat, k - 1)),
        "groups": [{"group": lv, "n": int((codes == i).sum()), "observed": int(obs[i]), "expected": float(exp_[i])}
                   for i, lv in enumerate(levels)],
        "n_strata": int(len(np.unique(sc))), "n_strata_informative": informative,
        "method": METHOD_STRATIFIED_LOGRANK,
    }
