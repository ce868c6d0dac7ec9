"""Helpers to run the workflow on a fresh copy of the project (integration tests, benchmarks)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SKIP_ON_COPY = {".venv", ".git", "results", ".snakemake", ".pytest_cache", "__pycache__", "build"}
GENERATED_INPUTS = REPO / "resources" / "synthetic"  # the twins: the copy's own workflow writes them


def _skipped(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n in SKIP_ON_COPY or n.endswith(".egg-info") or Path(folder, n) == GENERATED_INPUTS]


def copy_workflow(dest: Path) -> Path:
    """A fresh copy of the project's sources, without results, caches or generated inputs."""
    shutil.copytree(REPO, dest, ignore=_skipped)
    return dest


def snakemake(root: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the project's Snakemake on a copy (2 cores); output captured for assertion messages."""
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--directory", str(root),
           "--snakefile", str(root / "Snakefile"), *args]
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=timeout)
