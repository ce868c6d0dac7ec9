"""Analyses as config describes them: which rows, which time and event, which groups.

A survival plan (config `<study>.survival`) is {name, label, duration, event, where, group, groups}:
`where` keeps the rows whose columns equal the given values, `group` (optional) splits them by a
column, `groups` (optional) fixes which levels and their order. Rows with a missing duration or
event are excluded and counted, never dropped silently.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nenbone.analysis import survival as sv
from nenbone.errors import ConfigError, NenboneError


class SelectionError(NenboneError):
    """Rows cannot be selected: a `where` column is unknown, or missing where it decides."""


def select_rows(frame: pd.DataFrame, where: dict[str, Any] | None, source: str,
                id_col: str = "patient_id") -> pd.DataFrame:
    """Rows where every `column == value` holds, applied in order; a missing value is an error naming the
    patients, never a silent 'no'.

    Filters apply one after another, so a column that is <NA> by definition outside an earlier
    filter (e.g. BM details for patients without BMs) is only checked where it matters.
    """
    absent = [c for c in (where or {}) if c not in frame.columns]
    if absent:
        raise ConfigError(f"{source}: 'where' names column(s) {', '.join(map(repr, absent))}, which the data do not have")
    out = frame
    for column, value in (where or {}).items():
        missing = out[column].isna().to_numpy()
        if missing.any():
            rows = out.loc[missing]
            ids = rows[id_col].astype(str).tolist() if id_col in rows.columns else [str(i) for i in rows.index]
            raise SelectionError(f"{source}: '{column}' is missing for patient(s) {', '.join(ids)}; "
                                 f"cannot decide '{column} == {value}'")
        out = out.loc[(out[column] == value).to_numpy(dtype=bool)]
    return out


MEDIAN_CI_NAMES = {  # the interval of a median as the text names it
    "spss": "the symmetric interval SPSS prints (median plus or minus the normal quantile times its standard error)",
    "loglog": "the log-log (Brookmeyer-Crowley) interval",
}
MEDIAN_CI_CHOICES = tuple(MEDIAN_CI_NAMES)


def chosen_median_ci(km: sv.KMResult, median_ci: str) -> tuple[float | None, float | None]:
    """The interval of the median the study reports (config <design>.median_ci): 'spss' or 'loglog'."""
    if median_ci == "spss":
        return km.spss.lower, km.spss.upper
    if median_ci == "loglog":
        return km.median_ci_loglog
    raise ConfigError(f"median_ci must be one of {', '.join(MEDIAN_CI_CHOICES)}, got {median_ci!r}")


def km_summary(km: sv.KMResult, median_ci: str = "loglog") -> dict[str, Any]:
    """The numbers a text or table quotes from one Kaplan-Meier curve: `ci_lower`/`ci_upper` are the
    study's reported interval (`median_ci`); both conventions stay under their own names."""
    lo, up = km.median_ci_loglog
    ci_lower, ci_upper = chosen_median_ci(km, median_ci)
    return {
        "ci_lower": ci_lower,
        "ci_upper": ci_upper,
        "n": km.n,
        "events": km.events,
        "median": km.median,
        "median_midpoint": km.median_midpoint,
        "ci_loglog_lower": lo,
        "ci_loglog_upper": up,
        "ci_spss_lower": km.spss.lower,
        "ci_spss_upper": km.spss.upper,
        "se_spss": km.spss.se,
        "at_risk": {f"t{int(t) if float(t).is_integer() else t}": n for t, n in km.at_risk.items()},
    }


KM_CONVENTIONS = {
    "km": sv.METHOD_KM,
    "median": sv.METHOD_MEDIAN_FIRST,
    "median_midpoint": sv.METHOD_MEDIAN_MIDPOINT,
    "ci_loglog": sv.METHOD_LOGLOG_MEDIAN_CI,
    "ci_spss": sv.METHOD_SPSS_MEDIAN_CI,
    "logrank": sv.METHOD_LOGRANK,
}


def group_key(level: Any) -> str:
    """A level as a numbers.yml key: 'LB' -> 'lb', 'GI' -> 'gi'."""
    return str(level).strip().lower().replace(" ", "_").replace("-", "_")


def strobe_summary(durations: pd.Series, events: pd.Series, times: list[float], level: float) -> dict[str, Any]:
    """Median follow-up by reverse Kaplan-Meier and survival (percent, log-log interval) at `times` months."""
    from nenbone.analysis.strobe import reverse_km_followup, survival_at

    t, e = durations.astype(float).to_numpy(), events.astype(float).to_numpy()
    follow = reverse_km_followup(t, e, level)
    at = {}
    for row in survival_at(t, e, times, level):
        pct = (lambda v: None if v is None else 100.0 * v)  # noqa: E731
        at[f"m{int(row['time']) if float(row['time']).is_integer() else row['time']}"] = {
            "pct": pct(row["survival"]), "lower_pct": pct(row["lower"]), "upper_pct": pct(row["upper"]),
            "n_at_risk": row["n_at_risk"]}
    return {"followup": {"months": follow["median"], "lower": follow["lower"], "upper": follow["upper"]},
            "survival_at": at}


def at_risk_grid(durations: pd.Series, every: float) -> list[float]:
    """0, every, 2 every, ... up to the first multiple at or beyond the last follow-up (the axis covers it)."""
    import math

    last = float(durations.max()) if len(durations) else 0.0
    steps = max(1, math.ceil(last / every - 1e-9))
    return [float(i * every) for i in range(steps + 1)]


def run_survival_plan(frame: pd.DataFrame, plan: dict[str, Any], level: float,
                      at_risk_times: list[float] | None = None, median_ci: str = "loglog",
                      at_risk_every: float | None = None, survival_times: list[float] | None = None
                      ) -> tuple[dict[str, Any], dict[str, sv.KMResult]]:
    """KM per group (or overall) and the log-rank test between groups, as plain numbers."""
    source = f"survival plan '{plan['name']}'"
    for col in (plan["duration"], plan["event"], plan.get("group")):
        if col is not None and col not in frame.columns:
            raise ConfigError(f"{source}: column '{col}' is not in the data")
    rows = select_rows(frame, plan.get("where"), source)
    complete = rows[plan["duration"]].notna() & rows[plan["event"]].notna()
    used = rows[complete]
    if at_risk_every is not None:
        at_risk_times = at_risk_grid(used[plan["duration"]].astype(float), at_risk_every)
    at_risk_times = list(at_risk_times or [])
    out: dict[str, Any] = {"label": plan["label"], "n_excluded_missing": int((~complete).sum())}
    curves: dict[str, sv.KMResult] = {}
    group = plan.get("group")
    if group is None:
        km = sv.kaplan_meier(used[plan["duration"]].astype(float), used[plan["event"]].astype(bool),
                             level=level, label=plan["label"], at_risk_times=at_risk_times)
        curves["all"] = km
        out.update(km_summary(km, median_ci))
        out["n_selected"] = int(len(rows))  # n + n_excluded_missing: a small remainder would follow from it
        if survival_times:
            out.update(strobe_summary(used[plan["duration"]], used[plan["event"]], survival_times, level))
        return out, curves
    levels = plan.get("groups") or sorted(used[group].dropna().astype(str).unique())
    used = used[used[group].astype("string").isin([str(x) for x in levels]).fillna(False).astype(bool)]
    for lev in levels:
        part = used[used[group].astype("string") == str(lev)]
        km = sv.kaplan_meier(part[plan["duration"]].astype(float), part[plan["event"]].astype(bool),
                             level=level, label=str(lev), at_risk_times=at_risk_times)
        curves[str(lev)] = km
        out[group_key(lev)] = {"group_label": str(lev), **km_summary(km, median_ci)}
        if survival_times:
            out[group_key(lev)].update(strobe_summary(part[plan["duration"]], part[plan["event"]], survival_times, level))
    if len(levels) >= 2:
        lr = sv.logrank(used[plan["duration"]].astype(float), used[plan["event"]].astype(bool),
                        used[group].astype(str))
        out.update({"logrank_chi2": lr.chi2, "logrank_df": lr.df, "logrank_p": lr.p})
    out["n"] = int(len(used))
    out["n_selected"] = int(len(rows))  # before the split: the curves' n and what is left add up to it
    return out, curves


def survival_results(frame: pd.DataFrame, plans: list[dict], analysis: dict, median_ci: str = "loglog"
                     ) -> tuple[dict[str, Any], dict[str, dict[str, sv.KMResult]]]:
    """Every survival plan's numbers and its curves, both keyed by plan name."""
    numbers, curves = {}, {}
    for plan in plans:
        numbers[plan["name"]], curves[plan["name"]] = run_survival_plan(
            frame, plan, level=analysis["confidence_level"], at_risk_every=float(analysis["at_risk_every_months"]),
            median_ci=median_ci, survival_times=[float(t) for t in analysis["survival_at_months"]])
    return numbers, curves


def curve_record(km: sv.KMResult) -> dict[str, Any]:
    """One Kaplan-Meier curve as a figure draws it: the steps with their log-log band, censorings and
    numbers at risk (disclosure control cuts a curve where few remain), numbers at risk on the grid, the
    median and both of its intervals (results/analysis/<study>.curves.json)."""
    lower, upper = sv.loglog_band(km.table, km.level)
    # registry scale: only the vertices a page can show (tables of the studies' size are kept whole)
    table = sv.step_vertices(km.table.assign(lower=lower, upper=upper))
    lower, upper = table["lower"].to_numpy(), table["upper"].to_numpy()
    return {
        "label": km.label, "n": km.n, "events": km.events, "level": km.level, "median": km.median,
        "median_ci_spss": [km.spss.lower, km.spss.upper], "median_ci_loglog": list(km.median_ci_loglog),
        "at_risk": [[float(t), int(n)] for t, n in km.at_risk.items()],
        "steps": {"time": table["time"].astype(float).tolist(), "S": table["S"].astype(float).tolist(),
                  "lower": [float(x) for x in lower], "upper": [float(x) for x in upper],
                  "censored": table["censored"].astype(int).tolist(),
                  "n_at_risk": table["n_at_risk"].astype(int).tolist()},
    }


def curves_document(numbers: dict[str, Any], curves: dict[str, dict[str, sv.KMResult]],
                    median_ci: str = "loglog") -> dict[str, Any]:
    """Every plan's curves (in the plan's group order) and its log-rank p, for the Kaplan-Meier figures;
    `median_ci` names the interval of the median the legends print (the study's, as in text and tables)."""
    return {name: {"logrank_p": numbers[name].get("logrank_p"), "median_ci": median_ci,
                   "n_selected": numbers[name].get("n_selected"),
                   "curves": [{"key": key, **curve_record(km)} for key, km in by_key.items()]}
            for name, by_key in curves.items()}
