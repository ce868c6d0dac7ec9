"""Study A derivation on small hand-built CLEAN frames: every expected value worked out by hand."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

from nenbone.codebook import load_codebook
from nenbone.derive.christie import DERIVED_COLUMNS, derive
from nenbone.errors import ConfigError, ValidationError

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = load_codebook(ROOT / "config" / "codebooks" / "christie.yaml")
DPM = 30.4375

# The study's settings written out here (not read from config.yaml) so the expectations below are fixed.
SETTINGS = {
    "eligibility": {
        "diagnosis_from": "2002-04-01",
        "diagnosis_to": "2018-03-31",
        "exclude": [{"primary_group": "lung", "grade": 3}],
    },
    "derivation": {
        "age_at": "nen_diagnosis",
        "synchronous_window_days": 90,
        "same_time_window_days": 90,
        "symptom_percent_denominator": "all_bm",
        "primary_group": {"GEP": [1, 2, 3, 4, 5, 6, 7], "lung": [8], "unknown": [10], "other": [9, 11, 12]},
    },
}

NO_BM = {
    "sex": 1, "date_of_birth": "1950-06-15", "date_nen_diagnosis": "2010-01-10", "primary_site": 1,
    "grade": 1, "differentiation": 1, "functional_status": 0, "functional_syndrome": 0, "bone_mets": 0,
    "vital_status": 0, "date_death_or_last_fu": "2018-09-01",
}
BM = {
    **NO_BM, "bone_mets": 1, "date_first_distant_met": "2010-01-10", "date_bm_diagnosis": "2011-01-10",
    "bm_extent": 2, "bm_symptomatic_at_dx": 0, "bm_symptomatic_ever": 0, "bm_pain": 0,
    "bm_hypercalcaemia": 0, "bm_sre": 0, "bm_analgesia": 0, "bm_radiotherapy": 0,
    "bm_bisphosphonate": 0, "bm_surgery": 0,
}


def clean_frame(*rows: dict) -> pd.DataFrame:
    """A CLEAN frame as validation returns it: codebook columns and dtypes; absent cells missing."""
    out = {}
    for name, var in CODEBOOK.variables.items():
        cells = [r.get(name) for r in rows]
        if var.type == "string":
            out[name] = pd.array(cells, dtype="string")
        elif var.type == "date":
            out[name] = pd.to_datetime(pd.Series(cells, dtype="object")).astype("datetime64[ns]")
        else:
            out[name] = pd.array(cells, dtype="Int64")
    return pd.DataFrame(out)


def patients(**by_id: dict) -> pd.DataFrame:
    return clean_frame(*({"patient_id": pid, **row} for pid, row in by_id.items()))


def settings(**derivation) -> dict:
    s = copy.deepcopy(SETTINGS)
    s["derivation"].update(derivation)
    return s


def tri(values: pd.Series) -> dict:
    """A boolean column as {patient: True / False / None (missing)}."""
    return {k: None if pd.isna(v) else bool(v) for k, v in values.items()}


# --------------------------------------------------------------------------- eligibility


def test_eligibility_boundaries_g3_lung_and_sort_order():
    frame = patients(
        CHR0009={**NO_BM, "date_nen_diagnosis": "2002-04-01"},            # first day: in
        CHR0002={**NO_BM, "date_nen_diagnosis": "2018-03-31"},            # last day: in
        CHR0003={**NO_BM, "date_nen_diagnosis": "2002-03-31"},            # day before: out
        CHR0004={**NO_BM, "date_nen_diagnosis": "2018-04-01"},            # day after: out
        CHR0005={**NO_BM, "primary_site": 8, "grade": 3},                 # G3 lung: out
        CHR0006={**NO_BM, "primary_site": 8, "grade": 2},                 # G2 lung: in
        CHR0007={**NO_BM, "primary_site": 8, "grade": None},              # lung, grade unknown: in
        CHR0008={**NO_BM, "primary_site": 1, "grade": 3},                 # G3 pancreas: in
        CHR0001={**NO_BM, "primary_site": 9, "grade": 3},                 # G3 thymus ('other'): in
        CHR0010={**BM, "primary_site": 8, "grade": 3},                    # G3 lung with BMs: out
    )
    out = derive(frame, SETTINGS, DPM, CODEBOOK)
    assert out["patient_id"].tolist() == ["CHR0001", "CHR0002", "CHR0006", "CHR0007", "CHR0008", "CHR0009"]
    assert list(out.columns) == list(DERIVED_COLUMNS)


def test_exclusion_follows_the_configured_group_mapping():
    # Thymus moved into 'lung': a G3 thymic NEN is then excluded too.
    s = settings(primary_group={"GEP": [1, 2, 3, 4, 5, 6, 7], "lung": [8, 9], "unknown": [10], "other": [11, 12]})
    out = derive(patients(CHR0001={**NO_BM, "primary_site": 9, "grade": 3}, CHR0002=NO_BM), s, DPM, CODEBOOK)
    assert out["patient_id"].tolist() == ["CHR0002"]
    assert out["primary_group"].tolist() == ["GEP"]


def test_derive_does_not_change_its_input():
    frame = patients(CHR0002=BM, CHR0001=NO_BM)
    before = frame.copy()
    derive(frame, SETTINGS, DPM, CODEBOOK)
    pd.testing.assert_frame_equal(frame, before)


# --------------------------------------------------------------------------- per-patient variables


def test_age_in_completed_years_at_nen_diagnosis():
    frame = patients(
        A={**NO_BM, "date_of_birth": "1950-01-10", "date_nen_diagnosis": "2010-01-10"},   # birthday: 60
        B={**NO_BM, "date_of_birth": "1950-01-11", "date_nen_diagnosis": "2010-01-10"},   # day before: 59
        C={**NO_BM, "date_of_birth": "1952-02-29", "date_nen_diagnosis": "2011-02-28"},   # leapling: 58
        D={**NO_BM, "date_of_birth": "1952-02-29", "date_nen_diagnosis": "2011-03-01"},   # from 1 March: 59
        E={**NO_BM, "date_of_birth": "1952-02-29", "date_nen_diagnosis": "2012-02-29"},   # leap year: 60
        F={**NO_BM, "date_of_birth": "1950-12-31", "date_nen_diagnosis": "2010-01-01"},   # 59 (not 60 by year)
    )
    age = derive(frame, SETTINGS, DPM, CODEBOOK).set_index("patient_id")["age_years"]
    assert {k: int(v) for k, v in age.items()} == {"A": 60, "B": 59, "C": 58, "D": 59, "E": 60, "F": 59}
    assert str(age.dtype) == "Int64"


def test_age_at_bm_diagnosis_alternative():
    frame = patients(
        A={**BM, "date_of_birth": "1950-06-15", "date_nen_diagnosis": "2010-01-10",
           "date_bm_diagnosis": "2011-06-15"},
        B=NO_BM,
    )
    out = derive(frame, settings(age_at="bm_diagnosis"), DPM, CODEBOOK).set_index("patient_id")
    assert out.loc["A", "age_years"] == 61  # at NEN diagnosis it would be 59
    assert out.loc["B", "age_years"] is pd.NA


def test_primary_group_mapping_every_code():
    rows = {f"P{code:02d}": {**NO_BM, "primary_site": code, "grade": 1} for code in range(1, 13)}
    out = derive(patients(**rows), SETTINGS, DPM, CODEBOOK).set_index("patient_id")["primary_group"]
    expected = {**{f"P{c:02d}": "GEP" for c in range(1, 8)}, "P08": "lung", "P09": "other", "P10": "unknown",
                "P11": "other", "P12": "other"}
    assert {k: str(v) for k, v in out.items()} == expected
    assert str(out.dtype) == "string"


def test_unmapped_or_doubly_mapped_site_is_a_config_error():
    frame = patients(CHR0001={**NO_BM, "primary_site": 12}, CHR0002={**NO_BM, "primary_site": 13})
    with pytest.raises(ConfigError, match=r"code\(s\) \[13\].*CHR0002"):
        derive(frame, SETTINGS, DPM, CODEBOOK)
    s = settings(primary_group={"GEP": [1, 2, 3, 4, 5, 6, 7, 8], "lung": [8], "unknown": [10], "other": [9, 11, 12]})
    with pytest.raises(ConfigError, match="code 8 is in both 'GEP' and 'lung'"):
        derive(patients(CHR0001=NO_BM), s, DPM, CODEBOOK)


def test_grade_g12_and_functional():
    frame = patients(
        A={**NO_BM, "grade": 1, "functional_status": 1},
        B={**NO_BM, "grade": 2, "functional_status": 0},
        C={**NO_BM, "grade": 3, "functional_status": None},
        D={**NO_BM, "grade": None, "functional_status": 1},
    )
    out = derive(frame, SETTINGS, DPM, CODEBOOK).set_index("patient_id")
    assert out["grade_g12"].tolist() == [True, True, False, pd.NA]
    assert out["functional"].tolist() == [True, False, pd.NA, True]
    assert str(out["grade_g12"].dtype) == "boolean"


# --------------------------------------------------------------------------- BM timing


def test_synchronous_window_edges():
    dx = "2010-01-10"
    frame = patients(
        SAME_DAY={**BM, "date_nen_diagnosis": dx, "date_first_distant_met": dx, "date_bm_diagnosis": dx},
        EDGE_90={**BM, "date_nen_diagnosis": dx, "date_first_distant_met": dx, "date_bm_diagnosis": "2010-04-10"},
        DAY_91={**BM, "date_nen_diagnosis": dx, "date_first_distant_met": dx, "date_bm_diagnosis": "2010-04-11"},
        NO_BM_DATE={**BM, "date_bm_diagnosis": None},
        NONE=NO_BM,
    )
    # 2010-01-10 + 90 days = 2010-04-10 (21 + 28 + 31 + 10).
    out = derive(frame, SETTINGS, DPM, CODEBOOK).set_index("patient_id")["bm_synchronous"]
    assert tri(out) == {"SAME_DAY": True, "EDGE_90": True, "DAY_91": False, "NO_BM_DATE": None, "NONE": None}
    narrow = derive(frame, settings(synchronous_window_days=0), DPM, CODEBOOK).set_index("patient_id")["bm_synchronous"]
    assert narrow.loc[["SAME_DAY", "EDGE_90"]].tolist() == [True, False]


def test_same_time_as_other_metastases_and_time_to_bm():
    frame = patients(
        SAME_DAY={**BM, "date_first_distant_met": "2012-05-01", "date_bm_diagnosis": "2012-05-01"},
        EDGE_90={**BM, "date_first_distant_met": "2012-05-01", "date_bm_diagnosis": "2012-07-30"},
        META={**BM, "date_first_distant_met": "2012-05-01", "date_bm_diagnosis": "2012-07-31"},
        LONG={**BM, "date_first_distant_met": "2010-01-10", "date_bm_diagnosis": "2011-03-12"},
        NO_MET_DATE={**BM, "date_first_distant_met": None},
        NONE=NO_BM,
    )
    out = derive(frame, SETTINGS, DPM, CODEBOOK).set_index("patient_id")
    assert tri(out["bm_with_other_mets"]) == {
        "SAME_DAY": True, "EDGE_90": True, "META": False, "LONG": False, "NO_MET_DATE": None, "NONE": None}
    months = out["months_first_met_to_bm"]
    assert months["SAME_DAY"] == 0.0
    assert months["META"] == pytest.approx(91 / 30.4375)
    # 2010-01-10 -> 2011-01-10: 365 days; -> 2011-03-10: + 31 + 28; -> 2011-03-12: + 2 = 426
    assert months["LONG"] == pytest.approx(426 / 30.4375)
    assert round(months["LONG"], 1) == 14.0
    assert sorted(months.index[months.isna()]) == ["NONE", "NO_MET_DATE"]
    assert tri(out["first_met_to_bm_event"]) == {
        "EDGE_90": True, "LONG": True, "META": True, "NONE": None, "NO_MET_DATE": None, "SAME_DAY": True}
    assert str(months.dtype) == "Float64"


def test_widespread():
    frame = patients(A={**BM, "bm_extent": 1}, B={**BM, "bm_extent": 2}, C={**BM, "bm_extent": 3},
                     D={**BM, "bm_extent": None}, E=NO_BM)
    assert derive(frame, SETTINGS, DPM, CODEBOOK)["bm_widespread"].tolist() == [False, False, True, pd.NA, pd.NA]


# --------------------------------------------------------------------------- symptoms and treatment


SYMPTOMATIC = {**BM, "bm_symptomatic_ever": 1}


def symptom_frame() -> pd.DataFrame:
    return patients(
        PAIN={**SYMPTOMATIC, "bm_pain": 1, "bm_hypercalcaemia": 0, "bm_sre": 1, "bm_symptomatic_at_dx": 1},
        HYPER={**SYMPTOMATIC, "bm_pain": 0, "bm_hypercalcaemia": 1},
        OTHER={**SYMPTOMATIC, "bm_pain": 0, "bm_hypercalcaemia": 0},
        PAIN_HYPER_NA={**SYMPTOMATIC, "bm_pain": 1, "bm_hypercalcaemia": None},
        NOPAIN_HYPER_NA={**SYMPTOMATIC, "bm_pain": 0, "bm_hypercalcaemia": None},
        QUIET=BM,
        NONE=NO_BM,
    )


def test_pain_or_hypercalcaemia_and_sre_all_bm_denominator():
    out = derive(symptom_frame(), SETTINGS, DPM, CODEBOOK).set_index("patient_id")
    assert tri(out["pain_or_hypercalcaemia"]) == {
        "HYPER": True, "NONE": None, "NOPAIN_HYPER_NA": None, "OTHER": False, "PAIN": True,
        "PAIN_HYPER_NA": True, "QUIET": False}
    assert tri(out["sre"]) == {
        "HYPER": False, "NONE": None, "NOPAIN_HYPER_NA": False, "OTHER": False, "PAIN": True,
        "PAIN_HYPER_NA": False, "QUIET": False}
    assert tri(out["bm_symptoms_ever"]) == {
        "HYPER": True, "NONE": None, "NOPAIN_HYPER_NA": True, "OTHER": True, "PAIN": True,
        "PAIN_HYPER_NA": True, "QUIET": False}
    assert out["bm_symptoms_at_dx"].tolist() == [False, pd.NA, False, False, True, False, False]


def test_ever_symptomatic_denominator_blanks_the_never_symptomatic():
    s = settings(symptom_percent_denominator="ever_symptomatic")
    out = derive(symptom_frame(), s, DPM, CODEBOOK).set_index("patient_id")
    assert out.loc["QUIET", "pain_or_hypercalcaemia"] is pd.NA
    assert out.loc["QUIET", "sre"] is pd.NA
    assert out.loc["OTHER", "pain_or_hypercalcaemia"] == False  # noqa: E712
    # % over known values: all_bm -> 3 true of the 5 known (one <NA>); ever_symptomatic -> 3 of 4 (QUIET out)
    for denominator, expected in (("all_bm", 3 / 5), ("ever_symptomatic", 3 / 4)):
        s = settings(symptom_percent_denominator=denominator)
        col = derive(symptom_frame(), s, DPM, CODEBOOK)["pain_or_hypercalcaemia"]
        assert col.dropna().mean() == pytest.approx(expected)


def test_treatments_are_bm_only_booleans():
    frame = patients(A={**BM, "bm_analgesia": 1, "bm_radiotherapy": 0, "bm_bisphosphonate": 1, "bm_surgery": None},
                     B=NO_BM)
    out = derive(frame, SETTINGS, DPM, CODEBOOK).set_index("patient_id")
    assert out.loc["A", ["tx_analgesia", "tx_radiotherapy", "tx_bisphosphonate"]].tolist() == [True, False, True]
    assert out.loc["A", "tx_surgery"] is pd.NA
    assert out.loc["B", ["tx_analgesia", "tx_radiotherapy", "tx_bisphosphonate", "tx_surgery"]].isna().all()


def test_bm_only_variables_are_missing_without_bms():
    out = derive(patients(A={**NO_BM, "date_first_distant_met": "2012-01-01"}), SETTINGS, DPM, CODEBOOK)
    bm_only = [c for c in DERIVED_COLUMNS if c not in ("patient_id", "has_bm", "age_years", "primary_group",
                                                         "grade_g12", "functional")]
    assert out.loc[0, "has_bm"] == False  # noqa: E712
    assert out.loc[0, bm_only].isna().all()


# --------------------------------------------------------------------------- survival


def test_overall_survival_from_bm_and_from_symptoms():
    frame = patients(
        DEAD={**SYMPTOMATIC, "date_bm_diagnosis": "2011-01-10", "date_bm_symptom_onset": "2010-12-01",
              "vital_status": 1, "date_death_or_last_fu": "2013-08-12", "bm_symptomatic_at_dx": 1},
        CENSORED={**SYMPTOMATIC, "date_bm_diagnosis": "2016-03-01", "date_bm_symptom_onset": "2017-03-01",
                  "vital_status": 0, "date_death_or_last_fu": "2018-09-30"},
        SAME_DAY={**BM, "date_first_distant_met": "2014-05-05", "date_bm_diagnosis": "2014-05-05",
                  "vital_status": 1, "date_death_or_last_fu": "2014-05-05"},
        NO_ONSET={**SYMPTOMATIC, "vital_status": 1, "date_death_or_last_fu": "2012-01-10"},
        NONE={**NO_BM, "vital_status": 1, "date_death_or_last_fu": "2015-01-01"},
    )
    out = derive(frame, SETTINGS, DPM, CODEBOOK).set_index("patient_id")
    # DEAD: 2011-01-10 -> 2013-08-12 = 365 + 366 (2012) + 214 = 945 days; onset 40 days earlier.
    assert out.loc["DEAD", "os_from_bm_months"] == pytest.approx(945 / 30.4375)
    assert out.loc["DEAD", "os_from_symptoms_months"] == pytest.approx(985 / 30.4375)
    assert out.loc["DEAD", "os_from_bm_event"] == True  # noqa: E712
    # CENSORED: 2016-03-01 -> 2018-09-30 = 365 + 365 + 213 = 943 days; from onset 578 days.
    assert out.loc["CENSORED", "os_from_bm_months"] == pytest.approx(943 / 30.4375)
    assert out.loc["CENSORED", "os_from_symptoms_months"] == pytest.approx(578 / 30.4375)
    assert out.loc["CENSORED", ["os_from_bm_event", "os_from_symptoms_event"]].tolist() == [False, False]
    assert out.loc["SAME_DAY", "os_from_bm_months"] == 0.0
    assert out.loc["SAME_DAY", "os_from_symptoms_months"] is pd.NA
    assert out.loc["NO_ONSET", "os_from_bm_months"] == pytest.approx(365 / 30.4375)
    assert out.loc["NO_ONSET", ["os_from_symptoms_months", "os_from_symptoms_event"]].isna().all()
    assert out.loc["NONE", ["os_from_bm_months", "os_from_bm_event"]].isna().all()
    assert str(out["os_from_bm_event"].dtype) == "boolean"


def test_days_per_month_is_a_parameter():
    frame = patients(A={**BM, "date_bm_diagnosis": "2011-01-10", "date_death_or_last_fu": "2011-02-09"})
    assert derive(frame, SETTINGS, 30.0, CODEBOOK).loc[0, "os_from_bm_months"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- logical checks


def test_inconsistent_records_are_all_reported_with_patient_ids():
    frame = patients(
        CHR0001={**NO_BM, "bm_pain": 1, "date_bm_diagnosis": "2012-01-01"},   # BM details without BMs
        CHR0002={**BM, "bm_symptomatic_at_dx": 1, "bm_symptomatic_ever": 0},  # at dx but never
        CHR0003={**BM, "bm_sre": 1},                                          # SRE but never symptomatic
        CHR0004={**BM, "date_bm_symptom_onset": "2011-02-01"},                # onset date but never
        CHR0005={**NO_BM, "date_nen_diagnosis": None},                        # eligibility undecidable
        CHR0006=BM,                                                           # fine
    )
    with pytest.raises(ValidationError) as err:
        derive(frame, SETTINGS, DPM, CODEBOOK)
    found = {(v.variable, v.rule, v.patient_ids) for v in err.value.violations}
    assert found == {
        ("date_nen_diagnosis", "needed for eligibility", ("CHR0005",)),
        ("date_bm_diagnosis", "BM details without bone metastases", ("CHR0001",)),
        ("bm_pain", "BM details without bone metastases", ("CHR0001",)),
        ("bm_symptomatic_at_dx", "implies symptoms ever", ("CHR0002",)),
        ("bm_sre", "implies symptoms ever", ("CHR0003",)),
        ("date_bm_symptom_onset", "implies symptoms ever", ("CHR0004",)),
    }
    assert "CHR0003" in str(err.value)


def test_bad_choice_of_age_date_is_a_config_error():
    with pytest.raises(ConfigError, match="age_at"):
        derive(patients(A=NO_BM), settings(age_at="first_metastasis"), DPM, CODEBOOK)


@pytest.mark.parametrize("cells, dtype", [
    ([1, 2, None, 2, 9], "Int64"),
    ([1.0, 2.0, float("nan"), 2.0, 9.0], "float64"),
    ([1, 2.0, None, True, 9], object),  # True is the code 1, as a dict lookup sees it
])
def test_code_lookups_per_distinct_value_match_the_definition(cells, dtype):
    """by_meaning / has_meaning / code_keys judge each distinct code once; the result per cell is the
    definition's: the mapped value, <NA> for a missing cell or an unmapped code."""
    from nenbone.derive import by_meaning, code_keys, has_meaning

    values = pd.Series(cells, dtype=dtype, index=[10, 11, 12, 13, 14])
    yes = has_meaning(values, (2,))
    assert str(yes.dtype) == "boolean" and list(yes.index) == [10, 11, 12, 13, 14]
    expected_yes = [False, True, None, True, False] if cells[3] is not True else [False, True, None, False, False]
    assert [None if v is pd.NA else bool(v) for v in yes] == expected_yes
    named = by_meaning(values, {1: "one", 2: "two"}, "string")
    expected = ["one", "two", None, "two", None] if cells[3] is not True else ["one", "two", None, "one", None]
    assert [None if v is pd.NA else v for v in named] == expected
    keys = code_keys(values)
    assert [None if v is pd.NA else v for v in keys][:3] == [1, 2, None]
