"""`make verify` and `make manifest`: rerun the whole workflow from the inputs in a scratch copy
(the user's results/ untouched), then compare with the committed manifest, recompute the survival
numbers in R and write the certificate to results/verify/.

The scratch copy holds the project's sources without results, caches, .git and generated twins, in
results/verify/.scratch (0700; removed afterwards unless kept). Git is kept from finding the
enclosing checkout (GIT_CEILING_DIRECTORIES), so the scratch run renders exactly as a copy of the
project elsewhere would (the test suite's copy, a reviewer's): the commit is in the certificate.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from nenbone.io.files import make_private_folder, terminate_as_interrupt, write_text_atomic
from nenbone.provenance import KEY_PACKAGES, git_state, package_versions
from nenbone.verify.certificate import checks_summary, write_certificate
from nenbone.verify.cross_engine import CrossEngine, run_cross_engine
from nenbone.verify.manifest import MANIFEST, UPDATE_COMMAND, build_manifest, compare, load_manifest, write_manifest

SKIP_ON_COPY = {".venv", ".git", "results", ".snakemake", ".pytest_cache", "__pycache__", "build", ".mypy_cache"}
VERIFY_DIR = "results/verify"


def copy_sources(root: Path, dest: Path) -> Path:
    """The project's sources without results, caches or generated inputs (the twins)."""
    root = Path(root).resolve()
    generated = root / "resources" / "synthetic"

    def skipped(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if n in SKIP_ON_COPY or n.endswith(".egg-info") or Path(folder, n) == generated]

    shutil.copytree(root, dest, ignore=skipped, symlinks=True)
    return dest


def run_workflow(copy: Path, cores: int, extra_args: list[str], log_file: Path) -> tuple[int, float]:
    """Snakemake on the copy; returns its exit status and wall time (output to `log_file`)."""
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(copy.parent)}
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), "--directory", str(copy),
           "--snakefile", str(copy / "Snakefile"), *extra_args]
    start = time.monotonic()
    with open(log_file, "w", encoding="utf-8") as log:
        os.chmod(log_file, 0o600)  # a failing run's log may name patients
        proc = subprocess.run(cmd, cwd=copy, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc.returncode, time.monotonic() - start


def papers(root: Path) -> list[dict[str, Any]]:
    """The reproduced studies, from CITATION.cff's references."""
    cff = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))
    out = []
    for ref in cff.get("references", []):
        authors = [f"{a.get('given-names', '')} {a.get('family-names', '')}".strip() for a in ref.get("authors", [])]
        first = ref.get("authors", [{}])[0].get("family-names", "")
        where = ", ".join(str(x) for x in (ref.get("journal"), ref.get("year")) if x)
        doi = ref.get("doi")
        out.append({"title": ref["title"], "authors": authors, "journal": ref.get("journal"), "year": ref.get("year"),
                    "doi": doi, "url": ref.get("url"),
                    "citation": f"{first} et al., {ref['title']}, {where}" + (f", doi:{doi}" if doi else "")})
    return out


def environment_summary() -> dict[str, Any]:
    libc = " ".join(platform.libc_ver()).strip()
    return {"python": platform.python_version(),
            "platform": f"{platform.system()} {platform.machine()}" + (f", {libc}" if libc else "")}


def _scratch(root: Path) -> Path:
    base = root / VERIFY_DIR
    base.mkdir(parents=True, exist_ok=True)
    scratch = base / ".scratch"  # row-level data of the rerun: private
    if scratch.exists():
        shutil.rmtree(scratch)
    make_private_folder(scratch)
    return scratch / "nenbone"


def make_manifest(root: Path, cores: int = 2, keep: bool = False) -> tuple[int, list[str]]:
    """Regenerate the committed manifest from a fresh run (`make manifest`)."""
    root = Path(root).resolve()
    copy = _scratch(root)
    try:
        with terminate_as_interrupt():
            copy_sources(root, copy)
            status, _ = run_workflow(copy, cores, [], root / VERIFY_DIR / "manifest_run.log")
            if status != 0:
                return 1, [f"the workflow failed (exit {status}); see {VERIFY_DIR}/manifest_run.log"]
            manifest = build_manifest(copy, environment_summary())
            write_manifest(manifest, root / MANIFEST)
            return 0, [f"wrote {MANIFEST}: {len(manifest['files'])} files, {len(manifest['numbers'])} numbers"]
    finally:
        if not keep:
            shutil.rmtree(copy.parent, ignore_errors=True)


def verify(root: Path, cores: int = 2, extra_args: list[str] | None = None, keep: bool = False,
           command: str = "make verify") -> tuple[int, dict[str, Any]]:
    """Rerun, compare, cross-check, certify. Returns (exit status, certificate)."""
    root = Path(root).resolve()
    started, t0 = dt.datetime.now(dt.timezone.utc), time.monotonic()
    out_dir = root / VERIFY_DIR
    copy = _scratch(root)
    packages = package_versions()
    cert: dict[str, Any] = {
        "papers": papers(root), "git": git_state(root), "command": command + (" -- " + " ".join(extra_args) if extra_args else ""),
        "checked_at": started.strftime("%Y-%m-%d %H:%M:%S"), "cores": cores, "environment": environment_summary(),
        "packages": {k: packages[k] for k in KEY_PACKAGES if k in packages},
        "manifest": None, "reproduction": None, "cross_engine": CrossEngine(status="not run", reason="the run failed").as_dict(),
    }
    try:
        with terminate_as_interrupt():
            copy_sources(root, copy)
            status, seconds = run_workflow(copy, cores, list(extra_args or []), out_dir / "run.log")
            cert["run_seconds"] = seconds
            problems: list[str] = []
            if status != 0:
                problems.append(f"the workflow failed (exit {status}); its output is in {VERIFY_DIR}/run.log")
            elif not (root / MANIFEST).is_file():
                problems.append(f"no committed manifest ({MANIFEST}); create it with `{UPDATE_COMMAND}`")
            else:
                committed = load_manifest(root / MANIFEST)
                cert["manifest_environment"] = committed.get("environment", {})
                comparison = compare(committed, build_manifest(copy))
                cert["manifest"] = comparison.as_dict()
                problems += comparison.problems()
            if status == 0:
                cert["reproduction"] = checks_summary(copy / "results/reproduction/checks.csv")
                cert["cross_engine"] = run_cross_engine(copy, copy.parent / "cross_engine").as_dict()
    finally:
        if not keep:
            shutil.rmtree(copy.parent, ignore_errors=True)
    cert["run_seconds"] = cert.get("run_seconds", 0.0)
    cert["total_seconds"] = time.monotonic() - t0
    cert["problems"] = problems
    cert["verdict"] = "pass" if not problems else "fail"
    cert["verdict_reason"] = ("A fresh run reproduced every file and number of the committed manifest."
                              if not problems else f"{len(problems)} difference(s) or failure(s): see below.")
    write_certificate(cert, out_dir)
    return (0 if not problems else 1), cert
