"""Rebuild the R golden values: write the small datasets (seeded) and run make_reference.R.

    python tests/r_reference/run.py            # datasets + R results (needs Rscript with survival)
    python tests/r_reference/run.py --data     # only the datasets

The datasets (CSV) and R's results (JSON) are committed: the tests compare the package to them and
never need R. Rerun this only to change a dataset or to check against another survival version.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def cox_ties(seed: int = 12) -> pd.DataFrame:
    """60 patients, times rounded to whole months (many ties, events tied with censorings),
    a binary and a continuous covariate, 3 strata, 15 clusters of 4, non-integer case weights."""
    rng = np.random.default_rng(seed)
    n = 60
    x1 = rng.integers(0, 2, n)
    x2 = np.round(rng.normal(size=n), 3)
    t_true = rng.exponential(12 / np.exp(0.7 * x1 - 0.4 * x2))
    cens = rng.uniform(3, 30, n)
    time = np.ceil(np.minimum(t_true, cens))
    event = (t_true <= cens).astype(int)
    return pd.DataFrame({"time": time, "event": event, "x1": x1, "x2": x2,
                         "stratum": np.arange(n) % 3, "cluster": np.arange(n) // 4,
                         "w": np.round(rng.uniform(0.3, 3.0, n), 3)})


def km_edges() -> pd.DataFrame:
    """Kaplan-Meier edge cases as groups of one long table (time, event, curve).

    half_then_censored: S = 0.5 exactly after the 3rd event, only censorings follow (R: midpoint to
      the last follow-up); half_then_event: S = 0.5 over a stretch ending in an event (midpoint of the
      two event times); reaches_zero: last observation an event, S = 0 (log-log upper limit NA);
      no_events: all censored; mixed: a curve with ties that crosses 0.5 ordinarily.
    """
    curves = {
        "half_then_censored": ([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 0, 0]),
        "half_then_event": ([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 1, 1, 0, 1, 0, 1]),
        "reaches_zero": ([2, 3, 3, 5, 8, 9, 11, 12], [1, 1, 0, 1, 1, 0, 1, 1]),
        "no_events": ([4, 6, 9, 10], [0, 0, 0, 0]),
        "mixed": ([1, 2, 2, 3, 4, 4, 4, 6, 7, 9, 10, 12, 13, 15, 16],
                  [1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1]),
    }
    rows = [pd.DataFrame({"time": t, "event": e, "curve": name}) for name, (t, e) in curves.items()]
    return pd.concat(rows, ignore_index=True)


def separation() -> pd.DataFrame:
    """A group with no events: R's coxph warns 'coefficient may be infinite'; nenbone refuses."""
    return pd.DataFrame({"time": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "event": [1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
                         "x1": [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]})


def matched_cohort() -> pd.DataFrame:
    """Study B's matched cohort of the default twin (derive -> match, as the workflow): the columns the
    Cox models use, no patient IDs (match_id is the matcher's set number)."""
    sys.path.insert(0, str(HERE.parent))
    from test_synthetic_mayo import pipeline

    from nenbone.analysis.effects import matched_cohort as cohort_of

    _, derived, result = pipeline()
    out = cohort_of(derived, result.matched)[["os_months", "os_event", "group", "match_id"]]
    out = out.assign(os_event=out["os_event"].astype(int))
    return out.sort_values(["match_id", "group", "os_months"], ignore_index=True)


def write_datasets() -> None:
    matched_cohort().to_csv(HERE / "matched_cohort.csv", index=False, float_format="%.17g")
    cox_ties().to_csv(HERE / "cox_ties.csv", index=False)
    km_edges().to_csv(HERE / "km_edges.csv", index=False)
    separation().to_csv(HERE / "separation.csv", index=False)


def main(argv: list[str]) -> None:
    write_datasets()
    if "--data" in argv:
        return
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise SystemExit("Rscript not found: datasets written, R results left as committed")
    subprocess.run([rscript, str(HERE / "make_reference.R"), str(HERE)], check=True)


if __name__ == "__main__":
    main(sys.argv)
