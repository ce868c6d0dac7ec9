"""The files a run reads but no rule writes (raw exports, codebooks), checked before any job runs.

Two promises:

- every configured input and codebook is a readable regular file, or the run stops at once, naming
  the config key and the path (a mistyped path must not silently reuse results of an earlier run);
- a raw export is never written. The synthetic twins are the only inputs a rule makes; each twin
  gets a record of its SHA-256 beside it (`<twin>.sha256`, `sha256sum -c` format). A file at a
  twin's path without a matching record was not written by the workflow (a user's export copied
  there): the run refuses it rather than let the twin rule replace it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from nenbone.io.files import sha256_file, write_bytes_atomic

RECORD_SUFFIX = ".sha256"


def twin_record_path(twin: str | os.PathLike[str]) -> Path:
    """Where the record of a twin written by the workflow lives: next to it, `<name>.sha256`."""
    p = Path(twin)
    return p.with_name(p.name + RECORD_SUFFIX)


def write_twin_record(twin: str | os.PathLike[str]) -> Path:
    """Record that the workflow wrote `twin` (its SHA-256); the record makes it replaceable."""
    p = Path(twin)
    record = twin_record_path(p)
    write_bytes_atomic(f"{sha256_file(p)}  {p.name}\n".encode("utf-8"), record)
    return record


def written_by_workflow(path: str | os.PathLike[str]) -> bool:
    """True if `path` is a twin the workflow wrote: its record exists and names these exact bytes."""
    p = Path(path)
    record = twin_record_path(p)
    try:
        recorded = record.read_text(encoding="utf-8").split()
    except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError, PermissionError):
        return False
    return len(recorded) == 2 and recorded[1] == p.name and recorded[0] == sha256_file(p)


def configured_files(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(config key, path) of every study's input and codebook, in config order."""
    out = []
    for study, entry in (config.get("studies") or {}).items():
        for field in ("input", "codebook"):
            if isinstance(entry, Mapping) and field in entry:
                out.append((f"studies.{study}.{field}", str(entry[field])))
    return out


def file_problem(key: str, path: str, root: Path, twins: set[str]) -> str | None:
    """What is wrong with one configured file, or None. `twins` are the paths a rule makes."""
    p = root / path
    if os.path.normpath(path) in twins:
        if not p.exists() and not p.is_symlink():
            return None  # the twin rule makes it
        if not p.is_file():
            return f"config '{key}': {path} is a synthetic twin's path but is not a regular file"
        if not written_by_workflow(p):
            return (f"config '{key}': {path} was not written by this workflow (no matching "
                    f"{twin_record_path(path).name}), and the synthetic twin rule would replace it. "
                    f"Your export is left untouched: move it out of {Path(path).parent}/ and set "
                    f"'{key}' to its new path (or, if it is a twin whose writing was interrupted, delete it to "
                    f"get the synthetic twin back)")
        return None
    if not p.exists():
        return f"config '{key}': {path} does not exist"
    if not p.is_file():
        return f"config '{key}': {path} is not a regular file"
    if not os.access(p, os.R_OK):
        return f"config '{key}': {path} cannot be read (permissions)"
    return None


def twin_paths(pattern: str, designs: Iterable[str], extensions: Iterable[str]) -> set[str]:
    """Every path the twin rule's output pattern (with {design} and {ext}) can make."""
    return {os.path.normpath(pattern.format(design=d, ext=e)) for d in designs for e in extensions}


def input_problems(config: Mapping[str, Any], twin_pattern: str, twin_extensions: Iterable[str],
                   designs: Iterable[str], root: str | os.PathLike[str] = ".") -> str:
    """Every problem with the configured inputs and codebooks, as one message ('' when all are usable)."""
    twins = twin_paths(twin_pattern, designs, twin_extensions)
    problems = [msg for key, path in configured_files(config)
                if (msg := file_problem(key, path, Path(root), twins)) is not None]
    if not problems:
        return ""
    return "configured input files cannot be used:\n" + "\n".join(f"  - {m}" for m in problems)
