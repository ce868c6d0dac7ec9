"""Benchmarks (not tests): workflow wall time, no-op rerun, and how cost grows with cohort size.

Standing goals (DEVELOPERS guide): a clean default run in <= 30 s on 2 cores with the environment
ready; a no-op rerun in <= 3 s; cost growing no faster than n log n with cohort size.

    python benchmarks/run.py            # all three
    python benchmarks/run.py scaling    # only the cohort-size scaling

Writes benchmarks/results.json (git-ignored) and prints a table; exits 0 whatever it measures.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return elapsed


def workflow_times(cores: int = 2) -> dict[str, float]:
    from workflow_support import copy_workflow

    with tempfile.TemporaryDirectory() as tmp:
        root = copy_workflow(Path(tmp) / "nenbone")
        cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores)]
        clean = timed(cmd, root)
        noop = timed(cmd, root)
    return {"clean_run_s": round(clean, 2), "noop_rerun_s": round(noop, 2), "cores": cores}


def scaling(factors: tuple[int, ...] = (1, 4, 16, 64)) -> dict[str, object]:
    """Tile Study A's raw twin k times (new IDs) and time write -> ingest -> validate -> derive -> KM."""
    import pandas as pd
    import yaml

    from nenbone.analysis.plans import run_survival_plan
    from nenbone.codebook import load_codebook
    from nenbone.derive import deriver
    from nenbone.io.ingest import ingest, read_ingested
    from nenbone.io.spss_stata import write_raw
    from nenbone.synthetic import generator
    from nenbone.validation import validate

    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    plans = yaml.safe_load((ROOT / "config/analysis.yaml").read_text())["plans"]["christie"]["survival"]
    codebook = load_codebook(ROOT / "config/codebooks/christie.yaml")
    base = generator("christie")(config["synthetic"]["christie"], config["christie"])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in (factors[0], *factors):  # the first pass warms up lazy imports and is discarded
            frame = pd.concat([base.assign(patient_id=base["patient_id"] + f"-{i}") for i in range(k)], ignore_index=True)
            sav, parquet, meta = Path(tmp) / f"c{k}.sav", Path(tmp) / f"c{k}.parquet", Path(tmp) / f"c{k}.json"
            start = time.perf_counter()
            write_raw(frame, sav, codebook)
            ingest(sav, parquet, meta)
            raw, m = read_ingested(parquet, meta)
            clean = validate(raw, codebook, str(sav), m)
            derived = deriver("christie")(clean, config["christie"], config["days_per_month"])
            for plan in plans:
                run_survival_plan(derived, plan, 0.95, [0, 12, 24])
            rows.append({"n": len(frame), "seconds": round(time.perf_counter() - start, 3)})
    rows = rows[1:]
    # growth exponent over the two largest sizes, where fixed costs no longer dominate
    (n0, t0), (n1, t1) = (rows[-2]["n"], rows[-2]["seconds"]), (rows[-1]["n"], rows[-1]["seconds"])
    exponent = math.log(t1 / t0) / math.log(n1 / n0)
    nlogn = math.log((n1 * math.log(n1)) / (n0 * math.log(n0))) / math.log(n1 / n0)
    return {"rows": rows, "exponent": round(exponent, 3), "nlogn_exponent": round(nlogn, 3),
            "within_nlogn": exponent <= nlogn + 0.1}


def main(argv: list[str]) -> None:
    which = argv[1:] or ["workflow", "scaling"]
    out: dict[str, object] = {}
    if "workflow" in which:
        out["workflow"] = workflow_times()
        w = out["workflow"]
        print(f"clean run: {w['clean_run_s']} s (goal <= 30 s); no-op rerun: {w['noop_rerun_s']} s (goal <= 3 s)")
    if "scaling" in which:
        out["scaling"] = s = scaling()
        for r in s["rows"]:
            print(f"n = {r['n']:>7}: {r['seconds']:.2f} s (write, ingest, validate, derive, Kaplan-Meier)")
        print(f"growth exponent {s['exponent']} (n log n over this range: {s['nlogn_exponent']}); "
              f"{'within' if s['within_nlogn'] else 'ABOVE'} n log n")
    (ROOT / "benchmarks" / "results.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv)
