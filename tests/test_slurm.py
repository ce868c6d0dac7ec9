"""The workflow on a real SLURM cluster through profiles/slurm (tests/slurm/run_cluster_test.sh).

The script starts a single-node SLURM with accounting on loopback, runs the whole workflow through the
profile, and checks sacct, byte-identical results against a local run, a killed job being retried and
reported, and a rerun that redoes nothing finished. It takes about four minutes on two cores.
Skipped, with the reason printed, only where this machine cannot run the daemons (not root, no /proc);
the script signals that with exit status 77.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "slurm" / "run_cluster_test.sh"
SKIP = 77
TIMEOUT_S = int(os.environ.get("NENBONE_SLURM_TEST_TIMEOUT", "1200"))


@pytest.mark.slurm
def test_workflow_on_a_real_slurm_cluster():
    proc = subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=TIMEOUT_S,
    )
    print(proc.stdout)
    if proc.returncode == SKIP:
        reason = next(
            (line.removeprefix("SKIP: ") for line in proc.stdout.splitlines() if line.startswith("SKIP: ")),
            "run_cluster_test.sh exited 77 without a reason",
        )
        print(f"SKIPPED: {reason}", file=sys.stderr)
        pytest.skip(reason)
    tail = "\n".join(proc.stdout.splitlines()[-60:])
    assert proc.returncode == 0, f"run_cluster_test.sh exited {proc.returncode}; last lines:\n{tail}"
    assert "PASS: SLURM integration test" in proc.stdout
