"""Read and write SPSS (.sav, .zsav, .por) and Stata (.dta) files through pyreadstat.

Reading: `read_raw(path) -> (frame, meta)`. User-missing codes stay visible as their numbers (SPSS)
or letters (Stata: an object column holding e.g. "a" for .a), dates become datetime64 (or pandas
Timestamps in an object column when a Stata date column holds extended-missing letters), and `meta`
is a JSON-serialisable dict (see `read_raw`). Problems with the file itself raise `InputFileError`
naming the file, never a traceback. The input is only ever opened read-only.

Writing: `write_raw(frame, path, codebook)` writes .sav / .zsav / .dta with labels, value labels,
user-missing codes and date formats from the codebook. ReadStat stamps the wall-clock time (in local
time) into the header of every file it writes and pyreadstat offers no option to set it, so the
header field is overwritten after writing with a fixed time (SOURCE_DATE_EPOCH, else 0 = 1970-01-01
00:00 UTC): reruns are byte-identical. See `_patch_sav_timestamp` / `_patch_dta_timestamp`.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nenbone.codebook import Codebook
from nenbone.errors import ConfigError, InputFileError
from nenbone.io.files import atomic_path

EXTENSIONS = {".sav": "sav", ".zsav": "zsav", ".por": "por", ".dta": "dta"}
WRITABLE = ("sav", "zsav", "dta")
FORMAT_NAMES = {"sav": "SPSS .sav", "zsav": "SPSS compressed .zsav", "por": "SPSS portable .por",
                "dta": "Stata .dta"}
SPSS_DATE_FORMAT = "EDATE10"  # dd.mm.yyyy (as in the clinicians' exports); SPSS and haven show a Date
STATA_DATE_FORMAT = "%td"  # days since 1960-01-01
STATA_VERSION = 14  # pyreadstat's "14" = dta format 118 (Stata 14+; Unicode; read by haven)
STATA_EPOCH = dt.date(1960, 1, 1)
_STATA_LETTER = re.compile(r"^\.?([a-z])$")
_SAV_DATE_SLICE = slice(92, 101)  # header: creation_date char[9] "dd Mon yy"
_SAV_TIME_SLICE = slice(101, 109)  # header: creation_time char[8] "hh:mm:ss"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------- format sniffing


def sniff_format(head: bytes) -> str | None:
    """What the first bytes of a file say it is: 'sav', 'zsav', 'dta', 'por', or None."""
    if head.startswith(b"$FL2"):
        return "sav"
    if head.startswith(b"$FL3"):
        return "zsav"
    if head.startswith(b"<stata_dta>"):
        return "dta"
    # Stata 104-115: version byte, byte order (1 = HILO, 2 = LOHI), filetype 1.
    if len(head) >= 4 and 104 <= head[0] <= 115 and head[1] in (1, 2) and head[2] == 1:
        return "dta"
    # SPSS portable: 200-byte vanity header, 256-byte translation table, then "SPSSPORT"
    # (80-character lines, so line breaks are dropped before looking).
    if b"SPSSPORT" in head[:1200].replace(b"\r", b"").replace(b"\n", b""):
        return "por"
    return None


def _describe(head: bytes) -> str:
    fmt = sniff_format(head)
    if fmt:
        return f"a {FORMAT_NAMES[fmt]} file"
    if head.startswith(b"PAR1"):
        return "a parquet file"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP/xlsx file"
    try:
        head[:200].decode("utf-8")
        return "text (CSV?)" if b"," in head[:200] or b"\t" in head[:200] else "text"
    except UnicodeDecodeError:
        return "not a recognised format"


def check_input(path: str | os.PathLike[str]) -> tuple[Path, str]:
    """Refuse, with a message naming the file, anything read_raw could not read as declared."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in EXTENSIONS:
        raise InputFileError(
            f"{p}: unsupported file type '{p.suffix or '(none)'}'; expected one of "
            f"{', '.join(EXTENSIONS)} (SPSS .sav/.zsav/.por or Stata .dta)")
    if not p.exists():
        raise InputFileError(f"{p}: file not found")
    if not p.is_file():
        raise InputFileError(f"{p}: not a regular file")
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:  # read-only, like every access to a raw input
            head = fh.read(1200)
    except OSError as exc:
        raise InputFileError(f"{p}: cannot open the file: {exc.strerror or exc}") from None
    if size == 0:
        raise InputFileError(f"{p}: file is empty (0 bytes)")
    expected = EXTENSIONS[ext]
    found = sniff_format(head)
    if found is None:
        raise InputFileError(
            f"{p}: not a valid {FORMAT_NAMES[expected]} file: its content is {_describe(head)} "
            f"(first bytes {head[:12]!r}); the file is corrupt or has the wrong extension")
    if {found, expected} <= {"sav", "zsav"}:
        return p, found  # SPSS opens both layouts whatever the extension
    if found != expected:
        raise InputFileError(
            f"{p}: wrong extension: the content is {_describe(head)}, but the extension '{p.suffix}' "
            f"says {FORMAT_NAMES[expected]}; rename the file or fix the export")
    return p, found


# --------------------------------------------------------------------------- reading


def _json_number(x: Any) -> Any:
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        if math.isnan(f) or math.isinf(f):
            return None
        return int(f) if f.is_integer() else f
    if isinstance(x, (dt.date, dt.datetime, pd.Timestamp)):
        return pd.Timestamp(x).isoformat()
    return x


def _code_key(x: Any) -> str:
    v = _json_number(x)
    return str(v)


_NO_DATES = ("empty", "string", "bytes", "integer", "floating", "mixed-integer-float", "decimal", "boolean")


def _only_none_or_nan(col: pd.Series) -> bool:
    """The missing cells of an object column are None or float NaN (what the readers give)."""
    gaps = col[col.isna()]
    return all(v is None or (isinstance(v, float) and math.isnan(v)) for v in pd.unique(gaps.to_numpy(dtype=object)))


def _convert_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns of dates -> datetime64[ns]; with Stata letters -> Timestamps + letters.

    The frame itself when no column holds a date (a copy of 10^6 rows saved), else a converted copy."""
    candidates = [name for name in frame.columns if frame[name].dtype == object
                  and pd.api.types.infer_dtype(frame[name], skipna=True) not in _NO_DATES]
    if not candidates:  # column-wise: no cell of any column is a date
        return frame
    out = frame.copy()
    for name in candidates:
        col = out[name]
        kind = pd.api.types.infer_dtype(col, skipna=True)
        if kind in ("date", "datetime") and _only_none_or_nan(col):  # every known cell a date
            try:
                out[name] = pd.to_datetime(col.astype(object)).astype("datetime64[ns]")
            except (ValueError, OverflowError):
                pass  # as below
            continue
        vals = col.tolist()
        has_date = any(isinstance(v, (dt.date, dt.datetime)) for v in vals)
        if not has_date:
            continue
        try:
            if all(isinstance(v, (dt.date, dt.datetime)) or v is None or (isinstance(v, float) and math.isnan(v))
                   for v in vals):
                out[name] = pd.to_datetime(pd.Series(vals, dtype=object, index=col.index)).astype("datetime64[ns]")
            else:
                out[name] = pd.Series(
                    [pd.Timestamp(v) if isinstance(v, (dt.date, dt.datetime)) else v for v in vals],
                    dtype=object, index=col.index)
        except (ValueError, OverflowError):
            pass  # a date outside 1677-2262 (e.g. SPSS 0 = 1582-10-14): left as dates, validation reports it
    return out


def _meta_dict(m: Any, fmt: str, path: Path, frame: pd.DataFrame) -> dict[str, Any]:
    cols = [str(c) for c in frame.columns]
    labels = dict(getattr(m, "column_names_to_labels", {}) or {})
    value_labels = {
        str(var): {_code_key(k): str(v) for k, v in sorted(lbls.items(), key=lambda kv: _sort_key(kv[0]))}
        for var, lbls in (getattr(m, "variable_value_labels", {}) or {}).items()
    }
    missing_ranges = {
        str(var): [{"lo": _json_number(r["lo"]), "hi": _json_number(r["hi"])} for r in ranges]
        for var, ranges in (getattr(m, "missing_ranges", {}) or {}).items() if ranges
    }
    letters = {str(var): sorted(str(x) for x in vals)
               for var, vals in (getattr(m, "missing_user_values", {}) or {}).items() if vals}
    return {
        "format": fmt,
        "file_name": path.name,
        "file_label": getattr(m, "file_label", None) or None,
        "file_encoding": getattr(m, "file_encoding", None) or None,
        "n_rows": int(len(frame)),
        "columns": cols,
        "variable_labels": {c: (labels.get(c) or None) for c in cols},
        "value_labels": value_labels,
        "missing_ranges": missing_ranges,
        "stata_missing_letters": letters,
        "variable_formats": {str(k): str(v) for k, v in (getattr(m, "original_variable_types", {}) or {}).items()},
        "storage_types": {str(k): str(v) for k, v in (getattr(m, "readstat_variable_types", {}) or {}).items()},
        "variable_measure": {str(k): str(v) for k, v in (getattr(m, "variable_measure", {}) or {}).items()},
    }


def _sort_key(x: Any) -> tuple[int, Any]:
    return (0, float(x)) if isinstance(x, (int, float, np.integer, np.floating)) else (1, str(x))


_STATA_DAY_FORMAT = re.compile(r"^%-?(td|d)")  # %td, %tdDD/NN/CCYY, old %d...: days since 1960-01-01
_STATA_MS_FORMAT = re.compile(r"^%-?t[cC]")   # %tc, %tC, %tcDD/NN/CCYY_HH:MM...: ms since 1960-01-01


def stata_dates_as_dates(frame: pd.DataFrame, formats: dict[str, str]) -> pd.DataFrame:
    """Stata date/datetime columns ReadStat left as numbers (custom display formats) -> datetime64.

    Every %td* display format counts days since 1960-01-01 and every %tc*/%tC* milliseconds, whatever
    the display pattern (%tdDD/NN/CCYY, %tdCCYY-NN-DD, %tcDD_Mon_CCYY...).
    """
    out = frame.copy()
    epoch = pd.Timestamp(STATA_EPOCH)
    for name, fmt in formats.items():
        if name not in out.columns:
            continue
        if _STATA_DAY_FORMAT.match(fmt):
            unit = "D"
        elif _STATA_MS_FORMAT.match(fmt):
            unit = "ms"
        else:
            continue
        col = out[name]
        if pd.api.types.is_numeric_dtype(col.dtype):
            out[name] = (epoch + pd.to_timedelta(col.astype("float64"), unit=unit)).astype("datetime64[ns]")
        elif col.dtype == object:  # numbers and extended-missing letters: convert the numbers only
            out[name] = pd.Series([epoch + pd.to_timedelta(float(v), unit=unit)
                                   if isinstance(v, (int, float, np.integer, np.floating)) and not _is_missing(v)
                                   else v for v in col.tolist()], dtype=object, index=col.index)
    return out


def iconv_name(encoding: str) -> str:
    """A Python codec name (latin-1, cp1252, utf8) as ReadStat's iconv spells it (ISO-8859-1, CP1252, UTF-8)."""
    import codecs

    name = codecs.lookup(encoding).name  # LookupError for an unknown encoding
    if name.startswith("iso8859-"):
        return "ISO-8859-" + name.split("-", 1)[1]
    return name.upper()


# pyreadstat's SPSS calendar-date formats (its _readstat_parser: a format's leading letters) and the
# other formats it converts; a column in one of these is read as numbers and converted here, column-wise.
_SPSS_DATE_FORMATS = ("DATE", "ADATE", "EDATE", "JDATE", "SDATE")
_SPSS_OTHER_TIME_FORMATS = ("DATETIME", "YMDHMS", "TIME", "DTIME")
_PYREADSTAT_FORMAT = re.compile(r"^([A-Z][A-Z0-9]+[A-Z])(\d+)?(?(2)(?:\.\d+)?$|$)")
_SPSS_ORIGIN = np.datetime64("1582-10-14", "D")
_SAFE_DAYS = (np.datetime64("1678-01-01", "D"), np.datetime64("2261-12-31", "D"))


def _read_sav_columnwise(pyreadstat: Any, path: Path, kwargs: dict[str, Any]) -> tuple[pd.DataFrame, Any] | None:
    """An SPSS file read with pyreadstat's date conversion off and its date columns converted per column
    (a registry's 10^6 rows: half the read time), giving what `_convert_dates` makes of pyreadstat's own
    dates: datetime64[ns] of the calendar day. None (read it the ordinary way) when a column holds a
    datetime or time format, a date column has no known value, or a date falls outside 1678-2261."""
    frame, m = pyreadstat.read_sav(str(path), **kwargs, disable_datetime_conversion=True)
    formats = {str(k): str(v) for k, v in (getattr(m, "original_variable_types", {}) or {}).items()}
    dates = []
    for name, spss in formats.items():
        found = _PYREADSTAT_FORMAT.match(spss)
        kind = found.group(1) if found else None
        if kind in _SPSS_OTHER_TIME_FORMATS:
            return None
        if kind in _SPSS_DATE_FORMATS:
            dates.append(name)
    for name in dates:
        col = frame[name]
        if col.dtype != np.float64:
            return None
        seconds = col.to_numpy()
        known = ~np.isnan(seconds)
        if not known.any() or not np.isfinite(seconds[known]).all():
            return None
        days = np.floor(seconds[known] / 86400)
        if days.min() < (_SAFE_DAYS[0] - _SPSS_ORIGIN).astype(np.int64) or \
                days.max() > (_SAFE_DAYS[1] - _SPSS_ORIGIN).astype(np.int64):
            return None
        out = np.full(len(seconds), np.datetime64("NaT"), dtype="datetime64[D]")
        out[known] = _SPSS_ORIGIN + days.astype(np.int64)
        frame[name] = pd.Series(out.astype("datetime64[ns]"), index=frame.index)
    return frame, m


def read_raw(path: str | os.PathLike[str], encoding: str | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read an SPSS/Stata file with user-missing codes kept; return (frame, JSON-serialisable meta).

    meta keys: format, file_name, file_label, file_encoding, n_rows, columns, variable_labels,
    value_labels ({var: {"code": label}}), missing_ranges ({var: [{"lo", "hi"}]}: SPSS user-missing,
    a discrete code has lo == hi), stata_missing_letters ({var: ["a", ...]}: extended missing values
    present), variable_formats (e.g. DATE11, %td, F8.2), storage_types, variable_measure.
    """
    import pyreadstat

    p, fmt = check_input(path)
    readers = {"sav": pyreadstat.read_sav, "zsav": pyreadstat.read_sav, "dta": pyreadstat.read_dta,
               "por": pyreadstat.read_por}
    kwargs: dict[str, Any] = {"dates_as_pandas_datetime": False}
    if fmt != "por":  # ReadStat's portable reader has no user-missing support
        kwargs["user_missing"] = True
    try:
        if encoding:
            kwargs["encoding"] = iconv_name(encoding)
        columnwise = _read_sav_columnwise(pyreadstat, p, kwargs) if fmt in ("sav", "zsav") else None
        frame, m = columnwise if columnwise is not None else readers[fmt](str(p), **kwargs)
    except Exception as exc:  # ReadstatError, OverflowError from a corrupt date, UnicodeDecodeError...
        msg = str(exc).strip() or type(exc).__name__
        if isinstance(exc, (UnicodeError, LookupError)) or "encod" in msg.lower() or "unicode" in msg.lower() \
                or "convert" in msg.lower() or "character set" in msg.lower():
            said = f"the declared encoding '{encoding}'" if encoding else "the encoding the file declares"
            raise InputFileError(
                f"{p}: text or labels cannot be decoded with {said} ({msg}); a legacy export needs its "
                f"character set declared in the codebook, e.g. `encoding: latin-1` (or cp1252)") from None
        raise InputFileError(
            f"{p}: cannot read this {FORMAT_NAMES[fmt]} file (truncated or corrupt?): {msg}") from None
    expected_rows = getattr(m, "number_rows", None)
    if expected_rows not in (None, -1) and int(expected_rows) != len(frame):
        raise InputFileError(
            f"{p}: truncated or corrupt: the header announces {expected_rows} rows but {len(frame)} were read")
    frame = _convert_dates(frame)
    if fmt == "dta":
        frame = stata_dates_as_dates(frame, {str(k): str(v) for k, v in
                                             (getattr(m, "original_variable_types", {}) or {}).items()})
    return frame, _meta_dict(m, fmt, p, frame)


# --------------------------------------------------------------------------- writing


def file_timestamp(timestamp: int | None = None) -> int:
    """The fixed time stamped into written headers: argument, else SOURCE_DATE_EPOCH, else 0."""
    if timestamp is not None:
        return int(timestamp)
    env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if env:
        try:
            return int(env)
        except ValueError:
            raise ConfigError(f"SOURCE_DATE_EPOCH must be an integer number of seconds, not {env!r}") from None
    return 0


def _patch_sav_timestamp(path: Path, when: int) -> None:
    """Overwrite the creation date/time of a .sav/.zsav header (ReadStat writes local wall-clock time).

    Layout (ReadStat sav_file_header_record_t, IBM SPSS file format): rec_type[4] prod_name[60]
    layout_code i32 nominal_case_size i32 compression i32 weight_index i32 ncases i32 bias f64
    creation_date[9] "dd Mon yy" (offset 92) creation_time[8] "hh:mm:ss" (offset 101) file_label[64].
    """
    t = time.gmtime(when)
    date = f"{t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year % 100:02d}".encode("ascii")
    clock = f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}".encode("ascii")
    with open(path, "r+b") as fh:
        head = fh.read(109)
        if head[:4] not in (b"$FL2", b"$FL3") or not re.fullmatch(
                rb"\d\d [A-Z][a-z]{2} \d\d\d\d:\d\d:\d\d", head[_SAV_DATE_SLICE] + head[_SAV_TIME_SLICE]):
            raise RuntimeError(f"{path}: unexpected SPSS header layout; cannot fix its timestamp")
        fh.seek(_SAV_DATE_SLICE.start)
        fh.write(date + clock)


def _patch_dta_timestamp(path: Path, when: int) -> None:
    """Overwrite `<timestamp>` in a Stata 117+ header: 1 length byte + "dd Mon yyyy hh:mm" (17 chars).

    The length is unchanged, so the offsets in the file's <map> stay valid.
    """
    t = time.gmtime(when)
    stamp = f"{t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} {t.tm_hour:02d}:{t.tm_min:02d}".encode()
    with open(path, "r+b") as fh:
        head = fh.read(4096)
        at = head.find(b"<timestamp>")
        if not head.startswith(b"<stata_dta>") or at < 0:
            raise RuntimeError(f"{path}: unexpected Stata header layout; cannot fix its timestamp")
        start = at + len(b"<timestamp>")
        length = head[start]
        if length == 0:
            return
        old = head[start + 1:start + 1 + length]
        if length != len(stamp) or not re.fullmatch(rb"\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d", old) \
                or head[start + 1 + length:start + 1 + length + 12] != b"</timestamp>":
            raise RuntimeError(f"{path}: unexpected Stata timestamp field {old!r}; cannot fix it")
        fh.seek(start + 1)
        fh.write(stamp)


def _is_missing(x: Any) -> bool:
    return x is None or x is pd.NA or x is pd.NaT or (isinstance(x, float) and math.isnan(x)) or (
        isinstance(x, np.floating) and np.isnan(x))


def _cell_for_writer(x: Any, kind: str, fmt: str) -> Any:
    """One cell in the form pyreadstat writes correctly (see module notes on dates)."""
    if _is_missing(x):
        return None
    if isinstance(x, str) and kind != "string":
        m = _STATA_LETTER.match(x.strip())
        if m and fmt == "dta":
            return m.group(1)
        return x
    if kind == "date":
        d = pd.Timestamp(x).date()
        # Stata: integer days since 1960 with %td (pyreadstat's own datetime path writes ms).
        return (d - STATA_EPOCH).days if fmt == "dta" else d
    if kind in ("integer", "categorical", "boolean"):
        f = float(x)
        return int(f) if f.is_integer() else f
    if isinstance(x, (np.integer, np.floating)):
        return x.item()
    return x


_WHOLE_EXACT = 2.0 ** 53  # floats below this are whole numbers exactly as int64


def _column_for_writer(col: pd.Series, kind: str, fmt: str) -> np.ndarray | None:
    """`_cell_for_writer` over a whole column at once (the same Python objects), for the column types a
    twin or a registry export holds: text, dates, whole-number codes; None for anything else."""
    n = len(col)
    out = np.empty(n, dtype=object)
    if kind == "string" and pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty"):
        text = col.to_numpy(dtype=object, copy=True)
        gaps = pd.isna(text)
        if not all(v is None or v is pd.NA or v is pd.NaT or isinstance(v, float)
                   for v in pd.unique(text[gaps])):
            return None
        text[gaps] = ""
        return text
    if kind == "date" and pd.api.types.is_datetime64_any_dtype(col.dtype) and getattr(col.dt, "tz", None) is None:
        gaps = col.isna().to_numpy()
        days = col.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        if fmt == "dta":
            out[~gaps] = (days[~gaps] - np.datetime64(STATA_EPOCH, "D")).astype(np.int64).tolist()
        else:
            out[~gaps] = days[~gaps].tolist()  # datetime.date objects
        out[gaps] = None
        return out
    if kind in ("integer", "categorical", "boolean") and col.dtype != object \
            and pd.api.types.is_numeric_dtype(col.dtype):
        values = col.to_numpy(dtype="float64", na_value=np.nan)
        gaps = np.isnan(values)
        if np.abs(values[~gaps]).max(initial=0.0) >= _WHOLE_EXACT:
            return None
        whole = ~gaps & (values == np.trunc(values))
        out[whole] = values[whole].astype(np.int64).tolist()
        part = ~gaps & ~whole
        out[part] = values[part].tolist()
        out[gaps] = None
        return out
    return None


def _frame_for_writer(frame: pd.DataFrame, codebook: Codebook, fmt: str) -> pd.DataFrame:
    out = {}
    for name in frame.columns:
        var = codebook.variables.get(name)
        kind = var.type if var else ("date" if pd.api.types.is_datetime64_any_dtype(frame[name]) else "other")
        col = frame[name]
        if kind == "numeric" and pd.api.types.is_float_dtype(col.dtype):
            out[name] = col.astype("float64").reset_index(drop=True)
            continue
        fast = _column_for_writer(col, kind, fmt)
        if fast is not None:
            out[name] = pd.Series(fast, dtype=object)
            continue
        if kind == "string":
            out[name] = pd.Series(["" if _is_missing(x) else str(x) for x in col.tolist()], dtype=object)
            continue
        out[name] = pd.Series([_cell_for_writer(x, kind, fmt) for x in col.tolist()], dtype=object)
    return pd.DataFrame(out, columns=list(frame.columns))


def _has_letters(frame: pd.DataFrame) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name in frame.columns:
        if frame[name].dtype == object:
            letters = sorted({x for x in frame[name].tolist() if isinstance(x, str) and len(x) == 1})
            if letters:
                found[name] = letters
    return found


def write_raw(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    codebook: Codebook,
    file_label: str | None = None,
    timestamp: int | None = None,
    spss_date_format: str = SPSS_DATE_FORMAT,
    date_formats: dict[str, str] | None = None,
) -> Path:
    """Write a RAW frame to .sav / .zsav / .dta with the codebook's labels, missing codes and formats.

    Columns are written in the frame's order; codebook metadata is attached to the columns it names
    (a column not in the codebook is written bare, which the broken-file corpus relies on). The header
    timestamp is fixed (see `file_timestamp`), and the file appears atomically. SPSS dates get
    `spss_date_format` (EDATE10 = dd.mm.yyyy; DATE11 = dd-mmm-yyyy also works), Stata dates %td;
    `date_formats` gives single date columns another display format (e.g. Stata "%tdDD/NN/CCYY").
    """
    import pyreadstat

    p = Path(path)
    fmt = EXTENSIONS.get(p.suffix.lower())
    if fmt not in WRITABLE:
        raise ConfigError(
            f"{p}: cannot write '{p.suffix}': write_raw writes .sav, .zsav or .dta "
            f"(ReadStat's .por writer drops labels and missing values)")
    when = file_timestamp(timestamp)
    data = _frame_for_writer(frame, codebook, fmt)
    cols = list(data.columns)
    known = {n: codebook.variables[n] for n in cols if n in codebook.variables}
    column_labels = {n: v.label for n, v in known.items()}
    value_labels = {n: {int(k): lbl for k, lbl in v.codes.items()} for n, v in known.items()
                    if v.codes and v.type != "string"}
    date_cols = [n for n in cols if (n in known and known[n].type == "date")
                 or (n not in known and pd.api.types.is_datetime64_any_dtype(frame[n]))]
    label = file_label if file_label is not None else codebook.title

    with atomic_path(p) as tmp:
        try:
            if fmt in ("sav", "zsav"):
                missing = {}
                for n, v in known.items():
                    codes = list(v.numeric_missing_codes)
                    if codes and v.type != "string":
                        if len(codes) > 3:
                            raise ConfigError(f"{n}: SPSS allows at most 3 discrete user-missing codes, "
                                              f"the codebook declares {codes}")
                        missing[n] = codes
                fmts = {n: spss_date_format for n in date_cols}
                fmts.update(date_formats or {})
                fmts.update({n: "F8.0" for n, v in known.items() if v.type in ("integer", "categorical", "boolean")})
                measure = {n: ("nominal" if v.type in ("categorical", "boolean", "string") else "scale")
                           for n, v in known.items()}
                pyreadstat.write_sav(
                    data, str(tmp), file_label=label[:64], column_labels=column_labels or None,
                    compress=(fmt == "zsav"), variable_value_labels=value_labels or None,
                    missing_ranges=missing or None, variable_format=fmts or None,
                    variable_measure=measure or None)
                _patch_sav_timestamp(tmp, when)
            else:
                letters = {n: sorted(set(v.stata_missing_codes) | set(_has_letters(data[[n]]).get(n, [])))
                           for n, v in known.items() if v.type != "string"}
                for n, found in _has_letters(data).items():
                    if n not in known:
                        letters[n] = found
                letters = {n: ls for n, ls in letters.items() if ls}
                fmts = {n: STATA_DATE_FORMAT for n in date_cols}
                fmts.update(date_formats or {})
                pyreadstat.write_dta(
                    data, str(tmp), file_label=label[:80], column_labels=column_labels or None,
                    version=STATA_VERSION, variable_value_labels=value_labels or None,
                    missing_user_values=letters or None, variable_format=fmts or None)
                _patch_dta_timestamp(tmp, when)
        except ConfigError:
            raise
        except Exception as exc:  # pyreadstat rejects the frame: say which file and why
            raise ConfigError(f"{p}: cannot write {FORMAT_NAMES[fmt]} file: {exc}") from None
    return p
