"""write_raw / read_raw / ingest: labels, value labels, user-missing codes and dates survive, checked
with pyreadstat's own metadata; rewrites are byte-identical; .zsav and .por are readable."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from nenbone.codebook import parse_codebook
from nenbone.io.files import sha256_file
from nenbone.io.ingest import ingest, read_ingested
from nenbone.io.spss_stata import read_raw, write_raw
from nenbone.validation import validate

from conftest import tiny_codebook_dict

DIAG = [dt.date(2010, 1, 15), dt.date(2012, 6, 1), dt.date(2015, 3, 31), dt.date(2017, 12, 1)]


def _stata_codebook():
    raw = tiny_codebook_dict(source_format="dta")
    raw["variables"]["grade"] = {"label": "WHO grade", "type": "categorical",
                                 "codes": {1: "G1", 2: "G2", 3: "G3"}, "missing_codes": [".a"]}
    raw["variables"]["ki67"] = {"label": "Ki-67 index", "type": "numeric", "range": [0, 100]}
    return parse_codebook(raw)


@pytest.fixture
def stata_raw(tiny_raw):
    return tiny_raw.assign(grade=pd.Series([1, "a", 2, 3], dtype=object), ki67=[1.5, 12.0, np.nan, np.nan])


def _sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_sav_roundtrip_keeps_labels_missing_codes_and_dates(tmp_path, tiny_codebook, tiny_raw):
    path = write_raw(tiny_raw, tmp_path / "cohort.sav", tiny_codebook)
    df, meta = pyreadstat.read_sav(str(path), user_missing=True)
    assert meta.column_names_to_labels["grade"] == "WHO grade"
    assert meta.column_names_to_labels["diagnosis_date"] == "Date of NEN diagnosis"
    assert meta.variable_value_labels["grade"] == {1.0: "G1", 2.0: "G2", 3.0: "G3", 9.0: "Unknown"}
    assert meta.variable_value_labels["sex"] == {1.0: "Male", 2.0: "Female"}
    assert meta.missing_ranges["grade"] == [{"lo": 9.0, "hi": 9.0}]
    assert meta.missing_ranges["ki67"] == [{"lo": 999.0, "hi": 999.0}]
    assert meta.original_variable_types["diagnosis_date"] == "EDATE10"  # dd.mm.yyyy
    assert meta.file_label == "Tiny test cohort"
    assert df["grade"].tolist() == [1.0, 9.0, 2.0, 3.0]  # user-missing code visible as its number
    assert df["diagnosis_date"].tolist() == DIAG
    # Without user_missing, SPSS semantics: 9 and 999 are missing.
    plain, _ = pyreadstat.read_sav(str(path))
    assert plain["grade"].isna().tolist() == [False, True, False, False]
    assert plain["ki67"].isna().tolist() == [False, False, True, True]
    # SPSS stores dates as seconds since 1582-10-14.
    secs, _ = pyreadstat.read_sav(str(path), disable_datetime_conversion=True)
    assert secs["diagnosis_date"].iloc[0] == (dt.date(2010, 1, 15) - dt.date(1582, 10, 14)).days * 86400
    # read_raw gives the same, plus a JSON-serialisable meta
    raw, rmeta = read_raw(path)
    json.dumps(rmeta)
    assert rmeta["format"] == "sav" and rmeta["n_rows"] == 4
    assert rmeta["missing_ranges"]["grade"] == [{"lo": 9, "hi": 9}]
    assert rmeta["value_labels"]["grade"]["9"] == "Unknown"
    assert rmeta["variable_labels"]["age"] == "Age at diagnosis"
    assert str(raw["diagnosis_date"].dtype) == "datetime64[ns]"
    assert raw["death_date"].isna().tolist() == [False, True, False, True]
    clean = validate(raw, tiny_codebook, "cohort.sav", rmeta)
    assert clean["grade"].isna().tolist() == [False, True, False, False]


def test_dta_roundtrip_keeps_labels_extended_missing_and_dates(tmp_path, stata_raw):
    cb = _stata_codebook()
    path = write_raw(stata_raw, tmp_path / "cohort.dta", cb)
    assert open(path, "rb").read(64).startswith(b"<stata_dta><header><release>118</release>")
    df, meta = pyreadstat.read_dta(str(path), user_missing=True)
    assert meta.column_names_to_labels["grade"] == "WHO grade"
    assert meta.variable_value_labels["grade"] == {1: "G1", 2: "G2", 3: "G3"}
    assert meta.missing_user_values["grade"] == ["a"]
    assert meta.original_variable_types["diagnosis_date"] == "%td"
    assert meta.readstat_variable_types["grade"] in ("int8", "int16", "int32")  # labels on integer codes
    assert df["grade"].tolist() == [1, "a", 2, 3]
    assert df["diagnosis_date"].tolist() == DIAG
    plain, _ = pyreadstat.read_dta(str(path))
    assert plain["grade"].isna().tolist() == [False, True, False, False]
    days, _ = pyreadstat.read_dta(str(path), disable_datetime_conversion=True)
    assert days["diagnosis_date"].tolist() == [(d - dt.date(1960, 1, 1)).days for d in DIAG]
    raw, rmeta = read_raw(path)
    assert rmeta["format"] == "dta" and rmeta["stata_missing_letters"] == {"grade": ["a"]}
    clean = validate(raw, cb, "cohort.dta", rmeta)
    assert clean["grade"].tolist() == [1, pd.NA, 2, 3]
    assert clean["diagnosis_date"].dt.date.tolist() == DIAG


def test_dta_date_with_extended_missing(tmp_path, stata_raw):
    raw = _stata_codebook_dict_with_date_letter()
    cb = parse_codebook(raw)
    frame = stata_raw.assign(death_date=pd.Series([pd.Timestamp("2014-02-01"), "b", None, None], dtype=object))
    path = write_raw(frame, tmp_path / "d.dta", cb)
    back, meta = read_raw(path)
    assert back["death_date"].tolist()[:2] == [pd.Timestamp("2014-02-01"), "b"]
    assert meta["stata_missing_letters"]["death_date"] == ["b"]
    assert validate(back, cb, "d.dta", meta)["death_date"].isna().tolist() == [False, True, True, True]


def _stata_codebook_dict_with_date_letter():
    raw = tiny_codebook_dict(source_format="dta")
    raw["variables"]["grade"] = {"label": "WHO grade", "type": "categorical", "codes": {1: "G1", 2: "G2", 3: "G3"},
                                 "missing_codes": [".a"]}
    raw["variables"]["ki67"] = {"label": "Ki-67 index", "type": "numeric"}
    raw["variables"]["death_date"] = {"label": "Date of death", "type": "date", "missing_codes": [".b"]}
    return raw


@pytest.mark.parametrize("suffix", [".sav", ".zsav", ".dta"])
def test_rewrites_are_byte_identical_and_timestamp_fixed(tmp_path, monkeypatch, suffix, tiny_codebook, tiny_raw,
                                                         stata_raw):
    frame, cb = (stata_raw, _stata_codebook()) if suffix == ".dta" else (tiny_raw, tiny_codebook)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    a = write_raw(frame, tmp_path / f"a{suffix}", cb)
    if suffix == ".sav":
        time.sleep(1.05)  # ReadStat's own stamp has 1 s resolution: make sure the clock moved
    monkeypatch.setenv("TZ", "Pacific/Auckland")
    time.tzset()
    try:
        b = write_raw(frame, tmp_path / f"b{suffix}", cb)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert _sha(a) == _sha(b)
    head = open(a, "rb").read(400)
    if suffix == ".dta":
        assert b"<timestamp>\x1101 Jan 1970 00:00</timestamp>" in head
    else:
        assert head[92:109] == b"01 Jan 7000:00:00"
    # SOURCE_DATE_EPOCH is honoured; 1700000000 s = 2023-11-14 22:13:20 UTC
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    c = write_raw(frame, tmp_path / f"c{suffix}", cb)
    head = open(c, "rb").read(400)
    expect = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=1_700_000_000)
    if suffix == ".dta":
        assert f"<timestamp>\x11{expect:%d %b %Y %H:%M}</timestamp>".encode() in head
    else:
        assert head[92:109] == f"{expect:%d %b %y%H:%M:%S}".encode()
    reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
    stamped = reader(str(c), metadataonly=True)[1].creation_time  # ReadStat parses our stamp back
    assert stamped == (expect.replace(second=0) if suffix == ".dta" else expect)


def test_readstat_stamps_the_wall_clock_which_is_why_we_patch(tmp_path):
    """Documents the problem the header patch solves: pyreadstat alone writes today's local date."""
    path = tmp_path / "plain.sav"
    pyreadstat.write_sav(pd.DataFrame({"x": [1.0]}), str(path))
    today = dt.datetime.now()
    assert open(path, "rb").read(101)[92:101] == f"{today:%d %b %y}".encode()


def test_zsav_and_por_are_readable(tmp_path, tiny_codebook, tiny_raw):
    z = write_raw(tiny_raw, tmp_path / "cohort.zsav", tiny_codebook)
    assert open(z, "rb").read(4) == b"$FL3"
    zdf, zmeta = read_raw(z)
    sdf, _ = read_raw(write_raw(tiny_raw, tmp_path / "cohort.sav", tiny_codebook))
    pd.testing.assert_frame_equal(zdf, sdf)
    assert zmeta["format"] == "zsav" and zmeta["missing_ranges"]["grade"] == [{"lo": 9, "hi": 9}]
    # .por: ReadStat writes it (names upper-cased, no labels or missing values), reads it back
    por = tmp_path / "cohort.por"
    pyreadstat.write_por(pd.DataFrame({"pid": ["P1", "P2"], "grade": [1.0, 9.0],
                                       "dxdate": [dt.date(2010, 1, 15), None]}),
                         str(por), variable_format={"dxdate": "DATE11"})
    pdf, pmeta = read_raw(por)
    assert pmeta["format"] == "por"
    assert list(pdf.columns) == ["PID", "GRADE", "DXDATE"]  # portable files keep upper-case names
    assert pdf["GRADE"].tolist() == [1.0, 9.0]
    assert pdf["DXDATE"].iloc[0] == pd.Timestamp("2010-01-15") and pd.isna(pdf["DXDATE"].iloc[1])


def test_ingest_roundtrip_is_deterministic_and_keeps_codes(tmp_path, stata_raw):
    cb = _stata_codebook()
    src = write_raw(stata_raw, tmp_path / "in" / "cohort.dta", cb)
    before = (sha256_file(src), os.stat(src).st_mtime_ns)
    m1 = ingest(src, tmp_path / "o1" / "raw.parquet", tmp_path / "o1" / "raw.json")
    m2 = ingest(src, tmp_path / "o2" / "raw.parquet", tmp_path / "o2" / "raw.json")
    assert (sha256_file(src), os.stat(src).st_mtime_ns) == before  # input untouched
    assert _sha(tmp_path / "o1" / "raw.parquet") == _sha(tmp_path / "o2" / "raw.parquet")
    assert _sha(tmp_path / "o1" / "raw.json") == _sha(tmp_path / "o2" / "raw.json")
    assert m1 == m2
    meta = json.loads((tmp_path / "o1" / "raw.json").read_text())
    assert meta["input_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert meta["input_file"] == "cohort.dta" and meta["n_rows"] == 4
    assert meta["stata_missing_cells"] == {"grade": {"a": [1]}}
    assert meta["value_labels"]["grade"] == {"1": "G1", "2": "G2", "3": "G3"}
    text = (tmp_path / "o1" / "raw.json").read_text()
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    frame, meta2 = read_ingested(tmp_path / "o1" / "raw.parquet", tmp_path / "o1" / "raw.json")
    assert frame["grade"].tolist() == [1, "a", 2, 3]
    assert frame["diagnosis_date"].dt.date.tolist() == DIAG
    assert validate(frame, cb, "cohort.dta", meta2)["grade"].tolist() == [1, pd.NA, 2, 3]
    assert sorted(p.name for p in (tmp_path / "o1").iterdir()) == ["raw.json", "raw.parquet"]


def test_ingest_sav_keeps_user_missing_codes_as_codes(tmp_path, tiny_codebook, tiny_raw):
    src = write_raw(tiny_raw, tmp_path / "cohort.sav", tiny_codebook)
    ingest(src, tmp_path / "raw.parquet", tmp_path / "raw.json")
    frame = pd.read_parquet(tmp_path / "raw.parquet")
    assert frame["grade"].tolist() == [1.0, 9.0, 2.0, 3.0]
    assert frame["ki67"].tolist()[:3] == [1.5, 12.0, 999.0]


def _read_with_pyreadstat_dates(path, monkeypatch):
    """read_raw as it was before the column-wise date read: pyreadstat converts every date cell."""
    import nenbone.io.spss_stata as spss_stata

    with monkeypatch.context() as m:
        m.setattr(spss_stata, "_read_sav_columnwise", lambda *args: None)
        return read_raw(path)


@pytest.mark.parametrize("suffix", [".sav", ".zsav"])
def test_columnwise_spss_dates_equal_pyreadstats_own(tmp_path, monkeypatch, suffix, tiny_codebook, tiny_raw):
    """The registry-scale read (dates converted per column) gives the frame and meta of pyreadstat's
    per-cell conversion: a day before 1970 and missing dates."""
    raw = tiny_raw.copy()
    raw["diagnosis_date"] = pd.to_datetime(["1955-07-04", "2012-06-01", "1999-12-31", "2017-12-01"])
    path = write_raw(raw, tmp_path / f"cohort{suffix}", tiny_codebook)
    ours, ours_meta = read_raw(path)
    theirs, theirs_meta = _read_with_pyreadstat_dates(path, monkeypatch)
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    assert json.dumps(ours_meta, sort_keys=True) == json.dumps(theirs_meta, sort_keys=True)
    assert ours["diagnosis_date"].dt.strftime("%Y-%m-%d").tolist() == ["1955-07-04", "2012-06-01", "1999-12-31",
                                                                       "2017-12-01"]
    assert ours["death_date"].isna().tolist() == [False, True, False, True]


def test_columnwise_spss_dates_fall_back_outside_the_nanosecond_range(tmp_path, monkeypatch):
    """A date column holding SPSS 0 (1582-10-14) or only missing cells is read the ordinary way; one
    holding a time within the day is read column-wise, to the same calendar day as pyreadstat's."""
    import nenbone.io.spss_stata as spss_stata

    secs = (dt.date(2010, 1, 15) - dt.date(1582, 10, 14)).days * 86400.0
    for name, values, fallback in (("zero", [0.0, secs], True), ("empty", [float("nan"), float("nan")], True),
                                   ("within_day", [secs + 86399.5, secs - 1.0], False)):
        path = tmp_path / f"{name}.sav"
        pyreadstat.write_sav(pd.DataFrame({"id": ["A", "B"], "d": values}), str(path),
                             variable_format={"d": "EDATE10"})
        assert (spss_stata._read_sav_columnwise(pyreadstat, path, {"user_missing": True}) is None) == fallback
        ours, _ = read_raw(path)
        theirs, _ = _read_with_pyreadstat_dates(path, monkeypatch)
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
