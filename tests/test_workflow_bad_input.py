"""Integration: bad input stops the workflow with a clear message naming file, variable, patients and rule."""

from __future__ import annotations

import pytest

from workflow_support import copy_workflow, snakemake

pytestmark = pytest.mark.integration


def run_on(tmp_path, bad_file: str, target: str = "results/validated/christie.parquet"):
    root = copy_workflow(tmp_path / "bad")
    override = (f"studies={{christie: {{input: tests/data/bad/{bad_file}, codebook: tests/data/bad/codebook.yaml}}, "
                "mayo: {input: resources/synthetic/mayo.dta, codebook: config/codebooks/mayo.yaml}}")
    proc = snakemake(root, target, "--config", override)
    return root, proc


def test_several_violations_reported_at_once_without_traceback(tmp_path):
    root, proc = run_on(tmp_path, "several_violations.sav")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "tests/data/bad/several_violations.sav" in out and "rule 'validate' failed" in out
    assert out.count("  - variable '") >= 4  # four violations, with counts (the log is not printed)
    assert "Traceback (most recent call last)" not in out
    # patient IDs only in the rule's private log; the console and Snakemake's own log get counts and its path
    log = root / "results" / "logs" / "validate" / "christie.log"
    assert "patient(s):" in log.read_text() and "results/logs/validate/christie.log" in out
    assert "patient(s):" not in out
    assert not [p for p in (root / ".snakemake" / "log").glob("*.log") if "patient(s):" in p.read_text()]
    assert not (root / "results" / "validated" / "christie.parquet").exists()
    assert not (root / "results" / "derived" / "christie.parquet").exists()


def test_unreadable_file_fails_at_ingestion_with_its_name(tmp_path):
    root, proc = run_on(tmp_path, "truncated.sav", target="results/ingested/christie.parquet")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "truncated.sav" in out and "rule 'ingest' failed" in out
    assert "Traceback (most recent call last)" not in out
    assert not (root / "results" / "ingested" / "christie.parquet").exists()
