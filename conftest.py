"""Root fixtures: a copy of the workflow, run once per test session from a clean results/."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent
SKIP_ON_COPY = {".venv", ".git", "results", ".snakemake", ".pytest_cache", "__pycache__", "synthetic", "build"}


def copy_workflow(dest: Path) -> Path:
    """A fresh copy of the project's sources, without results, caches or generated inputs."""
    shutil.copytree(REPO, dest, ignore=lambda d, names: [n for n in names if n in SKIP_ON_COPY or n.endswith(".egg-info")])
    return dest


def snakemake(root: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the project's Snakemake on a copy; output captured for the assertion message."""
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--directory", str(root), "--snakefile", str(root / "Snakefile"), *args]
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def workflow_run(tmp_path_factory) -> Path:
    """The whole default workflow run once in a temporary copy of the project."""
    root = copy_workflow(tmp_path_factory.mktemp("run") / "nenbone")
    proc = snakemake(root)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-8000:]
    return root
