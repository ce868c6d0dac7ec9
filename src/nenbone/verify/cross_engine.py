"""Cross-engine check: the survival numbers of a run recomputed with R's survival package.

From the run's derived and matched data (exported to CSV in the scratch folder), `survival.R`
recomputes every Kaplan-Meier median with its log-log interval, every log-rank p and the Cox
models of Study B (Efron and Breslow ties, robust SE clustered on the matched set, unadjusted and
adjusted for the matching covariates). The largest difference per quantity goes into the
certificate. R's median is the midpoint convention, so it is compared with `median_midpoint`.
Matching itself is not cross-checked: Debian's MatchIt 4.5.1 ignores calipers (fixed upstream in
4.5.4), so it cannot serve as a reference.

The check reports; it does not decide the verdict of `make verify` (the manifest does).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from nenbone.analysis.effects import matched_cohort
from nenbone.io.files import read_parquet

# Values in results/analysis/*.json are full precision; mayo_effects.csv keeps 6 decimals.
TOLERANCE = {"relative": 1e-6, "absolute": 1e-6}
TOLERANCE_TEXT = "|R - nenbone| <= 1e-6 + 1e-6 x |R| (the effects file keeps 6 decimals)"
QUANTITY_CLASSES = {
    "median": "Kaplan-Meier median", "ci_loglog_lower": "Kaplan-Meier log-log interval",
    "ci_loglog_upper": "Kaplan-Meier log-log interval", "logrank_p": "log-rank p",
    "hr": "Cox hazard ratio", "lower": "Cox 95% interval (robust SE)", "upper": "Cox 95% interval (robust SE)",
    "p": "Cox p (robust Wald)",
}


def rscript() -> str | None:
    return shutil.which("Rscript")


def r_survival_version() -> tuple[str | None, str]:
    """Version of R's survival package, or None and why not."""
    exe = rscript()
    if exe is None:
        return None, "Rscript is not on PATH (install r-base-core and r-cran-survival: tests/install_system_deps.sh)"
    proc = subprocess.run([exe, "-e", 'cat(as.character(packageVersion("survival")), R.version$version.string, sep="|")'],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return None, "R is installed but its survival package is not (r-cran-survival): " + proc.stderr.strip()[-300:]
    survival, r_version = proc.stdout.strip().split("|", 1)
    return f"survival {survival}; {r_version}", ""


def _r_where(where: dict[str, Any] | None) -> str | None:
    """A plan's `where` filter as an R expression over the exported columns."""
    if not where:
        return None
    terms = []
    for column, value in where.items():
        if isinstance(value, bool):
            terms.append(f"{column} %in% {str(value).upper()}")
        elif isinstance(value, (int, float)):
            terms.append(f"{column} %in% {value}")
        else:
            terms.append(f'{column} %in% "{value}"')
    return " & ".join(terms)


def _km_expectations(plan_name: str, plan: dict[str, Any], numbers: dict[str, Any]) -> dict[str, float | None]:
    found = numbers[plan_name]
    out: dict[str, float | None] = {}
    strata = [g.lower() for g in plan.get("groups", [])] if plan.get("group") else [None]
    for s in strata:
        src = found[s] if s else found
        prefix = f"{s}." if s else ""
        out[prefix + "median"] = src.get("median_midpoint")
        out[prefix + "ci_loglog_lower"] = src.get("ci_loglog_lower")
        out[prefix + "ci_loglog_upper"] = src.get("ci_loglog_upper")
    if plan.get("group"):
        out["logrank_p"] = found.get("logrank_p")
    return out


def prepare(root: Path, folder: Path) -> dict[tuple[str, str], float | None]:
    """Export the data and the list of analyses for survival.R into `folder`; return nenbone's
    values keyed by (analysis id, quantity)."""
    root, folder = Path(root), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((root / "results/provenance/config.yaml").read_text(encoding="utf-8"))
    level = config["analysis"]["confidence_level"]
    rows, expected = [], {}
    cohorts: dict[str, pd.DataFrame] = {}
    for study in sorted(config["plans"]):
        derived = read_parquet(root / f"results/derived/{study}.parquet")
        matched_file = root / f"results/matched/{study}_matched.parquet"
        cohorts[f"derived_{study}.csv"] = derived
        if matched_file.is_file():
            cohorts[f"matched_{study}.csv"] = matched_cohort(derived, read_parquet(matched_file))
        numbers = json.loads((root / f"results/analysis/{study}.json").read_text(encoding="utf-8"))
        data = f"matched_{study}.csv" if matched_file.is_file() else f"derived_{study}.csv"
        for plan in config["plans"][study].get("survival", []):
            aid = f"{study}.{plan['name']}"
            rows.append({"id": aid, "kind": "km", "data": data, "duration": plan["duration"], "event": plan["event"],
                         "where": _r_where(plan.get("where")), "group": plan.get("group"),
                         "groups": ";".join(plan.get("groups", [])) or None, "covariates": None, "cluster": None,
                         "ties": None, "level": level})
            expected.update({(aid, q): v for q, v in _km_expectations(plan["name"], plan, numbers).items()})
        cox = config["plans"][study].get("cox")
        if cox:
            effects = pd.read_csv(root / f"results/analysis/{study}_effects.csv")
            matching = config[study]["matching"]
            for ties in ("efron", "breslow"):
                for name, covs in (("unadjusted", []), ("adjusted", list(matching["covariates"]))):
                    aid = f"{study}.cox_{name}_{ties}"
                    rows.append({"id": aid, "kind": "cox", "data": data, "duration": cox["duration"],
                                 "event": cox["event"], "where": None, "group": cox["exposure"],
                                 "groups": matching["treated_group"], "covariates": ";".join(covs) or None,
                                 "cluster": cox.get("cluster"), "ties": ties, "level": level})
                    row = effects[effects["analysis"] == f"cox_{name}_{ties}"].iloc[0]
                    expected.update({(aid, q): float(row[q]) for q in ("hr", "lower", "upper", "p")})
    for name, frame in cohorts.items():
        _for_r(frame).to_csv(folder / name, index=False)
    pd.DataFrame(rows).to_csv(folder / "analyses.csv", index=False)
    shutil.copyfile(str(resources.files("nenbone.verify") / "survival.R"), folder / "survival.R")
    return expected


def _for_r(frame: pd.DataFrame) -> pd.DataFrame:
    """True/False as TRUE/FALSE (R's read.csv reads those as logical), missing as empty."""
    out = frame.copy()
    for column in out.columns:
        values = set(out[column].dropna().unique().tolist()) if out[column].dtype == object or str(out[column].dtype) in ("bool", "boolean") else None
        if values is not None and values <= {True, False} and values:
            out[column] = out[column].map({True: "TRUE", False: "FALSE"})
    return out


@dataclass
class CrossEngine:
    status: str                 # "agree", "differ", "not run", "failed"
    reason: str = ""
    engine: str = ""
    tolerance: str = TOLERANCE_TEXT
    largest: dict[str, dict[str, Any]] = field(default_factory=dict)  # per quantity class
    outside_tolerance: list[dict[str, Any]] = field(default_factory=list)
    n_compared: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "engine": self.engine, "tolerance": self.tolerance,
                "n_compared": self.n_compared, "largest_difference": self.largest,
                "outside_tolerance": self.outside_tolerance}


def compare_values(expected: dict[tuple[str, str], float | None], r_values: dict[tuple[str, str], float | None],
                   engine: str) -> CrossEngine:
    """Largest |R - nenbone| per quantity class; a value missing on one side counts as a difference
    unless both are missing (median not reached)."""
    result = CrossEngine(status="agree", engine=engine)
    for key in sorted(expected):
        aid, quantity = key
        ours, theirs = expected[key], r_values.get(key)
        cls = QUANTITY_CLASSES[quantity.rsplit(".", 1)[-1]]
        ours_missing = ours is None or pd.isna(ours)
        theirs_missing = theirs is None or pd.isna(theirs)
        if ours_missing and theirs_missing:
            continue
        result.n_compared += 1
        if ours_missing or theirs_missing:
            diff, within = float("inf"), False
        else:
            diff = abs(float(theirs) - float(ours))
            within = diff <= TOLERANCE["absolute"] + TOLERANCE["relative"] * abs(float(theirs))
        where = {"analysis": aid, "quantity": quantity, "nenbone": None if ours_missing else float(ours),
                 "R": None if theirs_missing else float(theirs), "difference": diff}
        if cls not in result.largest or diff > result.largest[cls]["difference"]:
            result.largest[cls] = where
        if not within:
            result.outside_tolerance.append(where)
    if result.outside_tolerance:
        result.status = "differ"
    return result


def run_cross_engine(root: Path, folder: Path) -> CrossEngine:
    """Recompute in R and compare; 'not run' (with the reason) when R or survival is missing."""
    engine, why = r_survival_version()
    if engine is None:
        return CrossEngine(status="not run", reason=why)
    expected = prepare(root, folder)
    proc = subprocess.run([rscript() or "Rscript", "survival.R", "."], cwd=folder, capture_output=True, text=True)
    if proc.returncode != 0:
        return CrossEngine(status="failed", engine=engine, reason="survival.R failed: " + proc.stderr.strip()[-2000:])
    table = pd.read_csv(folder / "r_results.csv")
    r_values = {(r.id, r.quantity): (None if pd.isna(r.value) else float(r.value)) for r in table.itertuples()}
    return compare_values(expected, r_values, engine)
