"""File helpers shared by every writer: atomic replacement, SHA-256, deterministic parquet and JSON.

An output appears under its final name only once it is complete (temp file in the same directory,
flushed, fsync'ed, then renamed), so a failed step never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

_CHUNK = 1 << 20

# Fixed parquet writer settings: same frame + same pyarrow version -> same bytes.
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": False,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
}


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, read in chunks (the file is opened read-only)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path next to `path`; rename it onto `path` only if the block succeeds."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def atomic_paths(*paths: str | os.PathLike[str]) -> Iterator[list[Path]]:
    """Like `atomic_path` for several outputs: all are renamed into place only if all were written."""
    with contextlib.ExitStack() as stack:
        # ExitStack renames in reverse order on success; on failure every temp file is removed.
        tmps = [stack.enter_context(atomic_path(p)) for p in paths]
        yield tmps


def write_bytes_atomic(data: bytes, path: str | os.PathLike[str]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def json_bytes(obj: Any) -> bytes:
    """Canonical JSON: sorted keys, 2-space indent, UTF-8, trailing newline."""
    return (json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def write_json(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write canonical JSON atomically."""
    write_bytes_atomic(json_bytes(obj), path)


def write_parquet_to(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a frame to parquet with fixed settings (no index, no timestamps); not atomic by itself."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    pq.write_table(table, str(path), **PARQUET_OPTIONS)


def write_parquet(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a frame to parquet deterministically and atomically."""
    with atomic_path(path) as tmp:
        write_parquet_to(frame, tmp)


def read_parquet(path: str | os.PathLike[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    return pq.read_table(str(path)).to_pandas()
