"""Missing data: how much is missing, multiple imputation by chained equations, Rubin's rules.

The imputer (``impute_chained``) follows R mice's defaults where it can (van Buuren and
Groothuis-Oudshoorn 2011), and says where it departs:

* start: each missing value is a random draw from the observed values of its variable (mice
  ``initialize.imp``);
* visit sequence: the variables in the order given, ``iterations`` cycles (default 10; mice's maxit is 5);
* continuous variables: predictive mean matching (mice ``pmm``, type-1 matching): a Bayesian linear
  regression draw (sigma*^2 = RSS / chi2(n_obs - p), beta* ~ N(beta_hat, sigma*^2 (X'X + ridge I)^-1),
  ridge = 1e-5 as mice), predicted means X beta_hat for the observed and X beta* for the missing,
  and for each missing value a random one of the ``donors`` (default 5) observed values whose
  predicted means are nearest; imputed values are therefore always observed values;
* binary and categorical variables: (multinomial) logistic regression, fitted by Newton-Raphson
  with a small ridge penalty on the slopes (``ridge_logistic``, default 1e-4, to keep the fit
  finite under separation where mice augments the data instead), coefficients drawn from
  N(beta_hat, I(beta_hat)^-1), each missing value drawn from its predicted category
  probabilities. For binary variables this is mice ``logreg``; for categorical ones it is a proper
  version of ``polyreg`` (mice's polyreg draws categories from the fitted probabilities without
  drawing the coefficients);
* predictors of each variable: every other imputed variable (dummy-coded) and the complete
  ``predictors`` columns (for a Cox analysis: the treatment group, the event indicator and the
  Nelson-Aalen cumulative hazard at each patient's time, White and Royston 2009 - see
  ``nelson_aalen_at_own_time``);
* randomness: imputation j (0-based) uses ``numpy.random.default_rng([seed, j])``: the result is a
  pure function of the data, the settings and the seed.

Rubin's rules (``pool_rubin``): Rubin (1987) with the Barnard-Rubin (1999) small-sample degrees of
freedom when the complete-data df is given (as R mice ``pool``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from nenbone.analysis.survival import km_table
from nenbone.errors import NenboneError

KINDS = ("continuous", "binary", "categorical")
METHOD_MICE = ("multiple imputation by chained equations: predictive mean matching (continuous), "
               "Bayesian (multinomial) logistic regression draws (binary, categorical)")
METHOD_RUBIN = "Rubin's rules (Rubin 1987); Barnard-Rubin degrees of freedom"


class MissingDataError(NenboneError):
    """Data or settings that cannot be imputed or pooled as asked."""


# ----------------------------------------------------------------------------------------------
# How much is missing
# ----------------------------------------------------------------------------------------------


def missing_summary(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """For each column: n (rows), n_missing, n_observed, percent_missing (0-100, unrounded)."""
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise MissingDataError(f"missing-data summary: column(s) not in the data: {', '.join(absent)}")
    n = len(frame)
    rows = [(c, n, int(frame[c].isna().sum()), int(frame[c].notna().sum()),
             100.0 * frame[c].isna().sum() / n if n else float("nan")) for c in columns]
    return pd.DataFrame(rows, columns=["variable", "n", "n_missing", "n_observed", "percent_missing"])


def complete_case_summary(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, Any]:
    """Who a complete-case analysis on ``columns`` keeps and drops, for the Methods paragraph.

    Returns keys: n (rows), n_complete, n_incomplete (rows missing at least one column),
    missing_by_variable ({column: rows missing it}), missing_only_this ({column: rows for which it is
    the only missing column}), n_missing_several (rows missing two or more columns).
    """
    summary = missing_summary(frame, columns)
    miss = frame[list(columns)].isna()
    per_row = miss.sum(axis=1)
    return {"n": int(len(frame)), "n_complete": int((per_row == 0).sum()), "n_incomplete": int((per_row > 0).sum()),
            "missing_by_variable": dict(zip(summary["variable"], summary["n_missing"].astype(int).tolist())),
            "missing_only_this": {c: int((miss[c] & (per_row == 1)).sum()) for c in columns},
            "n_missing_several": int((per_row > 1).sum())}


def missing_by_analysis(frame: pd.DataFrame, tables: Mapping[str, Mapping[str, Any]],
                        survival: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What each analysis of a plan does with missing values, for the Methods paragraph (counts only).

    ``tables`` are the plan's descriptive tables (config ``plans.<design>.tables``): for each row whose
    variable is missing in any of the table's patients (those its ``where`` selects and, for a row
    with a ``denominator``, those in it, as the table counts them), ``variables`` gets {table,
    variable, label (the row's), n (missing), denominator_n (the table's patients), pct,
    n_smallest_group (the fewest missing in one of the table's groups, of those with any: when the
    table hides that cell, the total must not give it away)}. Each row and its test use the others (complete cases, variable by variable). ``survival`` are the plan's
    Kaplan-Meier analyses: {plan, label, n (with a known time and status: used), n_selected (its
    ``where``)}. A variable in several tables is listed once per table.
    """
    from nenbone.analysis.plans import select_rows

    variables: list[dict[str, Any]] = []
    for name, spec in tables.items():
        rows = select_rows(frame, spec.get("where"), f"missing data of table '{name}'")
        for row in spec["rows"]:
            column = row["variable"]
            if column not in rows.columns:
                raise MissingDataError(f"missing data of table '{name}': column '{column}' is not in the data")
            base = rows
            if row.get("denominator"):
                base = rows.loc[rows[row["denominator"]].astype("boolean").fillna(False).to_numpy(dtype=bool)]
            missing = base[column].isna()
            n_missing, d = int(missing.sum()), int(len(base))
            if not n_missing:
                continue
            by_group = ([int(n) for n in missing.groupby(base[spec["group"]].astype("string")).sum() if n]
                        if spec.get("group") else [n_missing])
            variables.append({"table": str(name), "variable": str(column), "label": str(row["label"]),
                              "n": n_missing, "denominator_n": d, "pct": 100.0 * n_missing / d,
                              "n_smallest_group": min(by_group, default=n_missing)})
    used = []
    for plan in survival:
        rows = select_rows(frame, plan.get("where"), f"missing data of survival plan '{plan['name']}'")
        known = rows[plan["duration"]].notna() & rows[plan["event"]].notna()
        used.append({"plan": str(plan["name"]), "label": str(plan["label"]), "n": int(known.sum()),
                     "n_selected": int(len(rows))})
    return {"variables": variables, "survival": used}


def nelson_aalen_at_own_time(durations: Any, events: Any) -> np.ndarray:
    """Nelson-Aalen cumulative hazard H(T_i) = sum_{t_j <= T_i} d_j / n_j at each patient's own time."""
    table = km_table(durations, events)
    h = np.cumsum(table["events"].to_numpy(dtype=float) / table["n_at_risk"].to_numpy(dtype=float))
    idx = np.searchsorted(table["time"].to_numpy(dtype=float), np.asarray(durations, dtype=float), side="right") - 1
    return h[idx]


# ----------------------------------------------------------------------------------------------
# Models used by the imputer
# ----------------------------------------------------------------------------------------------


def _norm_draw(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, ridge: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """Bayesian linear regression draw (mice .norm.draw): returns (beta_hat, beta_star)."""
    xtx = X.T @ X
    penalty = ridge * np.diag(np.diag(xtx))
    v = np.linalg.inv(xtx + penalty)
    beta = v @ X.T @ y
    resid = y - X @ beta
    df = max(len(y) - X.shape[1], 1)
    sigma_star = math.sqrt(float(resid @ resid) / rng.chisquare(df))
    chol = np.linalg.cholesky((v + v.T) / 2)
    beta_star = beta + sigma_star * chol @ rng.standard_normal(X.shape[1])
    return beta, beta_star


def _softmax(eta: np.ndarray) -> np.ndarray:
    eta = np.column_stack([np.zeros(len(eta)), eta])
    eta -= eta.max(axis=1, keepdims=True)
    e = np.exp(eta)
    return e / e.sum(axis=1, keepdims=True)


def _multinomial_information(X: np.ndarray, probs: np.ndarray, penalty: np.ndarray) -> np.ndarray:
    """Observed information of a multinomial logit (blocks per pair of non-reference categories), penalised."""
    p, k = X.shape[1], probs.shape[1]
    info = np.empty((p * k, p * k))
    for a in range(k):
        for b in range(k):
            w = probs[:, a] * ((a == b) - probs[:, b])
            info[a * p:(a + 1) * p, b * p:(b + 1) * p] = X.T @ (X * w[:, None])
    return info + penalty


def fit_multinomial_logit(X: np.ndarray, y: np.ndarray, n_levels: int, ridge: float = 1e-4,
                          max_iter: int = 100, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression (level 0 = reference) by Newton-Raphson, ridge on the slopes.

    ``X`` includes the intercept in column 0 (not penalised); ``y`` holds level codes 0..n_levels-1.
    Returns (coefficients, shape (p, n_levels - 1); covariance of their column-major vector, the
    inverse of the penalised information). With two levels this is ordinary logistic regression.
    """
    n, p = X.shape
    k = n_levels - 1
    Y = np.zeros((n, k))
    for lv in range(1, n_levels):
        Y[:, lv - 1] = y == lv
    pen = np.full(p, ridge * n)
    pen[0] = 0.0
    P_pen = np.diag(np.tile(pen, k))
    beta = np.zeros(p * k)  # column-major: level 1's p coefficients, then level 2's, ...

    def loglik(b: np.ndarray) -> float:
        probs = _softmax(X @ b.reshape(k, p).T)
        ll = float(np.sum(np.log(np.clip(probs[np.arange(n), y.astype(int)], 1e-300, None))))
        return ll - 0.5 * float(b @ P_pen @ b)

    ll = loglik(beta)
    info = None
    for _ in range(max_iter):
        B = beta.reshape(k, p).T
        probs = _softmax(X @ B)[:, 1:]
        grad = (X.T @ (Y - probs)).T.ravel() - P_pen @ beta
        info = _multinomial_information(X, probs, P_pen)
        step = np.linalg.solve(info, grad)
        new = beta + step
        new_ll = loglik(new)
        halvings = 0
        while new_ll < ll - 1e-12 and halvings < 30:
            step /= 2
            new = beta + step
            new_ll = loglik(new)
            halvings += 1
        beta, ll = new, new_ll
        if np.max(np.abs(step)) < tol:
            break
    B = beta.reshape(k, p).T
    probs = _softmax(X @ B)[:, 1:]
    return B, np.linalg.inv(_multinomial_information(X, probs, P_pen))


# ----------------------------------------------------------------------------------------------
# The imputer
# ----------------------------------------------------------------------------------------------


def _check_imputation_inputs(frame: pd.DataFrame, kinds: Mapping[str, str], predictors: Sequence[str],
                             m: Any, iterations: Any, donors: Any, seed: Any) -> None:
    problems = []
    for name, kind in kinds.items():
        if name not in frame.columns:
            problems.append(f"variable '{name}' is not in the data")
        elif kind not in KINDS:
            problems.append(f"variable '{name}': kind must be one of {', '.join(KINDS)} (got {kind!r})")
        elif frame[name].notna().sum() < 2:
            problems.append(f"variable '{name}' has fewer than 2 observed values")
        elif kind == "continuous" and not pd.api.types.is_numeric_dtype(frame[name]):
            problems.append(f"variable '{name}' is declared continuous but is not numeric")
        elif kind in ("binary", "categorical") and frame[name].dropna().nunique() < 2:
            problems.append(f"variable '{name}' has a single observed category")
        elif kind == "binary" and frame[name].dropna().nunique() > 2:
            problems.append(f"variable '{name}' is declared binary but has {frame[name].dropna().nunique()} categories")
    for name in predictors:
        if name not in frame.columns:
            problems.append(f"predictor '{name}' is not in the data")
        elif name in kinds:
            problems.append(f"'{name}' is both imputed and a complete predictor")
        elif frame[name].isna().any():
            rows = frame.index[frame[name].isna()].tolist()
            problems.append(f"predictor '{name}' must be complete; missing at rows {rows}")
        elif not pd.api.types.is_numeric_dtype(frame[name]) and not pd.api.types.is_bool_dtype(frame[name]):
            problems.append(f"predictor '{name}' must be numeric (code it 0/1)")
    for label, value, low in (("m", m, 1), ("iterations", iterations, 1), ("donors", donors, 1), ("seed", seed, 0)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            problems.append(f"{label} must be an integer >= {low} (got {value!r})")
    if problems:
        raise MissingDataError("multiple imputation: " + "; ".join(problems))


def _codes(series: pd.Series) -> tuple[np.ndarray, list[Any]]:
    levels = sorted(series.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))
    lookup = {v: i for i, v in enumerate(levels)}
    codes = np.array([lookup[v] if pd.notna(v) else -1 for v in series], dtype=int)
    return codes, levels


def impute_chained(frame: pd.DataFrame, kinds: Mapping[str, str], *, m: int, seed: int, iterations: int = 10,
                   donors: int = 5, predictors: Sequence[str] = (), ridge_logistic: float = 1e-4) -> list[pd.DataFrame]:
    """``m`` completed copies of ``frame`` by chained equations (conventions in the module docstring).

    ``kinds`` maps each variable to impute (it may have missing values) to "continuous", "binary" or
    "categorical", in the order the variables are visited; ``predictors`` are complete numeric
    columns used as predictors only. Returns m DataFrames, each a copy of ``frame`` (same index, same
    columns, observed values untouched) with the missing values of the ``kinds`` variables filled;
    categorical values are drawn from the observed categories.
    """
    _check_imputation_inputs(frame, kinds, predictors, m, iterations, donors, seed)
    names = list(kinds)
    n = len(frame)
    aux = np.column_stack([frame[p].to_numpy(dtype=float) for p in predictors]) if predictors else np.empty((n, 0))
    missing = {v: frame[v].isna().to_numpy() for v in names}
    cats: dict[str, list[Any]] = {}
    values: dict[str, np.ndarray] = {}
    for v in names:
        if kinds[v] == "continuous":
            values[v] = frame[v].to_numpy(dtype=float)
        else:
            values[v], cats[v] = _codes(frame[v])

    def design(current: dict[str, np.ndarray], target: str) -> np.ndarray:
        cols = [np.ones(n)]
        for v in names:
            if v == target:
                continue
            if kinds[v] == "continuous":
                x = current[v]
                sd = x.std()
                cols.append((x - x.mean()) / sd if sd > 0 else x - x.mean())
            else:
                for lv in range(1, len(cats[v])):
                    cols.append((current[v] == lv).astype(float))
        for j in range(aux.shape[1]):
            x = aux[:, j]
            sd = x.std()
            cols.append((x - x.mean()) / sd if sd > 0 else x - x.mean())
        return np.column_stack(cols)

    completed = []
    for j in range(m):
        rng = np.random.default_rng([int(seed), j])
        current = {v: values[v].copy() for v in names}
        for v in names:
            miss = missing[v]
            if miss.any():
                current[v][miss] = rng.choice(values[v][~miss], size=int(miss.sum()), replace=True)
        for _ in range(iterations):
            for v in names:
                miss = missing[v]
                if not miss.any():
                    continue
                X = design(current, v)
                X_obs, X_mis = X[~miss], X[miss]
                if kinds[v] == "continuous":
                    y_obs = values[v][~miss]
                    beta, beta_star = _norm_draw(X_obs, y_obs, rng)
                    yhat_obs, yhat_mis = X_obs @ beta, X_mis @ beta_star
                    order = np.argsort(yhat_obs, kind="stable")
                    sorted_hat = yhat_obs[order]
                    d = min(donors, len(y_obs))
                    picks = np.empty(len(yhat_mis))
                    for i, target in enumerate(yhat_mis):
                        dist = np.abs(sorted_hat - target)
                        nearest = np.argsort(dist, kind="stable")[:d]
                        picks[i] = y_obs[order[nearest[rng.integers(d)]]]
                    current[v][miss] = picks
                else:
                    k = len(cats[v])
                    B, cov = fit_multinomial_logit(X_obs, values[v][~miss], k, ridge=ridge_logistic)
                    chol = np.linalg.cholesky((cov + cov.T) / 2)
                    b_star = B.T.ravel() + chol @ rng.standard_normal(B.size)
                    probs = _softmax(X_mis @ b_star.reshape(k - 1, -1).T)
                    u = rng.random(len(X_mis))
                    current[v][miss] = (u[:, None] > np.cumsum(probs, axis=1)).sum(axis=1).clip(0, k - 1)
        out = frame.copy()
        for v in names:
            if not missing[v].any():
                continue
            if kinds[v] == "continuous":
                out.loc[missing[v], v] = current[v][missing[v]]
            else:
                filled = [cats[v][c] for c in current[v][missing[v]]]
                out.loc[missing[v], v] = pd.Series(filled, index=out.index[missing[v]], dtype=out[v].dtype)
        completed.append(out)
    return completed


# ----------------------------------------------------------------------------------------------
# Rubin's rules
# ----------------------------------------------------------------------------------------------


def pool_rubin(estimates: Sequence[float], variances: Sequence[float], df_complete: float | None = None,
               level: float = 0.95) -> dict[str, Any]:
    """Pool one scalar estimate over m imputations by Rubin's rules.

    Q = mean of the estimates; U = mean of the within-imputation variances; B = between-imputation
    variance (ddof 1); T = U + (1 + 1/m) B. riv = (1 + 1/m) B / U; lambda = (1 + 1/m) B / T;
    df_rubin = (m - 1) / lambda^2 (Rubin 1987; infinite when B = 0). With ``df_complete`` (the
    complete-data df, e.g. n - p), Barnard-Rubin: df_obs = (df_com + 1)/(df_com + 3) df_com (1 - lambda),
    df = df_rubin df_obs / (df_rubin + df_obs); without it df = df_rubin. fmi = (riv + 2/(df + 3)) / (riv + 1)
    (as mice). The interval is Q -+ t_{df, (1+level)/2} sqrt(T); p is two-sided from t = Q / sqrt(T).

    Returns keys: m, estimate, within, between, total, se, riv, lambda, fmi, df, df_rubin,
    df_complete, statistic, p, lower, upper, level, method. Log hazard ratios pool on the log scale
    (``pool_log_ratio``).
    """
    from scipy.stats import t as t_dist

    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = len(q)
    if m < 2 or len(u) != m:
        raise MissingDataError(f"Rubin's rules: need m >= 2 estimates with one variance each (got {m} and {len(u)})")
    if not (np.isfinite(q).all() and np.isfinite(u).all()) or (u < 0).any():
        raise MissingDataError("Rubin's rules: estimates and variances must be finite, variances >= 0")
    qbar, ubar = float(q.mean()), float(u.mean())
    b = float(q.var(ddof=1))
    total = ubar + (1 + 1 / m) * b
    lam = (1 + 1 / m) * b / total if total > 0 else 0.0
    riv = (1 + 1 / m) * b / ubar if ubar > 0 else float("inf")
    df_rubin = (m - 1) / lam**2 if lam > 0 else float("inf")
    if df_complete is not None:
        df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
        df = df_obs if math.isinf(df_rubin) else df_rubin * df_obs / (df_rubin + df_obs)
    else:
        df = df_rubin
    fmi = (riv + 2 / (df + 3)) / (riv + 1) if math.isfinite(riv) else 1.0
    se = math.sqrt(total)
    crit = float(t_dist.ppf((1 + level) / 2, df))
    stat = qbar / se if se > 0 else float("inf")
    return {"m": m, "estimate": qbar, "within": ubar, "between": b, "total": total, "se": se, "riv": riv,
            "lambda": lam, "fmi": fmi, "df": df, "df_rubin": df_rubin, "df_complete": df_complete,
            "statistic": stat, "p": float(2 * t_dist.sf(abs(stat), df)), "lower": qbar - crit * se,
            "upper": qbar + crit * se, "level": level,
            "method": METHOD_RUBIN if df_complete is not None else "Rubin's rules (Rubin 1987)"}


def pool_log_ratio(log_ratios: Sequence[float], standard_errors: Sequence[float], df_complete: float | None = None,
                   level: float = 0.95) -> dict[str, Any]:
    """Pool hazard (or odds) ratios on the log scale; keys of ``pool_rubin`` plus ratio, ratio_lower, ratio_upper."""
    se = np.asarray(standard_errors, dtype=float)
    res = pool_rubin(log_ratios, se**2, df_complete=df_complete, level=level)
    return {**res, "ratio": math.exp(res["estimate"]), "ratio_lower": math.exp(res["lower"]),
            "ratio_upper": math.exp(res["upper"])}
