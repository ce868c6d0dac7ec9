"""File helpers shared by every writer: atomic replacement, SHA-256, deterministic parquet and JSON.

An output appears under its final name only once it is complete (temp file in the same directory,
flushed, fsync'ed, then renamed), so a failed or interrupted step never leaves a half-written file
under a final name: the temp file is removed on an exception, on Ctrl-C (SIGINT) and on SIGTERM
(turned into an exception while a file is being written). Only SIGKILL can leave a hidden
`.<name>.*.tmp` behind, never the final name.

Permissions: row-level files (parquet, SPSS .sav, Stata .dta) are private: written 0600 in a folder
made 0700, or stricter if the user's umask is stricter. Every other (shareable) output gets the
user's umask, like any file the user creates.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import tempfile
import threading
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


# Formats that hold one row per patient: private by default (issue 11, point 5).
ROW_LEVEL_SUFFIXES = frozenset({".parquet", ".sav", ".dta"})


class Interrupted(KeyboardInterrupt):
    """SIGTERM received while an output was being written (raised so that cleanups run)."""


def current_umask() -> int:
    """The process umask (read without changing it for longer than one call)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def is_row_level(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in ROW_LEVEL_SUFFIXES


def file_mode(private: bool, umask: int | None = None) -> int:
    """0600 for a private file, 0666 for a shareable one, each less what the umask removes."""
    mask = current_umask() if umask is None else umask
    return (0o600 if private else 0o666) & ~mask


def make_private_folder(folder: Path) -> None:
    """Create `folder` (and parents) and make it 0700 (less a stricter umask)."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700 & ~current_umask())


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises `Interrupted` (so `finally` cleanups run) instead of
    ending the process on the spot. Outside the main thread signals cannot be caught: no-op there."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise Interrupted(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, private: bool | None = None) -> Iterator[Path]:
    """Yield a temp path next to `path`; rename it onto `path` only if the block succeeds.

    `private` (default: row-level formats, see ROW_LEVEL_SUFFIXES) makes the file 0600 and its
    folder 0700; otherwise the file gets the user's umask."""
    final = Path(path)
    private = is_row_level(final) if private is None else private
    if private:
        make_private_folder(final.parent)
    else:
        final.parent.mkdir(parents=True, exist_ok=True)
    with terminate_as_interrupt():
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            yield tmp
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, file_mode(private))
            os.replace(tmp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


@contextlib.contextmanager
def atomic_paths(*paths: str | os.PathLike[str], private: bool | None = None) -> Iterator[list[Path]]:
    """Like `atomic_path` for several outputs: all are renamed into place only if all were written."""
    with contextlib.ExitStack() as stack:
        # ExitStack renames in reverse order on success; on failure every temp file is removed.
        tmps = [stack.enter_context(atomic_path(p, private=private)) for p in paths]
        yield tmps


def write_bytes_atomic(data: bytes, path: str | os.PathLike[str], *, private: bool | None = None) -> None:
    with atomic_path(path, private=private) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(text: str, path: str | os.PathLike[str], *, private: bool | None = None) -> None:
    """UTF-8 text, written atomically."""
    write_bytes_atomic(text.encode("utf-8"), path, private=private)


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], **to_csv: Any) -> None:
    """A frame as CSV (no index, '\\n' line ends unless given), written atomically."""
    options: dict[str, Any] = {"index": False, "lineterminator": "\n", **to_csv}
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, **options)


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
