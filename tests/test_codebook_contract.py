"""The codebook as contract: meanings, text codes, text dates, composites, plausibility (unit level)."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import tiny_codebook_dict
from nenbone.codebook import parse_codebook
from nenbone.derive import empty_groups
from nenbone.errors import ConfigError, InputFileError, ValidationError
from nenbone.io.ingest import declared_only
from nenbone.io.spss_stata import stata_dates_as_dates
from nenbone.validation import validate


def book(**variables):
    raw = tiny_codebook_dict()
    raw["variables"].update(variables)
    return parse_codebook(raw, source="t.yaml")


def rules(err: ValidationError) -> dict[str, list]:
    out: dict[str, list] = {}
    for v in err.violations:
        out.setdefault(v.variable, []).append((v.rule, v.patient_ids))
    return out


def test_meanings_must_name_declared_codes_once_and_cover_every_valid_code():
    with pytest.raises(ConfigError) as err:
        book(vital={"label": "Vital", "type": "categorical", "codes": {1: "Alive", 2: "Dead", 9: "NK"},
                    "missing_codes": [9], "means": {"alive": 1, "dead": [1, 3]}})
    text = str(err.value)
    assert "meaning 'dead' lists code 3, which is not among its codes" in text
    assert "code 1 means both 'alive' and 'dead'" in text
    assert "valid code(s) [2] have no meaning" in text
    assert "[9]" not in text.split("valid code(s)")[1]  # a missing code needs no meaning


def test_one_partition_check_reports_each_break_once_by_group_and_code():
    from nenbone.codebook import GroupingProblem, grouping_problems

    groups = {"GEP": [1, 2, 8], "lung": [8, 99], "other": [2, 2], "none": None}
    assert grouping_problems(groups, known=[1, 2, 3, 8], cover=[1, 3, 8]) == [
        GroupingProblem("lung", 8, "in-two-groups", "GEP"),
        GroupingProblem("lung", 99, "unknown-code"),
        GroupingProblem("other", 2, "in-two-groups", "GEP"),
        GroupingProblem(None, 3, "in-no-group"),
    ]
    assert grouping_problems({"a": [1], "b": [1]}) == [GroupingProblem("b", 1, "in-two-groups", "a")]


def test_a_config_code_list_is_checked_against_the_codebook_by_the_same_partition():
    from nenbone.preflight import config_grouping_problems

    cb = book(site={"label": "Site", "type": "categorical", "codes": {1: "A", 2: "B", 9: "NK"}, "missing_codes": [9]})
    assert config_grouping_problems(cb, "site", {"x": [1, 9], "y": [1, 2]}, "d.groups") == [
        "config d.groups.x: code 9 is not a valid code of 'site' in the codebook (valid: [1, 2])",
        "config d.groups: code 1 of 'site' is in both 'x' and 'y'",
    ]
    assert config_grouping_problems(cb, "site", {"x": [1], "y": [2]}, "d.groups") == []
    assert config_grouping_problems(cb, "nope", {}, "d.groups") == [
        "config d.groups groups the codes of 'nope', which the codebook does not declare"]


def test_a_yaml_boolean_code_or_meaning_is_refused_with_the_fix():
    with pytest.raises(ConfigError, match=r"code True was read by YAML as a boolean; quote it"):
        book(flag={"label": "F", "type": "boolean", "codes": {True: "Yes", False: "No"}})
    with pytest.raises(ConfigError, match=r"meaning True was read by YAML as a boolean"):
        book(flag={"label": "F", "type": "boolean", "codes": {1: "Yes", 0: "No"}, "means": {True: 1, "no": 0}})


def test_codes_meaning_names_the_variable_and_what_is_missing(tiny_codebook):
    cb = book(sex={"label": "Sex", "type": "categorical", "codes": {"M": "Male", "F": "Female"},
                   "means": {"male": "M", "female": "F"}})
    assert cb.codes_meaning("sex", "female") == ("F",)
    with pytest.raises(ConfigError, match=r"variable 'grade' does not declare the meaning\(s\) 'G3'"):
        cb.codes_meaning("grade", "G3")
    assert cb.missing_meanings({"sex": ("male", "other"), "nope": ("x",)}) == [
        "variable 'sex' declares no meaning 'other' (its means: ['female', 'male'])", "variable 'nope' is not declared"]


def test_text_codes_text_dates_and_composites(tiny_raw):
    cb = book(
        sex={"label": "Sex", "type": "categorical", "codes": {"M": "Male", "F": "Female", "U": "Unknown"},
             "missing_codes": ["U"], "nullable": True},
        diagnosis_date={"label": "Dx", "type": "date", "formats": ["%d/%m/%Y", "%Y-%m-%d"], "nullable": False},
        last_seen={"label": "Last seen", "type": "date"},
        end={"label": "Death or last seen", "type": "date", "compose": {"first_of": ["death_date", "last_seen"]}},
        dead={"label": "Dead", "type": "categorical", "codes": {"A": "Alive", "D": "Dead"},
              "compose": {"if_present": "death_date", "then": "D", "else": "A"}},
    )
    raw = tiny_raw.assign(sex=["M", "F", "U", "F"], diagnosis_date=["15/1/2010", "2012-06-01", "31/3/2015", "1/12/2017"],
                          last_seen=pd.to_datetime(["2014-01-01", "2019-01-01", "2015-03-01", "2020-05-05"]))
    clean = validate(raw, cb, "t.sav")
    assert clean["sex"].tolist() == ["M", "F", pd.NA, "F"]
    assert clean["diagnosis_date"].dt.strftime("%Y-%m-%d").tolist() == ["2010-01-15", "2012-06-01", "2015-03-31",
                                                                         "2017-12-01"]
    assert clean["end"].dt.strftime("%Y-%m-%d").tolist() == ["2014-02-01", "2019-01-01", "2015-03-31", "2020-05-05"]
    assert clean["dead"].tolist() == ["D", "A", "D", "A"]
    bad = raw.assign(sex=["M", "X", "F", "F"], diagnosis_date=["15/1/2010", "2012/06/01", "31/3/2015", "1/12/2017"])
    with pytest.raises(ValidationError) as err:
        validate(bad, cb, "t.sav")
    found = rules(err.value)
    assert found["sex"] == [("declared codes", ("P2",))]
    assert found["diagnosis_date"][0] == ("type", ("P2",))
    assert "none of the declared formats" in str(err.value)


def test_implausible_dates_ages_and_too_few_rows_are_refused(tiny_raw):
    raw = tiny_codebook_dict()
    raw["variables"]["birth"] = {"label": "Born", "type": "date"}
    raw["birth_variable"] = "birth"
    raw["min_rows"] = 5
    cb = parse_codebook(raw, source="t.yaml")
    frame = tiny_raw.assign(birth=pd.to_datetime(["1850-01-01", "1990-01-01", "1890-01-01", "1950-01-01"]),
                            death_date=pd.to_datetime(["2014-02-01", None, "2100-01-01", None]))
    with pytest.raises(ValidationError) as err:
        validate(frame, cb, "t.sav")
    found = rules(err.value)
    assert ("enough rows", ()) in found["(file)"] and "4 row(s)" in str(err.value)
    assert ("plausible date", ("P1", "P3")) in found["birth"]  # 1850 and 1890: before 1900
    assert ("plausible date", ("P3",)) in found["death_date"]
    assert ("plausible age", ("P1", "P3")) in found["diagnosis_date"]  # 160 and 125 years at diagnosis
    with pytest.raises(ValidationError, match="the file has 0 row"):
        validate(frame.iloc[:0], cb, "t.sav")
    raw["data_cutoff"] = "2014-12-31"
    with pytest.raises(ValidationError, match=r"after the data cut-off 2014-12-31") as err:
        validate(frame, parse_codebook(raw, source="t.yaml"), "t.sav")
    assert ("plausible date", ("P3", "P4")) in rules(err.value)["diagnosis_date"]  # 2015, 2017


def test_stata_custom_date_formats_are_dates():
    frame = pd.DataFrame({"d": [0.0, 13135.0], "t": [0.0, 86_400_000.0 * 2], "n": [1.0, 2.0]})
    out = stata_dates_as_dates(frame, {"d": "%tdDD/NN/CCYY", "t": "%tcDD_Mon_CCYY_HH:MM", "n": "%9.0g"})
    assert out["d"].dt.strftime("%Y-%m-%d").tolist() == ["1960-01-01", "1995-12-18"]
    assert out["t"].dt.strftime("%Y-%m-%d").tolist() == ["1960-01-01", "1960-01-03"]
    assert out["n"].tolist() == [1.0, 2.0]


def test_only_declared_columns_pass_renamed(tiny_codebook):
    raw = tiny_codebook_dict()
    raw["variables"]["sex"]["source"] = "GENDER"
    cb = parse_codebook(raw, source="t.yaml")
    frame = pd.DataFrame({"patient_id": ["A"], "GENDER": [1], "nhs_number": ["943 476 5919"]})
    meta = {"value_labels": {"GENDER": {"1": "Male"}}, "columns": list(frame.columns)}
    out, new_meta, extra = declared_only(frame, meta, cb, "drop")
    assert list(out.columns) == ["patient_id", "sex"] and extra == ["nhs_number"]
    assert new_meta["value_labels"] == {"sex": {"1": "Male"}} and new_meta["source_columns"] == {"sex": "GENDER"}
    with pytest.raises(InputFileError) as err:
        declared_only(frame, meta, cb, "error")
    assert "nhs_number" in str(err.value) and "943 476 5919" not in str(err.value)


def test_an_empty_study_group_is_named():
    flow = {"stages": [{"label": "all", "n": 3, "excluded": []}],
            "groups": [{"label": "LB", "n": 0}, {"label": "L", "n": 3}]}
    assert empty_groups(flow) == ["LB"]
