"""Integration: bad input stops the workflow with a clear message naming file, variable, patients and rule."""

from __future__ import annotations

import pytest

from workflow_support import copy_workflow, snakemake

pytestmark = pytest.mark.integration


def run_on(tmp_path, bad_file: str, target: str = "results/validated/christie.parquet",
           codebook: str = "tests/data/bad/codebook.yaml"):
    root = copy_workflow(tmp_path / "bad")
    override = (f"studies={{christie: {{input: tests/data/bad/{bad_file}, codebook: {codebook}}}, "
                "mayo: {input: resources/synthetic/mayo.dta, codebook: config/codebooks/mayo.yaml}}")
    proc = snakemake(root, target, "--config", override)
    return root, proc


def test_a_codebook_the_design_cannot_use_is_refused_at_parse_time(tmp_path):
    """The broken-file corpus's small codebook lacks Study A's variables: refused before any job."""
    root, proc = run_on(tmp_path, "several_violations.sav")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "nenbone preflight: the run cannot start" in out
    assert "tests/data/bad/codebook.yaml" in out and "the codebook is for the 'badcorpus' design" in out
    assert "variable 'bone_mets' is needed by the christie derivation" in out
    assert "Traceback (most recent call last)" not in out
    assert not (root / "results").exists()


def test_unreadable_file_is_refused_at_parse_time_with_its_name(tmp_path):
    root, proc = run_on(tmp_path, "truncated.sav", target="results/ingested/christie.parquet",
                        codebook="config/codebooks/christie.yaml")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "truncated.sav" in out
    assert "nenbone preflight: the run cannot start" in out or "rule 'ingest' failed" in out
    assert "Traceback (most recent call last)" not in out
    assert not (root / "results" / "ingested" / "christie.parquet").exists()
