"""Root fixtures: a copy of the workflow, run once per test session from a clean results/."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))

from workflow_support import copy_workflow, snakemake  # noqa: E402


@pytest.fixture(scope="session")
def workflow_run(tmp_path_factory) -> Path:
    """The whole default workflow run once in a temporary copy of the project."""
    root = copy_workflow(tmp_path_factory.mktemp("run") / "nenbone")
    proc = snakemake(root)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-8000:]
    return root
