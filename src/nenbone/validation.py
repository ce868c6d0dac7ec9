"""Codebook-driven validation: a RAW frame (as read or generated) in, a CLEAN frame out.

Every rule is checked on every variable before anything is raised, so one run lists ALL the
violations of a file. Nothing is ever dropped or recoded silently: a declared missing code becomes
<NA>/NaN, and anything else that does not fit the codebook is a violation.

`meta` is the JSON-serialisable metadata from `nenbone.io.spss_stata.read_raw` (or the ingested
meta JSON). Keys used here: "format" ("sav", "zsav", "por", "dta") and "missing_ranges"
({variable: [{"lo": x, "hi": y}, ...]}: the SPSS user-missing values the file declares).
`meta=None` means an in-memory frame from a generator: the codebook is then the only truth.

Rule names used in violations (stable; tests and users may grep for them):
"present", "type", "not null", "unique id", "range", "declared codes",
"missing code used as a number", "missing code not in codebook", "date order".
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from nenbone.codebook import Codebook, Variable
from nenbone.errors import ValidationError, Violation

log = logging.getLogger(__name__)

RULE_PRESENT = "present"
RULE_TYPE = "type"
RULE_NOT_NULL = "not null"
RULE_UNIQUE_ID = "unique id"
RULE_RANGE = "range"
RULE_CODES = "declared codes"
RULE_MISSING_AS_NUMBER = "missing code used as a number"
RULE_MISSING_NOT_IN_CODEBOOK = "missing code not in codebook"
RULE_DATE_ORDER = "date order"
RULE_ROWS = "enough rows"
RULE_PLAUSIBLE_DATE = "plausible date"
RULE_AGE = "plausible age"
RULE_VALUE_LABELS = "value labels agree"

EARLIEST_DATE = pd.Timestamp("1900-01-01")

INTEGER_TYPES = ("integer", "categorical", "boolean")
SPSS_FORMATS = ("sav", "zsav", "por")
_STATA_LETTER = re.compile(r"^\.?([a-z])$")
_MAX_VALUES_SHOWN = 10


# --------------------------------------------------------------------------- small helpers


def _is_blank(x: Any) -> bool:
    """System missing: None, NaN, NaT, pd.NA, a bare Stata '.', or an empty/blank string."""
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    if isinstance(x, float) and math.isnan(x):
        return True
    if isinstance(x, np.floating) and np.isnan(x):
        return True
    if isinstance(x, np.datetime64) and np.isnat(x):
        return True
    if isinstance(x, str) and x.strip() in ("", "."):
        return True
    return False


def _fmt_value(x: Any) -> str:
    """A value as a user would write it (9, not 9.0)."""
    if isinstance(x, (float, np.floating)) and float(x).is_integer():
        return str(int(x))
    if isinstance(x, (pd.Timestamp, _dt.date)):
        return pd.Timestamp(x).strftime("%Y-%m-%d")
    return str(x)


def _fmt_values(values: Iterable[Any]) -> str:
    uniq: list[str] = []
    for v in values:
        s = _fmt_value(v)
        if s not in uniq:
            uniq.append(s)
    shown = ", ".join(uniq[:_MAX_VALUES_SHOWN])
    return shown + (f", ... ({len(uniq)} distinct)" if len(uniq) > _MAX_VALUES_SHOWN else "")


class PatientLabels(Sequence[str]):
    """One label per row: the patient ID as text, or 'row N' (1-based) where the ID is unusable.

    Built on demand, row by row: a label is written only for a row a violation names, so a valid
    registry of 10^6 patients formats none.
    """

    def __init__(self, raw: pd.DataFrame, id_variable: str) -> None:
        self._n = len(raw)
        self._ids = raw[id_variable].tolist() if id_variable in raw.columns else None

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        i = int(i)
        if not -self._n <= i < self._n:
            raise IndexError(i)
        i %= self._n
        x = None if self._ids is None else self._ids[i]
        return f"row {i + 1}" if self._ids is None or _is_blank(x) else _fmt_value(x).strip()


def _patient_labels(raw: pd.DataFrame, id_variable: str) -> PatientLabels:
    """One label per row (see PatientLabels)."""
    return PatientLabels(raw, id_variable)


def _ids(labels: Sequence[str], mask: np.ndarray) -> tuple[str, ...]:
    return tuple(labels[i] for i in np.flatnonzero(mask))


def _text_only(col: pd.Series) -> bool:
    """Every known cell is text (str), so equal cells are equal strings (not 1 vs 1.0 vs True)."""
    if isinstance(col.dtype, pd.StringDtype):
        return True
    return col.dtype == object and pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty")


def _interchangeable(col: pd.Series) -> bool:
    """Equal cells are the same value to every check: text only, or a plain numpy number column."""
    if _text_only(col):
        return True
    return col.dtype != object and pd.api.types.is_numeric_dtype(col.dtype) \
        and not pd.api.types.is_extension_array_dtype(col.dtype)


def _distinct_counts(col: pd.Series) -> tuple[list[Any], np.ndarray, int]:
    """(distinct known cells, how many rows hold each, how many rows pandas sees as missing)."""
    rows, distinct = pd.factorize(col, use_na_sentinel=True)
    counts = np.bincount(rows[rows >= 0], minlength=len(distinct))
    return list(distinct), counts, int((rows < 0).sum())


def _file_missing_ranges(meta: dict | None, name: str) -> list[tuple[float, float]]:
    """User-missing values/ranges the file declares for one variable (SPSS only)."""
    if not meta:
        return []
    out = []
    for r in (meta.get("missing_ranges") or {}).get(name, []) or []:
        lo, hi = r.get("lo"), r.get("hi")
        if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
            out.append((float(lo), float(hi)))
    return out


def _is_sentinel(x: float) -> bool:
    """Looks like a missing-value code typed as a number: 9, 99, 999..., 8, 88..., -1, -9, -99..."""
    if not float(x).is_integer():
        return False
    digits = str(abs(int(x)))
    return int(x) == -1 or set(digits) == {"9"} or (set(digits) == {"8"} and len(digits) >= 2)


def _to_bound(value: Any, is_date: bool) -> Any:
    if value is None:
        return None
    return pd.Timestamp(value) if is_date else float(value)


# --------------------------------------------------------------------------- per-type cleaning


def _clean_numeric(
    var: Variable, col: pd.Series, labels: Sequence[str], meta: dict | None
) -> tuple[pd.Series, list[Violation], np.ndarray]:
    """integer / numeric / categorical / boolean: codes to numbers, missing codes to NA."""
    name = var.name
    fmt = (meta or {}).get("format")
    viol: list[Violation] = []
    n = len(col)
    values = np.full(n, np.nan)
    bad_type = np.zeros(n, dtype=bool)
    bad_letter = np.zeros(n, dtype=bool)
    flagged = np.zeros(n, dtype=bool)  # cells already reported: do not report them twice
    bad_type_values: list[Any] = []
    bad_letters: list[str] = []
    declared_letters = set(var.stata_missing_codes)
    str_missing = {str(c) for c in var.missing_codes}

    if pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype):
        values = pd.to_numeric(col, errors="coerce").astype("float64").to_numpy(copy=True)
    else:
        for i, x in enumerate(col.tolist()):
            if _is_blank(x):
                continue
            if isinstance(x, (bool, np.bool_)):
                values[i] = float(x)
            elif isinstance(x, (int, float, np.integer, np.floating)):
                values[i] = float(x)
            elif isinstance(x, str):
                s = x.strip()
                m = _STATA_LETTER.match(s)
                if m and fmt not in SPSS_FORMATS:
                    if m.group(1) in declared_letters:
                        continue  # a declared Stata extended missing value: <NA>
                    bad_letter[i] = True
                    bad_letters.append("." + m.group(1))
                    continue
                if s in str_missing:
                    continue
                try:
                    values[i] = float(s)
                except ValueError:
                    bad_type[i] = True
                    bad_type_values.append(x)
            else:
                bad_type[i] = True
                bad_type_values.append(x)
    if bad_type.any():
        viol.append(
            Violation(name, RULE_TYPE, _ids(labels, bad_type),
                      f"text where a number is expected ({var.type}): {_fmt_values(bad_type_values)}")
        )
    if bad_letter.any():
        viol.append(
            Violation(name, RULE_MISSING_NOT_IN_CODEBOOK, _ids(labels, bad_letter),
                      f"Stata extended missing value(s) {_fmt_values(bad_letters)} used but the codebook "
                      f"declares {sorted('.' + c for c in declared_letters) or 'none'}")
        )
    flagged |= bad_type | bad_letter

    # Declared (codebook) numeric missing codes.
    file_ranges = _file_missing_ranges(meta, name)
    covered = np.zeros(n, dtype=bool)
    for code in var.numeric_missing_codes:
        hit = values == float(code)
        if not hit.any():
            continue
        declared_in_file = meta is None or any(lo <= float(code) <= hi for lo, hi in file_ranges)
        if not declared_in_file:
            where = "this Stata file (Stata has no numeric user-missing)" if fmt == "dta" else "the file"
            viol.append(
                Violation(name, RULE_MISSING_AS_NUMBER, _ids(labels, hit),
                          f"code {_fmt_value(code)} is a missing code in the codebook but is not declared "
                          f"user-missing in {where}, so it would be read as the number {_fmt_value(code)}")
            )
            flagged |= hit
        covered |= hit
    # Missing values the file declares but the codebook does not know.
    undeclared = np.zeros(n, dtype=bool)
    for lo, hi in file_ranges:
        undeclared |= (values >= lo) & (values <= hi) & ~covered
    if undeclared.any():
        viol.append(
            Violation(name, RULE_MISSING_NOT_IN_CODEBOOK, _ids(labels, undeclared),
                      f"value(s) {_fmt_values(values[undeclared])} are user-missing in the file but not "
                      f"declared in the codebook's missing_codes")
        )
        flagged |= undeclared
    values[covered | undeclared] = np.nan

    # Whole numbers for integer-coded types.
    if var.type in INTEGER_TYPES:
        frac = ~np.isnan(values) & ~flagged & (values != np.round(values))
        if frac.any():
            viol.append(
                Violation(name, RULE_TYPE, _ids(labels, frac),
                          f"not a whole number ({var.type}): {_fmt_values(values[frac])}")
            )
            flagged |= frac

    # Range (a sentinel-looking value outside it is an undeclared missing code used as a number).
    if var.range is not None:
        lo, hi = _to_bound(var.range[0], False), _to_bound(var.range[1], False)
        known = ~np.isnan(values) & ~flagged
        out = known & (((values < lo) if lo is not None else False) | ((values > hi) if hi is not None else False))
        sentinel = np.zeros(n, dtype=bool)
        outside = np.flatnonzero(out)
        sentinel[outside] = [_is_sentinel(v) for v in values[outside]]
        rng = f"[{_fmt_value(var.range[0]) if lo is not None else '-inf'}, " \
              f"{_fmt_value(var.range[1]) if hi is not None else 'inf'}]"
        if sentinel.any():
            viol.append(
                Violation(name, RULE_MISSING_AS_NUMBER, _ids(labels, sentinel),
                          f"value(s) {_fmt_values(values[sentinel])} outside the range {rng} look like a "
                          f"missing-value code that the codebook does not declare")
            )
        plain = out & ~sentinel
        if plain.any():
            viol.append(
                Violation(name, RULE_RANGE, _ids(labels, plain),
                          f"value(s) {_fmt_values(values[plain])} outside the range {rng}")
            )
        flagged |= out

    # Codes: only the declared ones (never recoded).
    if var.type in ("categorical", "boolean"):
        allowed = set(var.valid_codes) or ({0, 1} if var.type == "boolean" else set())
        known = ~np.isnan(values) & ~flagged
        bad = known & ~np.isin(values, np.array(sorted(allowed), dtype=float))
        if bad.any():
            viol.append(
                Violation(name, RULE_CODES, _ids(labels, bad),
                          f"code(s) {_fmt_values(values[bad])} not among the declared codes "
                          f"{sorted(allowed)}")
            )
            flagged |= bad

    values[flagged] = np.nan
    if var.type in INTEGER_TYPES:
        out_series = pd.Series(pd.arrays.FloatingArray(values, np.isnan(values)), index=col.index).astype("Int64")
    else:
        out_series = pd.Series(values, index=col.index, dtype="float64")
    return out_series, viol, flagged


def _parse_text_date(text: str, formats: tuple[str, ...]) -> pd.Timestamp | None:
    """A text date by the declared strptime formats (in order), else ISO 8601 (YYYY-MM-DD); None if neither."""
    for fmt in formats:
        try:
            return pd.Timestamp(_dt.datetime.strptime(text, fmt)).as_unit("ns")
        except ValueError:
            continue
    if formats:
        return None
    try:
        return pd.Timestamp(pd.to_datetime(text, format="ISO8601")).as_unit("ns")
    except (ValueError, TypeError):
        return None


def _clean_date(
    var: Variable, col: pd.Series, labels: Sequence[str], meta: dict | None
) -> tuple[pd.Series, list[Violation], np.ndarray]:
    """date: datetime64[ns] with NaT; text that is not a date, or a bare number, is a type error."""
    name = var.name
    fmt = (meta or {}).get("format")
    viol: list[Violation] = []
    n = len(col)
    bad = np.zeros(n, dtype=bool)
    bad_values: list[Any] = []
    bad_letter = np.zeros(n, dtype=bool)
    declared_letters = set(var.stata_missing_codes)
    out = None
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        try:
            ser = col.dt.tz_localize(None) if getattr(col.dt, "tz", None) is not None else col
            out = pd.Series(ser.to_numpy(dtype="datetime64[ns]", copy=True), index=col.index)  # never the input
        except (ValueError, OverflowError):  # e.g. datetime64[s] outside the ns range: cell by cell
            col = col.astype(object)
    if out is None:
        cells: list[Any] = []
        for i, x in enumerate(col.tolist()):
            if _is_blank(x):
                cells.append(pd.NaT)
                continue
            if isinstance(x, (pd.Timestamp, _dt.datetime, _dt.date, np.datetime64)):
                try:
                    cells.append(pd.Timestamp(x).tz_localize(None).as_unit("ns"))
                    continue
                except (ValueError, OverflowError):  # before 1677 or after 2262: not a plausible date
                    pass
            if isinstance(x, str):
                s = x.strip()
                m = _STATA_LETTER.match(s)
                if m and fmt not in SPSS_FORMATS:
                    if m.group(1) not in declared_letters:
                        bad_letter[i] = True
                    cells.append(pd.NaT)
                    continue
                parsed = _parse_text_date(s, var.formats)
                if parsed is not None:
                    cells.append(parsed)
                    continue
            bad[i] = True
            bad_values.append(x)
            cells.append(pd.NaT)
        out = pd.Series(pd.to_datetime(pd.Series(cells, dtype="object"), utc=False), index=col.index)
        out = out.astype("datetime64[ns]")
        if bad.any():
            if all(isinstance(v, (int, float, np.integer, np.floating)) for v in bad_values):
                kind = ("a number where a date is expected: the file gives this column no date format "
                        f"({(meta or {}).get('variable_formats', {}).get(name, 'none')}); give it one in "
                        "the export, or export the dates as text and declare their formats:")
            elif var.formats:
                kind = f"text that matches none of the declared formats {list(var.formats)}"
            else:
                kind = ("not a date (text dates other than YYYY-MM-DD need `formats:` in the codebook, "
                        "e.g. [\"%d/%m/%Y\"]; or a date outside 1677-2262)")
            viol.append(Violation(name, RULE_TYPE, _ids(labels, bad),
                                  f"{kind}: {_fmt_values(bad_values)}"))
        if bad_letter.any():
            viol.append(Violation(name, RULE_MISSING_NOT_IN_CODEBOOK, _ids(labels, bad_letter),
                                  "Stata extended missing value not declared in the codebook"))
    if var.range is not None:
        lo, hi = _to_bound(var.range[0], True), _to_bound(var.range[1], True)
        known = out.notna().to_numpy() & ~bad & ~bad_letter
        v = out.to_numpy()
        outside = known & (((v < np.datetime64(lo)) if lo is not None else False)
                           | ((v > np.datetime64(hi)) if hi is not None else False))
        if outside.any():
            viol.append(Violation(name, RULE_RANGE, _ids(labels, outside),
                                  f"date(s) {_fmt_values(out[outside])} outside the range "
                                  f"[{var.range[0] or 'open'}, {var.range[1] or 'open'}]"))
            out[outside] = pd.NaT
    flagged = bad | bad_letter
    if var.range is not None:
        flagged = flagged | outside
    out[flagged] = pd.NaT
    return out.dt.normalize(), viol, flagged  # a datetime (SPSS DATETIME, Stata %tc) counts by its day


def _clean_text_codes(
    var: Variable, col: pd.Series, labels: Sequence[str]
) -> tuple[pd.Series, list[Violation], np.ndarray]:
    """categorical/boolean with text codes (M/F, Yes/No): declared codes kept as text, missing -> <NA>."""
    missing = set(var.text_missing_codes)
    allowed = set(var.valid_codes)
    n = len(col)

    def cell(x: Any) -> tuple[Any, bool]:
        """(the clean cell, whether it breaks the rule)."""
        if _is_blank(x):
            return pd.NA, False
        s = _fmt_value(x).strip()
        if s in missing:
            return pd.NA, False
        if s in allowed:
            return s, False
        return pd.NA, True

    if _interchangeable(col):  # each distinct cell judged once
        rows, distinct = pd.factorize(col, use_na_sentinel=True)
        judged = [cell(x) for x in distinct] + [(pd.NA, False)]
        table = np.empty(len(judged), dtype=object)
        table[:] = [c for c, _ in judged]
        bad = np.array([b for _, b in judged], dtype=bool)[rows]
        cells: Any = table[rows]
        bad_values = col[bad].tolist() if bad.any() else []
    else:
        bad = np.zeros(n, dtype=bool)
        bad_values = []
        cells = []
        for i, x in enumerate(col.tolist()):
            c, b = cell(x)
            cells.append(c)
            if b:
                bad[i] = True
                bad_values.append(x)
    viol = []
    if bad.any():
        viol.append(Violation(var.name, RULE_CODES, _ids(labels, bad),
                              f"code(s) {_fmt_values(bad_values)} not among the declared codes {sorted(allowed)}"))
    return pd.Series(pd.array(cells, dtype="string"), index=col.index), viol, bad


def _compose(var: Variable, clean: dict[str, pd.Series], n: int) -> pd.Series:
    """A composite variable from clean ones: a code by whether a date is present, or the first known date."""
    spec = var.compose or {}
    if "first_of" in spec:
        out = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
        for name in spec["first_of"]:
            out = out.fillna(clean[name])
        return out
    present = clean[spec["if_present"]].notna().to_numpy(dtype=bool)
    choice = np.empty(2, dtype=object)
    choice[:] = [spec["else"], spec["then"]]
    cells = choice[present.astype(np.intp)]
    if var.string_codes:
        return pd.Series(pd.array(cells, dtype="string"))
    return pd.Series(pd.array(cells, dtype="Int64"))


def _clean_string(var: Variable, col: pd.Series) -> pd.Series:
    """string: pandas 'string' dtype; blanks and declared string missing codes -> <NA>."""
    str_missing = {str(c) for c in var.missing_codes}
    if _text_only(col):  # column-wise string operations (a registry's 10^6 IDs)
        text = col.astype(object)
        known = text.notna()
        kept = text[known]
        rstripped = kept.str.rstrip()
        blank = kept.str.strip().isin(["", "."]) | rstripped.isin(list(str_missing))
        cells = pd.Series(pd.NA, index=col.index, dtype=object)
        cells[known] = rstripped.where(~blank, pd.NA)
        return pd.Series(pd.array(cells.to_numpy(), dtype="string"), index=col.index)
    cells = [pd.NA if _is_blank(x) or (isinstance(x, str) and x.rstrip() in str_missing)
             else (_fmt_value(x) if not isinstance(x, str) else x.rstrip()) for x in col.tolist()]
    return pd.Series(pd.array(cells, dtype="string"), index=col.index)


# --------------------------------------------------------------------------- cross-checks


def _label_key(text: Any) -> str:
    return " ".join(str(text).split()).casefold()


def value_label_conflicts(codebook: Codebook, meta: dict | None) -> list[Violation]:
    """The file's own value labels against the codebook's: a code labelled differently is refused, both shown."""
    out = []
    for name, file_labels in ((meta or {}).get("value_labels") or {}).items():
        var = codebook.variables.get(name)
        if var is None or not var.codes:
            continue
        ours = {str(k): lbl for k, lbl in var.codes.items()}
        clash = [f"code {code}: file '{lbl}', codebook '{ours[str(code)]}'"
                 for code, lbl in file_labels.items()
                 if str(code) in ours and _label_key(lbl) != _label_key(ours[str(code)])]
        if clash:
            truncated = any(ours.get(str(code), "").startswith(lbl) and not ours[str(code)].isascii()
                            for code, lbl in file_labels.items() if str(code) in ours)
            hint = ("; the file's label stops where the codebook's has a non-ASCII character: a legacy "
                    "export needs its character set declared in the codebook, e.g. `encoding: latin-1`"
                    if truncated else "; correct the codebook's codes or labels to the export's")
            out.append(Violation(name, RULE_VALUE_LABELS, (),
                                 "the file's value labels contradict the codebook's (" + "; ".join(clash) +
                                 ")" + hint))
    return out


def plausibility_violations(clean: Mapping[str, pd.Series], codebook: Codebook, labels: Sequence[str],
                            today: pd.Timestamp | None = None) -> list[Violation]:
    """Every date from 1900 to the data cut-off (codebook) or the run date; age 0 to max_age_years (110) at every date after birth."""
    today = (today or pd.Timestamp.now()).normalize()
    last, last_name = today, "the run date"
    if codebook.data_cutoff is not None and pd.Timestamp(codebook.data_cutoff) < today:
        last, last_name = pd.Timestamp(codebook.data_cutoff), "the data cut-off"
    out = []
    dates = [n for n, v in codebook.variables.items() if v.type == "date" and n in clean]
    for name in dates:
        d = clean[name]
        bad = ((d < EARLIEST_DATE) | (d > last)).fillna(False).to_numpy(dtype=bool)
        if bad.any():
            out.append(Violation(name, RULE_PLAUSIBLE_DATE, _ids(labels, bad),
                                 f"date(s) {_fmt_values(d[bad])} before {EARLIEST_DATE.date()} or after "
                                 f"{last_name} {last.date()}"))
    born = codebook.birth_variable
    if born in clean:
        for name in dates:
            if name == born:
                continue
            years = (clean[name] - clean[born]).dt.days / 365.25
            bad = ((years < 0) | (years > codebook.max_age_years)).fillna(False).to_numpy(dtype=bool)
            if bad.any():
                out.append(Violation(name, RULE_AGE, _ids(labels, bad),
                                     f"age at {name} outside 0-{codebook.max_age_years:g} years "
                                     f"({_fmt_values(years[bad].round(1))})"))
    return out


# --------------------------------------------------------------------------- public API


def validate(raw: pd.DataFrame, codebook: Codebook, source: str, meta: dict | None = None) -> pd.DataFrame:
    """Check a RAW frame against its codebook and return the CLEAN frame, or raise every violation."""
    if not raw.index.equals(pd.RangeIndex(len(raw))):  # rows by position (no copy when they are already)
        raw = raw.reset_index(drop=True)
    labels = _patient_labels(raw, codebook.id_variable)
    violations: list[Violation] = []
    clean: dict[str, pd.Series] = {}

    extra = [c for c in raw.columns if c not in codebook.variables]
    if extra:
        log.info("%s: %d column(s) not in the codebook, ignored: %s", source, len(extra), ", ".join(map(str, extra)))
    if len(raw) < codebook.min_rows:
        violations.append(Violation("(file)", RULE_ROWS, (),
                                    f"the file has {len(raw)} row(s); the analyses need at least "
                                    f"{codebook.min_rows} (codebook min_rows)"))
    violations += value_label_conflicts(codebook, meta)

    composite = {n: v for n, v in codebook.variables.items() if v.compose is not None}
    for name, var in codebook.variables.items():
        if name in composite:
            continue
        if name not in raw.columns:
            column = f" (column '{var.column}')" if var.source else ""
            violations.append(Violation(name, RULE_PRESENT, (),
                                        f"declared in the codebook{column} but not in the file"))
            continue
        col = raw[name]
        v: list[Violation] = []
        reported = np.zeros(len(raw), dtype=bool)  # cells already reported under another rule
        if var.type == "string":
            clean[name] = _clean_string(var, col)
        elif var.type == "date":
            clean[name], v, reported = _clean_date(var, col, labels, meta)
        elif var.string_codes:
            clean[name], v, reported = _clean_text_codes(var, col, labels)
        else:
            clean[name], v, reported = _clean_numeric(var, col, labels, meta)
        violations += v
        if name == codebook.id_variable:
            continue
        if not var.nullable:
            null = clean[name].isna().to_numpy() & ~reported
            if null.any():
                violations.append(Violation(name, RULE_NOT_NULL, _ids(labels, null),
                                            "value is missing (or a missing code) but the codebook says "
                                            "nullable: false"))
    for name, var in composite.items():
        refs = var.compose.get("first_of") or [var.compose["if_present"]]
        if all(r in clean for r in refs):
            clean[name] = _compose(var, clean, len(raw)).set_axis(raw.index)
            if not var.nullable and clean[name].isna().any():
                null = clean[name].isna().to_numpy()
                violations.append(Violation(name, RULE_NOT_NULL, _ids(labels, null),
                                            f"none of {refs} is known"))
    violations += plausibility_violations(clean, codebook, labels)

    idv = codebook.id_variable
    if idv in clean:
        ids = clean[idv]
        null = ids.isna().to_numpy()
        if null.any():
            violations.append(Violation(idv, RULE_NOT_NULL, _ids(labels, null), "patient ID is missing"))
        dup = ids.duplicated(keep=False).to_numpy() & ~null
        if dup.any():
            dup_ids = tuple(dict.fromkeys(labels[i] for i in np.flatnonzero(dup)))
            violations.append(Violation(idv, RULE_UNIQUE_ID, dup_ids,
                                        f"{int(dup.sum())} rows share {len(dup_ids)} patient ID(s)"))

    for order in codebook.date_order:
        if order.earlier not in clean or order.later not in clean:
            continue
        a, b = clean[order.earlier], clean[order.later]
        both = (a.notna() & b.notna()).to_numpy()
        wrong = both & ((a >= b) if order.strict else (a > b)).fillna(False).to_numpy(dtype=bool)
        if wrong.any():
            rel = "after" if order.strict else "on or after"
            pairs = "; ".join(f"{labels[i]}: {order.earlier} {_fmt_value(a.iloc[i])}, {order.later} "
                              f"{_fmt_value(b.iloc[i])}" for i in np.flatnonzero(wrong)[:_MAX_VALUES_SHOWN])
            violations.append(Violation(order.later, RULE_DATE_ORDER, _ids(labels, wrong),
                                        f"{order.later} must be {rel} {order.earlier} ({pairs})"))

    if violations:
        raise ValidationError(file=source, violations=violations)
    return pd.DataFrame(clean, columns=list(codebook.variables))


def validation_report(raw: pd.DataFrame, codebook: Codebook, source: str, meta: dict | None = None) -> dict:
    """JSON-serialisable summary for the log: rows, extra/missing columns, missing counts per variable."""
    variables: dict[str, Any] = {}
    for name, var in codebook.variables.items():
        if name not in raw.columns:
            continue
        if _text_only(raw[name]):  # column-wise (10^6 distinct IDs): text is never a numeric code
            text = raw[name][raw[name].notna()].astype(object).str.strip()
            blanks = len(raw) - len(text) + int(text.isin(["", "."]).sum())
            codes = {_fmt_value(code): int((text.str.lstrip(".") == code.lstrip(".")).sum())
                     if isinstance(code, str) else 0 for code in var.missing_codes}
            variables[name] = {"type": var.type, "n_system_missing": int(blanks), "n_missing_codes": codes,
                               "n_missing": int(blanks + sum(codes.values()))}
            continue
        # each distinct cell counted once, times how many rows hold it (NaN, None, <NA>, NaT: blank)
        distinct, counts, n_na = _distinct_counts(raw[name])
        blanks = n_na + sum(int(c) for x, c in zip(distinct, counts) if _is_blank(x))
        codes: dict[str, int] = {}
        for code in var.missing_codes:
            if isinstance(code, str):
                letter = code.lstrip(".")
                k = sum(int(c) for x, c in zip(distinct, counts)
                        if isinstance(x, str) and x.strip().lstrip(".") == letter)
            else:
                k = sum(int(c) for x, c in zip(distinct, counts)
                        if isinstance(x, (int, float, np.integer, np.floating)) and not _is_blank(x)
                        and float(x) == float(code))
            codes[_fmt_value(code)] = int(k)
        variables[name] = {
            "type": var.type,
            "n_system_missing": int(blanks),
            "n_missing_codes": codes,
            "n_missing": int(blanks + sum(codes.values())),
        }
    return {
        "file": source,
        "format": (meta or {}).get("format"),
        "n_rows": int(len(raw)),
        "n_columns": int(raw.shape[1]),
        "missing_variables": [n for n in codebook.read_variables if n not in raw.columns],
        "extra_columns": [str(c) for c in raw.columns if c not in codebook.variables],
        "variables": variables,
    }


def _write_validated(clean: pd.DataFrame, report: dict, out_clean_parquet: str | os.PathLike[str],
                     out_report_json: str | os.PathLike[str] | None, extra: list[tuple[Any, Any]] = ()) -> None:
    """Write the CLEAN parquet, the report and any extra (path, writer) outputs, all or none."""
    from nenbone.io.files import atomic_paths, json_bytes, write_parquet_to

    outs: list[Any] = [out_clean_parquet] + ([out_report_json] if out_report_json is not None else [])
    outs += [p for p, _ in extra]
    with atomic_paths(*outs) as tmps:
        write_parquet_to(clean, tmps[0])
        if out_report_json is not None:
            tmps[1].write_bytes(json_bytes(report))
        for tmp, (_, writer) in zip(tmps[len(outs) - len(extra):], extra):
            writer(tmp)


def validate_ingested(
    parquet: str | os.PathLike[str],
    meta_json: str | os.PathLike[str],
    codebook: Codebook,
    out_clean_parquet: str | os.PathLike[str],
    out_report_json: str | os.PathLike[str] | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """Validate an ingested file; write the CLEAN parquet (+ report JSON) only if it passes."""
    from nenbone.io.ingest import read_ingested

    raw, meta = read_ingested(parquet, meta_json)
    source = source or str(meta.get("input_file") or parquet)
    clean = validate(raw, codebook, source, meta)
    report = {**validation_report(raw, codebook, source, meta), "input_sha256": meta.get("input_sha256"),
              "data_origin": meta.get("data_origin"), "dropped_columns": meta.get("dropped_columns", []),
              "source_columns": meta.get("source_columns", {})}
    _write_validated(clean, report, out_clean_parquet, out_report_json)
    return clean


def ingest_and_validate(
    input_path: str | os.PathLike[str],
    codebook: Codebook,
    out_raw_parquet: str | os.PathLike[str],
    out_meta_json: str | os.PathLike[str],
    out_clean_parquet: str | os.PathLike[str],
    out_report_json: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Ingest + validate in one step: all outputs are written only if the file reads AND validates."""
    from nenbone.io.files import json_bytes, write_parquet_to
    from nenbone.io.ingest import prepare_ingest, restore_raw

    frame, meta = prepare_ingest(input_path)
    raw = restore_raw(frame, meta)  # exactly what read_ingested would give back
    source = str(input_path)
    clean = validate(raw, codebook, source, meta)
    report = {**validation_report(raw, codebook, source, meta), "input_sha256": meta["input_sha256"]}
    report["file"] = meta["input_file"]  # no absolute paths in outputs (byte-identical elsewhere)
    _write_validated(clean, report, out_clean_parquet, out_report_json, extra=[
        (out_raw_parquet, lambda tmp: write_parquet_to(frame, tmp)),
        (out_meta_json, lambda tmp: tmp.write_bytes(json_bytes(meta))),
    ])
    return clean
