"""`make clean-private` removes every row-level intermediate, unsuppressed aggregate and private log, and
nothing shareable."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PRIVATE = ["results/ingested/christie.parquet", "results/validated/mayo.parquet", "results/derived/mayo.parquet",
           "results/matched/mayo_matched.parquet", "results/analysis/christie.json", "results/logs/validate/mayo.log",
           ".snakemake/log/2026-01-01T000000.snakemake.log", ".snakemake/slurm_logs/rule_x/1.log"]
SHAREABLE = ["results/supplement/supplement.html", "results/tables/mayo_bone.csv", "results/numbers.yml",
             "results/reproduction/checks.csv", "results/figures/flow_mayo.png", "resources/synthetic/mayo.dta",
             "resources/synthetic/mayo.dta.sha256", "config/config.yaml"]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_clean_private_removes_private_files_only(tmp_path):
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    for rel in PRIVATE + SHAREABLE:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    subprocess.run(["make", "clean-private"], cwd=tmp_path, check=True, capture_output=True)
    assert [p for p in PRIVATE if (tmp_path / p).exists()] == []
    assert [p for p in SHAREABLE if not (tmp_path / p).exists()] == []
