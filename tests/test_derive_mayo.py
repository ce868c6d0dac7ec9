"""Study B derivation on small hand-built CLEAN frames, with hand-computed expectations."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nenbone.codebook import load_codebook
from nenbone.derive.mayo import COLUMNS, RAW_COLUMNS, derive
from nenbone.errors import ConfigError, ValidationError

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = load_codebook(ROOT / "config" / "codebooks" / "mayo.yaml")
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
SETTINGS = CONFIG["mayo"]
DPM = 30.4375

STRINGS = ("patient_id",)
DATES = ("dob", "date_resection", "date_death_or_lastfu")
LIVER_ONLY = dict(site=1, sex=1, dob="1950-01-01", date_resection="2000-01-01", primary_site=1, grade=1,
                  synchronous_liver=0, liver_extent=1, n_liver_lesions=2, n_segments_resected=2, extrahepatic=0,
                  vital_status=1, date_death_or_lastfu="2005-01-01")
BONE = dict(LIVER_ONLY, extrahepatic=1, n_bone_mets=3, bone_spine=1, bone_pelvis=0, bone_ribs=1, bone_other=0,
            bone_tx_radiotherapy=1, bone_tx_rfa=0, bone_tx_resection=0)


def clean_frame(rows: list[dict]) -> pd.DataFrame:
    """A CLEAN frame as validation returns it: string, Int64 with <NA>, datetime64 with NaT."""
    df = pd.DataFrame(rows, columns=list(RAW_COLUMNS))
    for c in RAW_COLUMNS:
        if c in STRINGS:
            df[c] = df[c].astype("string")
        elif c in DATES:
            df[c] = pd.to_datetime(df[c])
        else:
            df[c] = pd.array([pd.NA if pd.isna(v) else int(v) for v in df[c]], dtype="Int64")
    return df


def test_raw_columns_follow_the_codebook():
    cb = load_codebook(ROOT / "config" / "codebooks" / "mayo.yaml")
    assert list(RAW_COLUMNS) == list(cb.variables)
    assert set(COLUMNS) <= set(cb.derived) | {"patient_id"}
    assert set(SETTINGS["matching"]["covariates"]) <= set(COLUMNS)


def test_groups_values_and_hand_computed_times(caplog):
    rows = [
        dict(BONE, patient_id="B2", extrahepatic=2, n_segments_resected=3),        # bone + other: LB; 3 = major
        dict(LIVER_ONLY, patient_id="A1"),                                          # liver only: L
        dict(LIVER_ONLY, patient_id="C3", extrahepatic=3),                          # other extrahepatic: neither
        dict(LIVER_ONLY, patient_id="D4", vital_status=0, grade=3, liver_extent=2,
             sex=2, primary_site=2, n_segments_resected=4, date_death_or_lastfu="2000-03-01"),
    ]
    with caplog.at_level(logging.INFO, logger="nenbone.derive.mayo"):
        out = derive(clean_frame(rows), SETTINGS, DPM, CODEBOOK)
    assert "1 patient(s) with extrahepatic code(s) [3] are in neither group" in caplog.text
    assert out["patient_id"].tolist() == ["A1", "B2", "D4"]  # sorted; C3 left out
    assert out["group"].tolist() == ["L", "LB", "L"]
    a1, b2, d4 = (out.iloc[i] for i in range(3))
    # 1950-01-01 -> 2000-01-01 = 18262 days; / 365.25
    assert a1["age_years"] == pytest.approx(18262 / 365.25)
    # 2000-01-01 -> 2005-01-01 = 1827 days; / 30.4375 = 60.02 months
    assert a1["os_months"] == pytest.approx(1827 / 30.4375) and a1["os_event"] == 1
    # censored patient: 2000-01-01 -> 2000-03-01 = 60 days (leap year)
    assert d4["os_months"] == pytest.approx(60 / 30.4375) and d4["os_event"] == 0
    assert a1["year_of_resection"] == 2000
    assert (a1["major_resection"], b2["major_resection"], d4["major_resection"]) == (0, 1, 1)
    assert (a1["grade_g12"], d4["grade_g12"]) == (1, 0)
    assert (a1["liver_extent_bilobar"], d4["liver_extent_bilobar"]) == (0, 1)
    assert (a1["sex"], d4["sex"]) == ("male", "female")
    assert (a1["primary_group"], d4["primary_group"]) == ("GI", "pancreas")
    assert b2["n_bone_mets"] == 3 and b2["bone_site_spine"] == 1 and b2["bone_site_ribs"] == 1
    assert b2["bone_site_pelvis"] == 0 and b2["bone_tx_radiotherapy"] == 1 and b2["bone_tx_rfa"] == 0
    for col in ("n_bone_mets", "bone_site_spine", "bone_tx_radiotherapy"):  # not applicable for L
        assert pd.isna(a1[col]) and pd.isna(d4[col])
    assert list(out.columns) == list(COLUMNS)


def test_major_resection_boundary_follows_config():
    rows = [dict(LIVER_ONLY, patient_id=f"P{k}", n_segments_resected=k) for k in (1, 2, 3, 4)]
    out = derive(clean_frame(rows), SETTINGS, DPM, CODEBOOK)
    assert out["major_resection"].tolist() == [0, 0, 1, 1]
    out4 = derive(clean_frame(rows), {**SETTINGS, "major_resection_min_segments": 4}, DPM, CODEBOOK)
    assert out4["major_resection"].tolist() == [0, 0, 0, 1]


def test_missing_values_stay_missing():
    rows = [
        dict(LIVER_ONLY, patient_id="P1", dob=None, grade=None, n_liver_lesions=None),
        dict(LIVER_ONLY, patient_id="P2", date_death_or_lastfu=None),
        dict(BONE, patient_id="P3", n_bone_mets=None),  # bone metastases present, count not recorded (.a)
    ]
    out = derive(clean_frame(rows), SETTINGS, DPM, CODEBOOK).set_index("patient_id")
    assert np.isnan(out.loc["P1", "age_years"])
    assert pd.isna(out.loc["P1", "grade_g12"]) and pd.isna(out.loc["P1", "n_liver_lesions"])
    assert np.isnan(out.loc["P2", "os_months"]) and out.loc["P2", "os_event"] == 1
    assert pd.isna(out.loc["P3", "n_bone_mets"]) and out.loc["P3", "bone_site_spine"] == 1


def test_out_of_period_left_out_and_counted(caplog):
    rows = [dict(LIVER_ONLY, patient_id="P1", date_resection="1988-12-31", date_death_or_lastfu="1990-01-01"),
            dict(LIVER_ONLY, patient_id="P2", date_resection="1989-01-01"),
            dict(LIVER_ONLY, patient_id="P3", date_resection="2015-08-31", date_death_or_lastfu="2015-09-30"),
            dict(LIVER_ONLY, patient_id="P4", date_resection="2015-09-01", date_death_or_lastfu="2015-09-30")]
    with caplog.at_level(logging.INFO, logger="nenbone.derive.mayo"):
        out = derive(clean_frame(rows), SETTINGS, DPM, CODEBOOK)
    assert out["patient_id"].tolist() == ["P2", "P3"]
    assert "2 patient(s) resected outside 1989-01-01 - 2015-08-31" in caplog.text


def test_bone_findings_in_liver_only_patients_are_errors():
    rows = [dict(LIVER_ONLY, patient_id="P1", bone_spine=1), dict(LIVER_ONLY, patient_id="P2", bone_spine=0),
            dict(LIVER_ONLY, patient_id="P3", n_bone_mets=2)]
    with pytest.raises(ValidationError) as err:
        derive(clean_frame(rows), SETTINGS, DPM, CODEBOOK)
    text = str(err.value)
    assert "bone_spine" in text and "P1" in text and "n_bone_mets" in text and "P3" in text
    assert "P2" not in text  # an explicit 'no' is no contradiction


def test_negative_follow_up_and_config_errors():
    bad = [dict(LIVER_ONLY, patient_id="P1", date_death_or_lastfu="1999-12-31")]
    with pytest.raises(ValidationError, match="P1"):
        derive(clean_frame(bad), SETTINGS, DPM, CODEBOOK)
    rows = [dict(LIVER_ONLY, patient_id="P1", primary_site=9)]
    with pytest.raises(ConfigError, match=r"primary_site code\(s\) \[9\]"):
        derive(clean_frame(rows), {**SETTINGS, "primary_groups": {"GI": [1], "pancreas": [2]}}, DPM, CODEBOOK)
    with pytest.raises(ConfigError, match="in both"):
        derive(clean_frame(rows), {**SETTINGS, "groups": {"LB": [1, 2], "L": [0, 1]}}, DPM, CODEBOOK)
    with pytest.raises(ValidationError, match="missing from the clean data"):
        derive(clean_frame(rows).drop(columns=["grade"]), SETTINGS, DPM, CODEBOOK)
