"""Atomic outputs and private row-level files (issue 10 point 5, issue 11 point 5)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from nenbone.io.files import atomic_path, file_mode, write_csv, write_parquet, write_text_atomic
from nenbone.provenance import collect_rule_times, failed_rules, record_failed_run


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask():
    """Set a umask for the test and restore the previous one."""
    previous = os.umask(0o022)
    os.umask(previous)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(previous)


def test_file_mode_by_hand():
    assert file_mode(private=True, umask=0o022) == 0o600
    assert file_mode(private=False, umask=0o022) == 0o644
    assert file_mode(private=False, umask=0o077) == 0o600
    assert file_mode(private=True, umask=0o277) == 0o400  # a stricter umask wins


def test_row_level_files_private_shareable_follow_umask(tmp_path, umask):
    umask(0o022)
    frame = pd.DataFrame({"patient_id": ["a", "b"], "x": [1, 2]})
    write_parquet(frame, tmp_path / "derived" / "s.parquet")
    write_csv(frame.describe(), tmp_path / "tables" / "t.csv")
    assert _mode(tmp_path / "derived" / "s.parquet") == 0o600
    assert _mode(tmp_path / "derived") == 0o700
    assert _mode(tmp_path / "tables" / "t.csv") == 0o644
    assert _mode(tmp_path / "tables") == 0o755
    umask(0o077)
    write_text_atomic("x\n", tmp_path / "tables" / "u.md")
    assert _mode(tmp_path / "tables" / "u.md") == 0o600
    # an existing, open folder of row-level files is closed
    (tmp_path / "matched").mkdir(mode=0o755)
    os.chmod(tmp_path / "matched", 0o755)
    write_parquet(frame, tmp_path / "matched" / "m.parquet")
    assert _mode(tmp_path / "matched") == 0o700


def test_failed_write_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_sigterm_while_writing_leaves_no_file_under_final_name(tmp_path):
    """A writer killed with SIGTERM mid-file: neither the final name nor a temp file remains."""
    target = tmp_path / "fig.pdf"
    ready = tmp_path / "ready"
    code = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from nenbone.io.files import atomic_path
        with atomic_path({str(target)!r}) as tmp:
            tmp.write_bytes(b"%PDF-1.4 half")
            Path({str(ready)!r}).touch()
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code])
    for _ in range(200):
        if ready.exists():
            break
        proc.poll()
        assert proc.returncode is None
        import time

        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ready"]


def test_rule_times_only_this_run(tmp_path):
    bench = tmp_path / "benchmarks"
    (bench / "ingest").mkdir(parents=True)
    old, new = bench / "gone_rule.tsv", bench / "ingest" / "christie.tsv"
    for f in (old, new):
        f.write_text("s\th:m:s\tmax_rss\n1.5\t0:00:01\t80.2\n")
    os.utime(old, (1000, 1000))
    out = tmp_path / "times.tsv"
    assert collect_rule_times(bench, out, since=2000) == 1
    assert out.read_text() == "rule\ttarget\twall_seconds\tmax_rss_mb\ningest\tchristie\t1.5\t80.2\n"


def test_failed_run_removes_supplement_and_records_rules(tmp_path):
    log = tmp_path / "run.log"
    log.write_text("Error in rule analyse_mayo:\n    jobid: 3\nError in rule figure_km:\n")
    html = tmp_path / "supplement.html"
    html.write_text("<html>old</html>")
    record = tmp_path / "provenance" / "failed_run.json"
    info = record_failed_run(log, [html, tmp_path / "supplement.pdf"], record)
    assert not html.exists()
    assert info["failed_rules"] == ["analyse_mayo", "figure_km"] == failed_rules(log)
    assert info["removed_stale_outputs"] == [str(html)]
    assert record.is_file()


def test_render_workspace_inside_output_folder_and_removed(tmp_path):
    from nenbone.render.offline import RENDER_TMP_PREFIX, render_workspace

    stale = tmp_path / f"{RENDER_TMP_PREFIX}left-by-a-kill"
    stale.mkdir()
    with render_workspace(tmp_path) as work:
        assert work.parent == tmp_path and work.name.startswith(RENDER_TMP_PREFIX)
        assert _mode(work) == 0o700
        assert not stale.exists()  # a SIGKILL's leftover goes at the next render
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(KeyboardInterrupt):
        with render_workspace(tmp_path):
            raise KeyboardInterrupt  # Ctrl-C
    assert list(tmp_path.iterdir()) == []


def test_render_workspace_removes_only_workspaces_no_running_render_owns(tmp_path):
    """Two renders into one folder: the second must not delete the first's workspace (a live pid), only
    one whose process has ended, or one of another machine once it is older than a day."""
    import socket
    import time

    from nenbone.render.offline import RENDER_TMP_PREFIX, STALE_WORKSPACE_HOURS, render_workspace

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    host = socket.gethostname()
    live = tmp_path / f"{RENDER_TMP_PREFIX}{host}-{os.getpid()}-abc123"
    dead = tmp_path / f"{RENDER_TMP_PREFIX}{host}-{ended.pid}-abc123"
    remote = tmp_path / f"{RENDER_TMP_PREFIX}other-node-7-x1"
    remote_old = tmp_path / f"{RENDER_TMP_PREFIX}other-node-8-x2"
    for folder in (live, dead, remote, remote_old):
        folder.mkdir()
    day_ago = time.time() - STALE_WORKSPACE_HOURS * 3600 - 60
    os.utime(remote_old, (day_ago, day_ago))
    with render_workspace(tmp_path) as work:
        assert work.name.startswith(f"{RENDER_TMP_PREFIX}{host}-{os.getpid()}-")
        assert live.is_dir() and remote.is_dir()
        assert not dead.exists() and not remote_old.exists()
        with render_workspace(tmp_path) as second:  # a concurrent render of this process: both kept
            assert work.is_dir() and second != work
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, remote.name])


def test_render_workspace_removed_on_sigterm(tmp_path):
    ready = tmp_path / "ready"
    out = tmp_path / "supplement"
    code = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from nenbone.render.offline import render_workspace
        with render_workspace(Path({str(out)!r})) as work:
            (work / "numbers.json").write_text("unsuppressed")
            Path({str(ready)!r}).touch()
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code])
    import time

    for _ in range(400):
        if ready.exists() or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert ready.exists()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert list(out.iterdir()) == []


def test_failed_rules_read_a_log_given_as_a_list(tmp_path):
    """Snakemake 9 hands `onerror` its log as a list of paths: read every one, never fail on it."""
    log = tmp_path / "run.log"
    log.write_text("Error in rule validate:\n")
    assert failed_rules([str(log)]) == ["validate"]
    assert failed_rules([]) == [] and failed_rules(None) == []
    info = record_failed_run([str(log)], [], tmp_path / "failed_run.json")
    assert info["snakemake_log"] == [str(log)] and info["failed_rules"] == ["validate"]
