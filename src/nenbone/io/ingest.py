"""Ingestion: one raw SPSS/Stata file -> parquet (values as read) + meta JSON, both atomic.

The parquet holds the values exactly as read, user-missing codes included (SPSS 9 stays 9), so that
validation sees them. Parquet columns have one type each, so a Stata extended-missing letter cannot
sit in a numeric column: the column is stored numeric (or as dates) with a null in that cell, and the
letter is recorded in the meta JSON under "stata_missing_cells" ({variable: {letter: [row, ...]}},
0-based row positions). `read_ingested` puts the letters back, giving the same frame as `read_raw`.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nenbone.codebook import Codebook
from nenbone.errors import InputFileError
from nenbone.io.files import atomic_paths, json_bytes, read_parquet, sha256_file, write_parquet_to
from nenbone.io.spss_stata import read_raw

log = logging.getLogger(__name__)
_LETTER = re.compile(r"^\.?([a-z])$")
META_VERSION = 1


def _na(x: Any) -> bool:
    return x is None or x is pd.NA or x is pd.NaT or (isinstance(x, float) and math.isnan(x))


def _split_column(col: pd.Series, stata: bool) -> tuple[pd.Series, dict[str, list[int]], str]:
    """One object column -> (single-typed column, letter cells, kind)."""
    if pd.api.types.infer_dtype(col, skipna=True) == "string":  # text only: column-wise (10^6 IDs)
        text = col.to_numpy(dtype=object, copy=True)
        gaps = pd.isna(text)
        if not stata or not any(_LETTER.match(x.strip()) for x in pd.unique(text[~gaps])):
            text[gaps] = None
            return pd.Series(text, dtype=object), {}, "string"
    vals = col.tolist()
    cells: dict[str, list[int]] = {}
    rest: list[Any] = []
    for i, x in enumerate(vals):
        m = _LETTER.match(x.strip()) if stata and isinstance(x, str) else None
        if m:
            cells.setdefault(m.group(1), []).append(i)
            rest.append(None)
        else:
            rest.append(None if _na(x) else x)
    present = [x for x in rest if x is not None]
    if present and all(isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
                       for x in present):
        return pd.Series([np.nan if x is None else float(x) for x in rest], dtype="float64"), cells, "numeric"
    if present and all(isinstance(x, (dt.date, dt.datetime, pd.Timestamp)) for x in present):
        try:
            return pd.to_datetime(pd.Series(rest, dtype=object)).astype("datetime64[ns]"), cells, "date"
        except (ValueError, OverflowError):  # outside the ns range: keep calendar dates (parquet date32)
            return pd.Series([None if x is None else pd.Timestamp(x).date() if isinstance(x, pd.Timestamp)
                              else (x.date() if isinstance(x, dt.datetime) else x) for x in rest],
                             dtype=object), cells, "date"
    if not present and cells:
        return pd.Series([np.nan] * len(rest), dtype="float64"), cells, "numeric"
    # strings (or a mix, stored as text so nothing is lost; validation parses it)
    return pd.Series([None if x is None else (x if isinstance(x, str) else str(x)) for x in rest],
                     dtype=object), cells, "string"


def to_parquet_frame(raw: pd.DataFrame, fmt: str) -> tuple[pd.DataFrame, dict[str, dict[str, list[int]]]]:
    """Make every column single-typed for parquet; return the Stata letters that were taken out."""
    out: dict[str, pd.Series] = {}
    letters: dict[str, dict[str, list[int]]] = {}
    raw = raw.reset_index(drop=True)
    for name in raw.columns:
        col = raw[name]
        if col.dtype == object:
            new, cells, _ = _split_column(col, stata=(fmt == "dta"))
            out[str(name)] = new
            if cells:
                letters[str(name)] = {k: cells[k] for k in sorted(cells)}
        else:
            out[str(name)] = col
    return pd.DataFrame(out), letters


UNDECLARED = ("drop", "error")
# SHA-256 of the embedded synthetic twins the default config generates (tests/test_dialects.py
# regenerates them and checks these). An input with one of these digests is the twin; any other is
# a user's export, and nothing downstream may call it synthetic.
EMBEDDED_TWIN_SHA256 = {
    "8a03d23e109be9ace8fc8db6de1c3c1d3edd5a6ed9b20320cebc9a8cf352e431": "christie",
    "e3ce41482a46dd752e4dd8c035688518c2d115b8e8d43ebd090df5f9944dea0f": "mayo",
}


def data_origin(sha256: str) -> dict[str, Any]:
    """Where the data came from, decided by the file's content (never by its path or name)."""
    twin = EMBEDDED_TWIN_SHA256.get(sha256)
    return {"embedded_twin": twin is not None, "embedded_twin_of": twin,
            "origin": "embedded synthetic twin (no real patient)" if twin else "user's export (real data)"}
_PER_COLUMN_META = ("variable_labels", "value_labels", "missing_ranges", "stata_missing_letters",
                    "variable_formats", "storage_types", "variable_measure")


def declared_only(raw: pd.DataFrame, meta: dict[str, Any], codebook: Codebook, undeclared: str = "drop",
                  source: str = "") -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    """Keep the columns the codebook declares, renamed to the study's names; list the others by name.

    A column the codebook does not name (a patient's name, an NHS number...) never passes ingest:
    it is dropped (undeclared = "drop") or refused (undeclared = "error"). Values are never shown.
    """
    if undeclared not in UNDECLARED:
        raise InputFileError(f"ingest.undeclared_columns must be one of {UNDECLARED}, got {undeclared!r}")
    rename = {v.column: n for n, v in codebook.read_variables.items()}
    extra = [str(c) for c in raw.columns if str(c) not in rename]
    if extra and undeclared == "error":
        raise InputFileError(
            f"{source or meta.get('file_name')}: {len(extra)} column(s) not declared in the codebook "
            f"{codebook.source}: {', '.join(extra)}; declare them (their source column) or set "
            f"ingest.undeclared_columns: drop")
    keep = [c for c in raw.columns if str(c) in rename]
    out = raw[keep].rename(columns={c: rename[str(c)] for c in keep})
    meta = dict(meta)
    for key in _PER_COLUMN_META:
        if isinstance(meta.get(key), dict):
            meta[key] = {rename[k]: v for k, v in meta[key].items() if k in rename}
    meta["columns"] = [rename[str(c)] for c in keep]
    meta["source_columns"] = {rename[str(c)]: str(c) for c in keep if rename[str(c)] != str(c)}
    meta["dropped_columns"] = extra
    return out, meta, extra


def prepare_ingest(input_path: str | os.PathLike[str], codebook: Codebook | None = None,
                   undeclared: str = "drop") -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a raw file into (parquet-ready frame, meta with input SHA-256); writes nothing.

    With a codebook, only its variables pass (renamed from their source columns); the file is read
    with the codebook's declared `encoding:`.
    """
    src = Path(input_path)
    raw, meta = read_raw(src, encoding=codebook.encoding if codebook is not None else None)
    if codebook is not None:
        raw, meta, extra = declared_only(raw, meta, codebook, undeclared, str(src))
        if extra:
            log.info("%s: %d column(s) not in the codebook were dropped: %s", src.name, len(extra),
                     ", ".join(extra))
    frame, letters = to_parquet_frame(raw, meta["format"])
    try:
        digest = sha256_file(src)
        size = src.stat().st_size
    except OSError as exc:
        raise InputFileError(f"{src}: cannot read: {exc}") from None
    meta = {
        **meta,
        "meta_version": META_VERSION,
        "input_file": src.name,
        "input_sha256": digest,
        "input_bytes": size,
        "n_rows": int(len(frame)),
        "stata_missing_cells": letters,
        "data_origin": data_origin(digest),
    }
    return frame, meta


def restore_raw(frame: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """Put the Stata extended-missing letters recorded in meta back into their cells (a copy; the frame
    itself when there is none: nothing to put back)."""
    letters = meta.get("stata_missing_cells") or {}
    if not letters:
        return frame
    frame = frame.copy()
    for name, cells in letters.items():
        col = frame[name].astype(object).where(frame[name].notna(), None).tolist()
        for letter, rows in cells.items():
            for i in rows:
                col[i] = letter
        frame[name] = pd.Series(col, dtype=object, index=frame.index)
    return frame


def ingest(input_path: str | os.PathLike[str], out_parquet: str | os.PathLike[str],
           out_meta_json: str | os.PathLike[str], codebook: Codebook | None = None,
           undeclared: str = "drop") -> dict[str, Any]:
    """Read a raw file and write its rows (parquet) and metadata (JSON); nothing is written on error."""
    frame, meta = prepare_ingest(input_path, codebook, undeclared)
    with atomic_paths(out_parquet, out_meta_json) as (tmp_parquet, tmp_json):
        write_parquet_to(frame, tmp_parquet)
        tmp_json.write_bytes(json_bytes(meta))
    return meta


def read_ingested(parquet: str | os.PathLike[str], meta_json: str | os.PathLike[str]
                  ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read an ingested file back as the RAW frame `read_raw` gave (Stata letters restored) + meta."""
    import json

    meta = json.loads(Path(meta_json).read_text(encoding="utf-8"))
    return restore_raw(read_parquet(parquet), meta), meta
