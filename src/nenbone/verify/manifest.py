"""The manifest of a run: SHA-256 of every deterministic output and every number of numbers.yml.

The committed `manifest.json` (top level) is the authors' claim: `make manifest` regenerates it on
purpose from a fresh run; `make verify` reruns the workflow and compares. Outputs that record the
machine rather than the result (run logs, benchmarks, wall times, provenance.json with the host's
kernel release, packages.txt with every installed distribution) are listed as environment records
and not compared.
"""

from __future__ import annotations

import fnmatch
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nenbone.io.files import json_bytes, sha256_file, write_bytes_atomic

MANIFEST = "manifest.json"
UPDATE_COMMAND = "make manifest"
# Folders whose files the workflow makes (relative to the project root).
OUTPUT_ROOTS = ("results", "resources/synthetic")
# Not compared: they describe the run or the machine, not the result.
NOT_COMPARED = (
    "results/logs/*", "results/benchmarks/*", "results/verify/*",
    "results/provenance/provenance.json", "results/provenance/packages.txt",
    "results/provenance/rule_times.tsv", "results/provenance/failed_run.json",
)
NUMBERS_FILE = "results/numbers.yml"


def is_compared(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    if name.startswith("."):
        return False  # temp files of an interrupted write, render scratch folders
    return not any(fnmatch.fnmatch(rel, pattern) for pattern in NOT_COMPARED)


def output_files(root: Path) -> list[str]:
    """Every compared output under the output folders of `root`, as sorted POSIX paths."""
    found = []
    for folder in OUTPUT_ROOTS:
        base = root / folder
        if base.is_dir():
            found += [p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file()]
    return sorted(f for f in found if is_compared(f) and not any(part.startswith(".") for part in f.split("/")))


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings/lists as {"a.b.0.c": leaf}."""
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(tree, list):
        out = {}
        for i, value in enumerate(tree):
            out.update(flatten(value, f"{prefix}.{i}" if prefix else str(i)))
        return out
    return {prefix: tree}


def numbers_of(path: Path) -> dict[str, Any]:
    """Every leaf of numbers.yml by its dotted key (values as YAML loads them)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(sorted(flatten(data).items()))


def build_manifest(root: Path, environment: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest of the run in `root` (a project folder after a complete run)."""
    root = Path(root)
    numbers = root / NUMBERS_FILE
    return {
        "about": ("SHA-256 of every deterministic output of a fresh run from the inputs, and every "
                  f"number of {NUMBERS_FILE} by value. Regenerate on purpose with `{UPDATE_COMMAND}`; "
                  "`make verify` checks a fresh run against it."),
        "not_compared": list(NOT_COMPARED),
        "environment": environment or {},
        "files": {rel: sha256_file(root / rel) for rel in output_files(root)},
        "numbers": numbers_of(numbers) if numbers.is_file() else {},
    }


def write_manifest(manifest: dict[str, Any], path: str | Path) -> None:
    write_bytes_atomic(json_bytes(manifest), path)


def load_manifest(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


@dataclass
class Comparison:
    """What differs between the committed manifest (expected) and a fresh run (found)."""

    files_identical: list[str] = field(default_factory=list)
    files_differing: list[str] = field(default_factory=list)
    files_missing: list[str] = field(default_factory=list)      # in the manifest, not produced
    files_unexpected: list[str] = field(default_factory=list)   # produced, not in the manifest
    numbers_identical: int = 0
    numbers_differing: list[dict[str, Any]] = field(default_factory=list)
    numbers_missing: list[str] = field(default_factory=list)
    numbers_unexpected: list[str] = field(default_factory=list)

    @property
    def files_ok(self) -> bool:
        return not (self.files_differing or self.files_missing or self.files_unexpected)

    @property
    def numbers_ok(self) -> bool:
        return not (self.numbers_differing or self.numbers_missing or self.numbers_unexpected)

    @property
    def ok(self) -> bool:
        return self.files_ok and self.numbers_ok

    def problems(self) -> list[str]:
        """One line per difference, naming the file or number."""
        lines = [f"file differs: {f}" for f in self.files_differing]
        lines += [f"file missing from the run: {f}" for f in self.files_missing]
        lines += [f"file not in the manifest: {f}" for f in self.files_unexpected]
        lines += [f"number differs: {d['key']}: manifest {d['expected']!r}, run {d['found']!r}"
                  for d in self.numbers_differing]
        lines += [f"number missing from the run: {k}" for k in self.numbers_missing]
        lines += [f"number not in the manifest: {k}" for k in self.numbers_unexpected]
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {"files_identical": len(self.files_identical), "files_differing": self.files_differing,
                "files_missing": self.files_missing, "files_unexpected": self.files_unexpected,
                "numbers_identical": self.numbers_identical, "numbers_differing": self.numbers_differing,
                "numbers_missing": self.numbers_missing, "numbers_unexpected": self.numbers_unexpected}


def _key_sides(expected: dict[str, Any], found: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(keys only `expected` has, keys only `found` has, keys both have), each sorted."""
    keys = sorted(set(expected) | set(found))
    return ([k for k in keys if k not in found], [k for k in keys if k not in expected],
            [k for k in keys if k in expected and k in found])


def compare(expected: dict[str, Any], found: dict[str, Any]) -> Comparison:
    """Compare two manifests file by file (SHA-256) and number by number (value and type)."""
    out = Comparison()
    exp_files, got_files = expected.get("files", {}), found.get("files", {})
    out.files_missing, out.files_unexpected, both = _key_sides(exp_files, got_files)
    for rel in both:
        (out.files_identical if exp_files[rel] == got_files[rel] else out.files_differing).append(rel)
    exp_num, got_num = expected.get("numbers", {}), found.get("numbers", {})
    out.numbers_missing, out.numbers_unexpected, both = _key_sides(exp_num, got_num)
    for key in both:
        if _same_value(exp_num[key], got_num[key]):
            out.numbers_identical += 1
        else:
            out.numbers_differing.append({"key": key, "expected": exp_num[key], "found": got_num[key]})
    return out
