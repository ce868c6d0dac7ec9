"""Attrition counts written by the derivation (placeholder writer) and by the match rule, by hand."""

from types import SimpleNamespace

import pandas as pd
import pytest

from nenbone.analysis.matching import match_attrition
from nenbone.derive.attrition import minimal_attrition
from nenbone.errors import ConfigError


def test_christie_attrition_by_hand():
    validated = pd.DataFrame({
        "patient_id": [f"C{i}" for i in range(6)],
        "primary_site": pd.array([8, 8, 1, 1, 10, 8], dtype="Int64"),  # 8 = lung, 1 = GEP, 10 = unknown
        "grade": pd.array([3, 3, 3, 1, pd.NA, 2], dtype="Int64"),
        "date_nen_diagnosis": pd.to_datetime(["2010-01-01", "2001-01-01", "2010-01-01", "2019-01-01",
                                              "2012-01-01", "2005-05-05"]),
    })
    # by hand: C1 and C3 outside 2002-04-01..2018-03-31; C0 lung G3 within it; eligible C2, C4, C5
    derived = pd.DataFrame({"patient_id": ["C2", "C4", "C5"], "has_bm": pd.array([True, False, True], dtype="boolean")})
    settings = {
        "eligibility": {"diagnosis_from": "2002-04-01", "diagnosis_to": "2018-03-31",
                        "exclude": [{"primary_group": "lung", "grade": 3}]},
        "derivation": {"primary_group": {"GEP": [1], "lung": [8], "unknown": [10], "other": [9]}},
    }
    doc = minimal_attrition("christie", validated, derived, settings)
    assert [(s["n"], s["excluded"]) for s in doc["stages"]] == [
        (6, []), (3, [{"reason": "diagnosed outside the study period", "n": 2}, {"reason": "G3 lung NEN", "n": 1}])]
    assert [g["n"] for g in doc["groups"]] == [2, 1]
    with pytest.raises(ConfigError, match="derived table has 2 rows"):
        minimal_attrition("christie", validated, derived.iloc[:2], settings)


def test_mayo_attrition_by_hand():
    validated = pd.DataFrame({
        "patient_id": [f"M{i}" for i in range(7)],
        "extrahepatic": pd.array([1, 0, 0, 3, 0, 2, 0], dtype="Int64"),
        "date_resection": pd.to_datetime(["2000-01-01", "2000-01-01", "1980-01-01", "2000-01-01",
                                          "2001-01-01", "1985-05-05", "2002-01-01"]),
    })
    # by hand: M3 (code 3) in neither group; M2 and M5 outside 1989-2015; LB = {M0}, L = {M1, M4, M6}
    derived = pd.DataFrame({"patient_id": ["M0", "M1", "M4", "M6"], "group": ["LB", "L", "L", "L"]})
    settings = {"groups": {"LB": [1, 2], "L": [0]}, "period": {"from": "1989-01-01", "to": "2015-08-31"}}
    doc = minimal_attrition("mayo", validated, derived, settings)
    assert doc["stages"][0]["n"] == 7 and doc["stages"][1]["n"] == 4
    assert doc["stages"][1]["excluded"] == [{"reason": "other extrahepatic disease", "n": 1},
                                            {"reason": "outside the study period", "n": 2}]
    assert doc["groups"] == [{"label": "LB", "n": 1}, {"label": "L", "n": 3}]


def test_match_attrition_by_hand():
    derived = pd.DataFrame({"patient_id": ["M0", "M1", "M4", "M6", "M7"], "group": ["LB", "L", "L", "L", "LB"],
                            "age_years": [50.0, None, 60.0, 61.0, 40.0], "sex": ["f", "m", None, "m", "f"]})
    # M1 (age) and M4 (sex) are left out of the model; M0 matched to M6; M7 unmatched
    result = SimpleNamespace(scores=pd.DataFrame({"patient_id": ["M0", "M6", "M7"], "group": ["LB", "L", "LB"]}),
                             matched=pd.DataFrame({"patient_id": ["M0", "M6"], "group": ["LB", "L"]}))
    doc = match_attrition(derived, result, {"covariates": ["age_years", "sex"], "treated_group": "LB",
                                            "control_group": "L"})
    lb, lo = doc["groups"]
    assert (lb["n"], lb["n_in_model"], lb["n_matched"], lb["n_unmatched"], lb["excluded_missing"]) == (2, 2, 1, 1, [])
    assert (lo["n"], lo["n_in_model"], lo["n_matched"], lo["n_unmatched"]) == (3, 1, 1, 0)
    assert lo["excluded_missing"] == [{"variable": "age_years", "n": 1}, {"variable": "sex", "n": 1}]
