"""Integration (the one end-to-end run of the dialect corpus): a user's export through the config route.

Study A exported as another hospital does (tests/dialects.py `christie_recoded`: other names, vital
status 1 = alive / 2 = dead, sex 0/1, yes = 1 / no = 2, identifying columns), given by --configfile.
Its survival table must equal the one the package computes from the embedded twin.
"""

from __future__ import annotations

import json

import pytest
import yaml

from dialects import CONFIG, ROOT, build, write_twin
from nenbone.codebook import load_codebook
from nenbone.io.ingest import prepare_ingest, restore_raw
from nenbone.validation import validate
from workflow_support import copy_workflow, snakemake

pytestmark = pytest.mark.integration
TABLES = ["baseline", "bm_features", "survival"]


def twin_tables(folder):
    """Study A's tables from the embedded twin, by the package functions the rules call."""
    from nenbone.derive.christie import derive
    from nenbone.presentation.analyses import AnalysisSettings
    from nenbone.presentation.christie_analysis import analyse_christie
    from nenbone.presentation.tables import write_tables

    analysis = yaml.safe_load((ROOT / "config" / "analysis.yaml").read_text(encoding="utf-8"))
    cb = load_codebook(ROOT / "config" / "codebooks" / "christie.yaml")
    frame, meta = prepare_ingest(write_twin("christie", folder), cb)
    raw = restore_raw(frame, meta)
    derived = derive(validate(raw, cb, "twin", meta), CONFIG["christie"], CONFIG["days_per_month"], cb)
    settings = AnalysisSettings(analysis["plans"]["christie"], analysis["numbers"]["christie"], CONFIG["analysis"],
                                CONFIG["christie"]["median_ci"], 0)
    report = analyse_christie(derived, len(raw), settings)
    csv = [folder / f"{t}.csv" for t in TABLES]
    write_tables(report.tables, TABLES, [str(p) for p in csv], [str(folder / f"{t}.md") for t in TABLES])
    return {t: p.read_bytes() for t, p in zip(TABLES, csv)}


def test_a_dialect_runs_through_the_workflow_and_gives_the_twins_tables(tmp_path):
    root = copy_workflow(tmp_path / "wf")
    _, data, book = build("christie_recoded", root / "site")
    config = root / "site" / "run.yaml"
    config.write_text(yaml.safe_dump({"studies": {
        "christie": {"input": "site/christie_recoded.sav", "codebook": "site/christie_recoded.yaml"},
        "mayo": {"input": "resources/synthetic/mayo.dta", "codebook": "config/codebooks/mayo.yaml"}}}))
    targets = [f"results/tables/christie_{t}.csv" for t in TABLES] + ["results/derived/christie.attrition.json",
                                                                      "results/reproduction/summary.yml"]
    dry = snakemake(root, "-n", *targets, "--configfile", str(config))
    assert dry.returncode == 0, dry.stderr[-3000:]
    proc = snakemake(root, *targets, "--configfile", str(config))
    assert proc.returncode == 0, proc.stderr[-3000:]
    want = twin_tables(tmp_path / "twin")
    for t in TABLES:
        assert (root / "results" / "tables" / f"christie_{t}.csv").read_bytes() == want[t], t
    report = json.loads((root / "results" / "validated" / "christie.report.json").read_text())
    assert report["data_origin"]["embedded_twin"] is False
    assert report["dropped_columns"] == ["patient_name", "nhs_number"]
    log = (root / "results" / "logs" / "ingest" / "christie.log").read_text()
    assert "patient_name" in log and "Name 0" not in log
    flow = json.loads((root / "results" / "derived" / "christie.attrition.json").read_text())
    assert flow["groups"] == [{"label": "With bone metastases", "n": 85},
                              {"label": "Without bone metastases", "n": 1127}]
    # the reproduction section calls Study A's input a user's export, never a twin (Study B's is the twin)
    summary = yaml.safe_load((root / "results" / "reproduction" / "summary.yml").read_text(encoding="utf-8"))
    caveat = summary["reproduction"]["caveat"]
    assert "The input of Study A is a user's export" in caveat and "Study A is an embedded" not in caveat
    assert "The input of Study B is an embedded synthetic twin" in caveat
    assert summary["reproduction"]["main_input"] == {"christie": "Study A (a user's export)",
                                                     "mayo": "Study B (the embedded synthetic twin)"}
    christie_items = [line for line in (root / "results" / "reproduction" / "discrepancies.md").read_text(
        encoding="utf-8").splitlines() if "UKINETS" in line or "Lim 2019" in line]
    assert christie_items and not any("twin" in line.lower() for line in christie_items), christie_items

    # the same export declared with too few rows allowed: refused at validation with its row count
    small = yaml.safe_load(book.read_text())
    small["min_rows"] = 5000
    book.write_text(yaml.safe_dump(small, sort_keys=False))
    proc = snakemake(root, *targets, "--configfile", str(config))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "rule 'validate' failed" in out and "1459 row(s)" in out
    assert "Traceback (most recent call last)" not in out
