"""Provenance of a run: input hashes, exact package versions, Python, platform, git state, config.

Everything here is deterministic for a given checkout, environment and input (wall times are not:
they are collected separately into results/provenance/rule_times.tsv and kept out of the
supplement, so that a rerun changes no byte of it).
"""

from __future__ import annotations

import platform
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
    return {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "platform": platform.platform(terse=True), "machine": platform.machine(),
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
        f"| Platform | {env['platform']} ({env['machine']}) |",
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
        "Wall time per rule is recorded in `results/provenance/rule_times.tsv`; it varies from run to",
        "run and is therefore not part of this document.",
        "",
    ]
    return "\n".join(lines)


def collect_rule_times(benchmark_dir: str | Path, out_tsv: str | Path) -> int:
    """Wall time and peak memory of every job (Snakemake benchmark files) in one table.

    Called when a run succeeds; the values vary from run to run, so the file is kept out of the
    supplement. Returns the number of jobs listed.
    """
    rows = []
    root = Path(benchmark_dir)
    for path in sorted(root.rglob("*.tsv")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) < 2:
            continue
        header, values = lines[0].split("\t"), lines[-1].split("\t")
        record = dict(zip(header, values))
        rel = path.relative_to(root)
        rule = rel.parts[0].removesuffix(".tsv")
        target = str(Path(*rel.parts[1:])).removesuffix(".tsv") if len(rel.parts) > 1 else ""
        rows.append(f"{rule}\t{target}\t{record.get('s', '')}\t{record.get('max_rss', '')}")
    out = Path(out_tsv)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("rule\ttarget\twall_seconds\tmax_rss_mb\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return len(rows)
