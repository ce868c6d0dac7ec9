"""validate(): each rule on small in-memory frames, with the tiny codebook from conftest."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from nenbone.codebook import parse_codebook
from nenbone.errors import ValidationError
from nenbone.validation import validate, validation_report

from conftest import tiny_codebook_dict

SAV_META = {"format": "sav", "missing_ranges": {"grade": [{"lo": 9, "hi": 9}], "ki67": [{"lo": 999, "hi": 999}]}}


def _violations(raw, codebook, meta=None, source="cohort.sav"):
    with pytest.raises(ValidationError) as info:
        validate(raw, codebook, source, meta)
    err = info.value
    assert err.file == source
    assert str(err).startswith(f"{source}: {len(err.violations)} validation error(s)")
    return {(v.variable, v.rule): v for v in err.violations}, err


def test_clean_frame_follows_the_contract(tiny_codebook, tiny_raw):
    clean = validate(tiny_raw.assign(extra_col=1), tiny_codebook, "mem", None)
    assert list(clean.columns) == list(tiny_codebook.variables)  # extra column dropped, codebook order
    assert str(clean["patient_id"].dtype) == "string"
    for name in ("sex", "age", "grade", "bone_mets"):
        assert str(clean[name].dtype) == "Int64", name
    assert clean["ki67"].dtype == np.float64
    assert str(clean["diagnosis_date"].dtype) == "datetime64[ns]"
    # missing codes become <NA>/NaN, never numbers
    assert clean["grade"].tolist() == [1, pd.NA, 2, 3]
    assert clean["ki67"].iloc[0] == 1.5 and clean["ki67"].iloc[1] == 12.0
    assert np.isnan(clean["ki67"].iloc[2]) and np.isnan(clean["ki67"].iloc[3])
    assert clean["death_date"].isna().tolist() == [False, True, False, True]
    assert clean["diagnosis_date"].iloc[2] == pd.Timestamp("2015-03-31")


def test_blank_string_becomes_na(tiny_codebook, tiny_raw):
    cb = parse_codebook(tiny_codebook_dict(variables={
        **tiny_codebook_dict()["variables"], "site": {"label": "Primary site", "type": "string"}}))
    clean = validate(tiny_raw.assign(site=["lung", "", "  ", None]), cb, "mem")
    assert clean["site"].tolist()[0] == "lung"
    assert clean["site"].isna().tolist() == [False, True, True, True]


def test_every_missing_variable_is_listed(tiny_codebook, tiny_raw):
    got, err = _violations(tiny_raw.drop(columns=["grade", "death_date"]), tiny_codebook)
    assert set(got) == {("grade", "present"), ("death_date", "present")}
    assert "variable 'grade': rule 'present'" in str(err)


def test_extra_columns_are_reported_not_errors(tiny_codebook, tiny_raw):
    raw = tiny_raw.assign(notes=["a", "b", "c", "d"])
    validate(raw, tiny_codebook, "mem")
    report = validation_report(raw, tiny_codebook, "mem")
    assert report["extra_columns"] == ["notes"]
    assert report["missing_variables"] == []
    assert report["n_rows"] == 4


def test_text_in_numeric_column(tiny_codebook, tiny_raw):
    raw = tiny_raw.astype({"age": object})
    raw.loc[2, "age"] = "seventy"
    raw.loc[0, "age"] = "58"  # numeric text is a number, not an error
    got, err = _violations(raw, tiny_codebook)
    assert set(got) == {("age", "type")}
    assert got[("age", "type")].patient_ids == ("P3",)
    assert "seventy" in got[("age", "type")].detail


def test_unparseable_and_numeric_dates(tiny_codebook, tiny_raw):
    raw = tiny_raw.astype({"death_date": object})
    raw.loc[0, "death_date"] = "31/02/2014"
    raw.loc[2, "death_date"] = "2016-05-04"  # ISO text parses
    got, _ = _violations(raw, tiny_codebook)
    assert set(got) == {("death_date", "type")}
    assert got[("death_date", "type")].patient_ids == ("P1",)
    raw2 = tiny_raw.assign(diagnosis_date=[14000.0, 14100.0, 14200.0, 14300.0])
    got2, _ = _violations(raw2, tiny_codebook)
    assert got2[("diagnosis_date", "type")].patient_ids == ("P1", "P2", "P3", "P4")


def test_non_whole_number_in_integer_column(tiny_codebook, tiny_raw):
    got, _ = _violations(tiny_raw.assign(age=[58, 47.5, 70, 33]), tiny_codebook)
    assert got[("age", "type")].patient_ids == ("P2",)


def test_ids_must_be_present_and_unique(tiny_codebook, tiny_raw):
    raw = tiny_raw.assign(patient_id=["P1", "P1", None, "P4"])
    got, _ = _violations(raw, tiny_codebook)
    assert set(got) == {("patient_id", "not null"), ("patient_id", "unique id")}
    assert got[("patient_id", "unique id")].patient_ids == ("P1",)
    assert got[("patient_id", "not null")].patient_ids == ("row 3",)  # 1-based row where there is no ID


def test_nullable_false(tiny_codebook, tiny_raw):
    raw = tiny_raw.assign(sex=[1, np.nan, 2, 1], diagnosis_date=pd.to_datetime(["2010-01-15", None, None, "2017-12-01"]))
    got, _ = _violations(raw, tiny_codebook)
    assert set(got) == {("sex", "not null"), ("diagnosis_date", "not null")}
    assert got[("sex", "not null")].patient_ids == ("P2",)
    assert got[("diagnosis_date", "not null")].patient_ids == ("P2", "P3")


def test_range(tiny_codebook, tiny_raw):
    got, _ = _violations(tiny_raw.assign(age=[58, 111, -3, 110]), tiny_codebook)
    assert set(got) == {("age", "range")}
    assert got[("age", "range")].patient_ids == ("P2", "P3")  # 110 is on the bound: allowed


def test_date_range():
    raw = tiny_codebook_dict()
    raw["variables"]["diagnosis_date"]["range"] = ["2002-04-01", "2018-03-31"]
    cb = parse_codebook(raw)
    frame = pd.DataFrame({"patient_id": ["A", "B", "C"], "sex": [1, 1, 2], "age": [50, 50, 50], "grade": [1, 1, 1],
                          "ki67": [1.0, 1.0, 1.0], "bone_mets": [1, 1, 1],
                          "diagnosis_date": pd.to_datetime(["2002-04-01", "2002-03-31", "2018-04-01"]),
                          "death_date": pd.to_datetime([None, None, None])})
    got, _ = _violations(frame, cb)
    assert got[("diagnosis_date", "range")].patient_ids == ("B", "C")


def test_undeclared_code_is_an_error_never_recoded(tiny_codebook, tiny_raw):
    got, err = _violations(tiny_raw.assign(grade=[1, 4, 2, 3], bone_mets=[0, 1, 2, 0]), tiny_codebook)
    assert set(got) == {("grade", "declared codes"), ("bone_mets", "declared codes")}
    assert got[("grade", "declared codes")].patient_ids == ("P2",)
    assert "4" in got[("grade", "declared codes")].detail
    assert got[("bone_mets", "declared codes")].patient_ids == ("P3",)


def test_missing_code_must_be_declared_in_the_file(tiny_codebook, tiny_raw):
    # In memory (meta=None) the codebook is the truth: 9 and 999 are missing.
    assert validate(tiny_raw, tiny_codebook, "mem", None)["grade"].isna().sum() == 1
    # Read from a .sav that declares them as user-missing: same.
    clean = validate(tiny_raw, tiny_codebook, "cohort.sav", SAV_META)
    assert clean["grade"].isna().tolist() == [False, True, False, False]
    # A .sav that does not declare grade 9 as user-missing: SPSS would count 9 as a grade.
    meta = {"format": "sav", "missing_ranges": {"ki67": [{"lo": 999, "hi": 999}]}}
    got, err = _violations(tiny_raw, tiny_codebook, meta)
    assert set(got) == {("grade", "missing code used as a number")}
    assert got[("grade", "missing code used as a number")].patient_ids == ("P2",)
    assert "rule 'missing code used as a number'" in str(err) and "P2" in str(err)
    # A missing range that covers the code also counts as a declaration.
    ok = {"format": "sav", "missing_ranges": {"grade": [{"lo": 8, "hi": 10}], "ki67": [{"lo": 999, "hi": 999}]}}
    assert validate(tiny_raw, tiny_codebook, "cohort.sav", ok)["grade"].isna().sum() == 1


def test_stata_file_cannot_declare_numeric_missing_codes(tiny_codebook, tiny_raw):
    got, _ = _violations(tiny_raw, tiny_codebook, {"format": "dta"}, source="cohort.dta")
    assert got[("grade", "missing code used as a number")].patient_ids == ("P2",)
    assert got[("ki67", "missing code used as a number")].patient_ids == ("P3",)


def test_file_missing_code_unknown_to_codebook(tiny_codebook, tiny_raw):
    meta = {**SAV_META, "missing_ranges": {**SAV_META["missing_ranges"], "age": [{"lo": 70, "hi": 70}]}}
    got, _ = _violations(tiny_raw, tiny_codebook, meta)
    assert got[("age", "missing code not in codebook")].patient_ids == ("P3",)


def test_sentinel_outside_range_is_a_missing_code_used_as_a_number(tiny_codebook, tiny_raw):
    got, _ = _violations(tiny_raw.assign(age=[58, 999, 70, 120]), tiny_codebook)
    assert got[("age", "missing code used as a number")].patient_ids == ("P2",)
    assert got[("age", "range")].patient_ids == ("P4",)  # 120 is out of range but no sentinel


def test_stata_extended_missing_letters():
    raw = tiny_codebook_dict()
    raw["variables"]["grade"] = {"label": "WHO grade", "type": "categorical", "codes": {1: "G1", 2: "G2", 3: "G3"},
                                 "missing_codes": [".a"]}
    cb = parse_codebook(raw)
    frame = pd.DataFrame({"patient_id": ["A", "B", "C"], "sex": [1, 1, 2], "age": [50, 50, 50],
                          "grade": pd.Series([1, "a", 3], dtype=object), "ki67": [1.0, 1.0, 1.0],
                          "bone_mets": [1, 1, 1], "diagnosis_date": pd.to_datetime(["2010-01-01"] * 3),
                          "death_date": pd.to_datetime([None, None, None])})
    clean = validate(frame, cb, "cohort.dta", {"format": "dta"})
    assert clean["grade"].tolist() == [1, pd.NA, 3]
    frame.loc[2, "grade"] = "b"
    got, _ = _violations(frame, cb, {"format": "dta"}, source="cohort.dta")
    assert set(got) == {("grade", "missing code not in codebook")}
    assert got[("grade", "missing code not in codebook")].patient_ids == ("C",)
    assert ".b" in got[("grade", "missing code not in codebook")].detail


def test_date_order_only_when_both_dates_known(tiny_codebook, tiny_raw):
    raw = tiny_raw.assign(death_date=pd.to_datetime(["2009-12-31", None, "2015-03-31", None]))
    got, err = _violations(raw, tiny_codebook)
    assert set(got) == {("death_date", "date order")}
    assert got[("death_date", "date order")].patient_ids == ("P1",)  # P3 same day: allowed (not strict)
    assert "diagnosis_date" in got[("death_date", "date order")].detail
    strict = tiny_codebook_dict(date_order=[{"earlier": "diagnosis_date", "later": "death_date", "strict": True}])
    got2, _ = _violations(raw, parse_codebook(strict))
    assert got2[("death_date", "date order")].patient_ids == ("P1", "P3")


def test_all_violations_reported_at_once(tiny_codebook, tiny_raw):
    raw = tiny_raw.drop(columns=["bone_mets"]).assign(
        patient_id=["P1", "P2", "P2", "P4"], grade=[5, 9, 2, 3], age=[58, 47, 170, 33],
        death_date=pd.to_datetime(["2009-01-01", None, None, None]))
    got, err = _violations(raw, tiny_codebook, SAV_META)
    assert set(got) == {("bone_mets", "present"), ("patient_id", "unique id"), ("grade", "declared codes"),
                        ("age", "range"), ("death_date", "date order")}
    assert len(err.violations) == 5
    assert got[("age", "range")].patient_ids == ("P2",)  # the second P2 row


def test_validation_report_counts(tiny_codebook, tiny_raw):
    report = validation_report(tiny_raw, tiny_codebook, "cohort.sav", SAV_META)
    json.dumps(report)  # JSON-serialisable
    assert report["format"] == "sav"
    assert report["variables"]["grade"]["n_missing_codes"] == {"9": 1}
    assert report["variables"]["ki67"] == {"type": "numeric", "n_system_missing": 1,
                                           "n_missing_codes": {"999": 1}, "n_missing": 2}
    assert report["variables"]["death_date"]["n_system_missing"] == 2


def test_implausible_date_is_a_type_error_not_a_crash(tiny_codebook, tiny_raw):
    import datetime as dt

    # SPSS day 0 (1582-10-14) cannot be a pandas datetime64[ns]: reported, not a traceback
    raw = tiny_raw.assign(death_date=pd.Series([dt.date(1582, 10, 14), None, None, None], dtype=object))
    got, _ = _violations(raw, tiny_codebook)
    assert set(got) == {("death_date", "type")}
    assert got[("death_date", "type")].patient_ids == ("P1",)
    assert "1582-10-14" in got[("death_date", "type")].detail


def test_validation_leaves_its_input_unchanged_and_names_only_failing_rows(tiny_raw):
    """Rows already by position are not copied, so the input must not be written into: a date out of
    range, a number out of range and a text column are refused, the input frame stays as it was, and the
    violations name exactly the failing patients (labels are formatted for those rows only)."""
    vars_ = tiny_codebook_dict()["variables"]
    cb = parse_codebook(tiny_codebook_dict(variables={
        **vars_, "diagnosis_date": {**vars_["diagnosis_date"], "range": ["2011-01-01", None]},
        "site": {"label": "Primary site", "type": "string"}}))
    raw = tiny_raw.assign(site=["lung ", " gut", "", None], age=[58, 47, 170, 33])
    before = raw.copy(deep=True)
    got, _ = _violations(raw, cb)
    pd.testing.assert_frame_equal(raw, before)
    assert got[("diagnosis_date", "range")].patient_ids == ("P1",)
    assert got[("age", "range")].patient_ids == ("P3",)
