"""Provenance of a run: input hashes, exact package versions, Python, platform, git state, config.

Everything here is deterministic for a given checkout, environment and input (wall times are not:
they are collected separately into .snakemake/nenbone/rule_times.tsv, outside results/ and out of
the supplement, so that a rerun changes no byte of it).

A run that fails removes the supplement it could not rebuild and says what failed in
results/provenance/failed_run.json (removed again by the next successful run).
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from nenbone.io.files import sha256_file

KEY_PACKAGES = ("snakemake", "pyreadstat", "pandas", "numpy", "scipy", "lifelines", "statsmodels",
                "scikit-learn", "matplotlib", "pyarrow", "pypandoc-binary", "typst")


def git_state(root: str | Path) -> dict[str, Any]:
    """Commit and whether tracked files differ from it; 'not a git checkout' outside one."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "not a git checkout", "dirty": None}
    return {"commit": commit, "dirty": dirty}


def package_versions() -> dict[str, str]:
    """Every installed distribution and its exact version, sorted by name."""
    versions = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            versions[name.lower()] = dist.version
    return dict(sorted(versions.items()))


def environment() -> dict[str, str]:
    """Python, platform and C library. `platform` names the kernel release (provenance.json only);
    `system` (OS, machine, C library) is what the supplement prints, so that the same environment
    renders the same bytes on another host."""
    libc, libc_version = platform.libc_ver()
    libc_text = f", {libc} {libc_version}" if libc else ""
    return {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "platform": platform.platform(terse=True), "machine": platform.machine(),
            "system": f"{platform.system()} {platform.machine()}{libc_text}",
            "executable_prefix": "virtual environment" if sys.prefix != sys.base_prefix else "system"}


def input_hashes(paths: list[str | Path], root: str | Path) -> dict[str, str]:
    """SHA-256 of each input, keyed by its path relative to the project root when inside it."""
    root = Path(root).resolve()
    out = {}
    for p in paths:
        path = Path(p).resolve()
        key = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
        out[key] = sha256_file(path)
    return dict(sorted(out.items()))


def provenance_markdown(inputs: dict[str, str], env: dict[str, str], packages: dict[str, str],
                        git: dict[str, Any], config_sha256: str) -> str:
    """The supplement's computational-environment appendix (no timestamps, no wall times)."""
    dirty = {True: "yes (uncommitted changes)", False: "no", None: "unknown"}[git["dirty"]]
    lines = [
        "| Item | Value |", "|---|---|",
        f"| Python | {env['python']} ({env['implementation']}) |",
        f"| Platform | {env.get('system') or env['platform']} |",
        f"| Git commit | `{git['commit']}` |",
        f"| Uncommitted changes | {dirty} |",
        f"| Configuration (SHA-256) | `{config_sha256[:16]}…` |",
        "",
        "Key packages (the full list is in `results/provenance/packages.txt`):",
        "",
        "| Package | Version |", "|---|---|",
        *[f"| {name} | {packages[name]} |" for name in KEY_PACKAGES if name in packages],
        "",
        "Inputs (SHA-256):",
        "",
        "| File | SHA-256 |", "|---|---|",
        *[f"| `{name}` | `{digest[:16]}…` |" for name, digest in inputs.items()],
        "",
        "Wall time per rule is recorded in `.snakemake/nenbone/rule_times.tsv`; it varies from run to",
        "run and is therefore not part of this document.",
        "",
    ]
    return "\n".join(lines)


RULE_TIMES = ".snakemake/nenbone/rule_times.tsv"
FAILED_RUN_RECORD = "results/provenance/failed_run.json"


def collect_rule_times(benchmark_dir: str | Path, out_tsv: str | Path, since: float | None = None) -> int:
    """Wall time and peak memory of the jobs of this run (Snakemake benchmark files written at or
    after `since`, a POSIX time) in one table; with `since` None, every benchmark file.

    Called when a run succeeds; the values vary from run to run, so the file lives outside results/
    (RULE_TIMES) and out of the supplement. Returns the number of jobs listed.
    """
    from nenbone.io.files import write_text_atomic

    rows = []
    root = Path(benchmark_dir)
    for path in sorted(root.rglob("*.tsv")):
        if since is not None and path.stat().st_mtime < since:
            continue  # a job of an earlier run (or of a rule that no longer exists)
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) < 2:
            continue
        header, values = lines[0].split("\t"), lines[-1].split("\t")
        record = dict(zip(header, values))
        rel = path.relative_to(root)
        rule = rel.parts[0].removesuffix(".tsv")
        target = str(Path(*rel.parts[1:])).removesuffix(".tsv") if len(rel.parts) > 1 else ""
        rows.append(f"{rule}\t{target}\t{record.get('s', '')}\t{record.get('max_rss', '')}")
    write_text_atomic("rule\ttarget\twall_seconds\tmax_rss_mb\n" + "".join(r + "\n" for r in rows), out_tsv)
    return len(rows)


_FAILED_RULE = re.compile(r"^Error in rule (\S+?):", re.MULTILINE)


def _log_paths(snakemake_log: Any) -> list[Path]:
    """Snakemake hands `onerror` its log as a path, a list of paths or nothing, by version."""
    if not snakemake_log:
        return []
    if isinstance(snakemake_log, (str, Path)):
        return [Path(snakemake_log)]
    return [Path(p) for p in snakemake_log if p]


def failed_rules(snakemake_log: Any) -> list[str]:
    """Names of the rules Snakemake reported as failed in its log ("Error in rule X:")."""
    found: set[str] = set()
    for path in _log_paths(snakemake_log):
        if path.is_file():
            found.update(_FAILED_RULE.findall(path.read_text(encoding="utf-8", errors="replace")))
    return sorted(found)


def record_failed_run(snakemake_log: str | Path | None, stale: list[str | Path],
                      record: str | Path = FAILED_RUN_RECORD) -> dict[str, Any]:
    """After a failed run: remove the outputs it could not rebuild (`stale`, the supplement), so
    that no earlier version passes for the current one, and say what failed in `record`."""
    removed = []
    for path in map(Path, stale):
        if path.exists():
            path.unlink()
            removed.append(str(path))
    info = {"failed_rules": failed_rules(snakemake_log),
            "snakemake_log": [str(p) for p in _log_paths(snakemake_log)] or None,
            "removed_stale_outputs": removed,
            "note": "the run failed: the supplement was removed because it no longer matched the "
                    "inputs, code and config; fix the failure and run again"}
    from nenbone.io.files import write_text_atomic

    write_text_atomic(json.dumps(info, indent=2, sort_keys=True) + "\n", record)
    return info


def clear_failed_run(record: str | Path = FAILED_RUN_RECORD) -> None:
    """A successful run removes the record of an earlier failure."""
    if os.path.exists(record):
        os.remove(record)
