"""Integration: an export that passes preflight but breaks value rules stops at `validate`; the
patients it names are in the rule's private log only, never on the console nor in Snakemake's own
log (.snakemake/log), which is kept for every run (issue 11, item 7).

Cheap: one Snakemake run up to the validated table of Study A (ingest and validate only).
"""

from __future__ import annotations

import pytest

from dialects import default_codebook, twin_raw
from workflow_support import copy_workflow, snakemake

pytestmark = pytest.mark.integration

# two patients of the twin, given values the codebook rules out (the file format and codebook stay right)
BORN_TOO_EARLY = "CHR0007"  # date of birth 1890-01-01: before the codebook's range (1900 on)
DIAGNOSED_IN_FUTURE = "CHR0042"  # NEN diagnosis 2099-01-01: after the run date


def _export_with_value_violations(path) -> None:
    import pandas as pd

    from nenbone.codebook import parse_codebook
    from nenbone.io.spss_stata import write_raw

    raw = twin_raw("christie").copy()
    ids = raw["patient_id"].astype(str)
    assert {BORN_TOO_EARLY, DIAGNOSED_IN_FUTURE} <= set(ids)
    raw.loc[ids == BORN_TOO_EARLY, "date_of_birth"] = pd.Timestamp("1890-01-01")
    raw.loc[ids == DIAGNOSED_IN_FUTURE, "date_nen_diagnosis"] = pd.Timestamp("2099-01-01")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_raw(raw, path, parse_codebook(default_codebook("christie")), file_label="export with value violations")


def test_patient_ids_reach_the_rules_log_only(tmp_path):
    root = copy_workflow(tmp_path / "nenbone")
    _export_with_value_violations(root / "exports" / "christie.sav")
    override = ("studies={christie: {input: exports/christie.sav, codebook: config/codebooks/christie.yaml}, "
                "mayo: {input: resources/synthetic/mayo.dta, codebook: config/codebooks/mayo.yaml}}")
    proc = snakemake(root, "results/validated/christie.parquet", "--config", override)
    console = proc.stdout + proc.stderr
    assert proc.returncode != 0, console[-3000:]
    assert "nenbone preflight" not in console, console[-3000:]  # it passed preflight: the values stopped it
    # the console names the rule, the file, each broken rule with a count, and the private log's path
    assert "rule 'validate' failed" in console
    assert "exports/christie.sav" in console
    assert "variable 'date_of_birth'" in console and "variable 'date_nen_diagnosis'" in console
    assert "(1 patient(s))" in console
    assert "results/logs/validate/christie.log (private: it may name patients)" in console
    assert "Traceback (most recent call last)" not in console
    # the rule's log names both patients and their values
    private = (root / "results" / "logs" / "validate" / "christie.log").read_text(encoding="utf-8")
    assert BORN_TOO_EARLY in private and DIAGNOSED_IN_FUTURE in private
    assert "1890-01-01" in private and "2099-01-01" in private
    # ... and nothing else does: not the console, not a file of Snakemake's own logs
    logs = sorted((root / ".snakemake" / "log").glob("*"))
    assert logs, "Snakemake wrote no log of the run"
    for name, text in [("console", console), *((str(p), p.read_text(encoding="utf-8", errors="replace")) for p in logs)]:
        for secret in (BORN_TOO_EARLY, DIAGNOSED_IN_FUTURE, "1890-01-01", "2099-01-01"):
            assert secret not in text, f"{secret} in {name}"
    assert not (root / "results" / "validated" / "christie.parquet").exists()
