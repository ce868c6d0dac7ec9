"""Shared test fixtures: a tiny codebook and a matching RAW frame (kept small on purpose)."""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import pytest

from nenbone.codebook import Codebook, parse_codebook

TINY_CODEBOOK: dict[str, Any] = {
    "study": "tiny",
    "title": "Tiny test cohort",
    "source_format": "sav",
    "id_variable": "patient_id",
    "variables": {
        "patient_id": {"label": "Patient ID", "type": "string", "nullable": False},
        "sex": {"label": "Sex", "type": "categorical", "codes": {1: "Male", 2: "Female"}, "nullable": False},
        "age": {"label": "Age at diagnosis", "type": "integer", "range": [0, 110], "unit": "years"},
        "grade": {"label": "WHO grade", "type": "categorical",
                  "codes": {1: "G1", 2: "G2", 3: "G3", 9: "Unknown"}, "missing_codes": [9]},
        "ki67": {"label": "Ki-67 index", "type": "numeric", "range": [0, 100], "unit": "%",
                 "missing_codes": [999]},
        "bone_mets": {"label": "Bone metastases", "type": "boolean", "codes": {0: "No", 1: "Yes"}},
        "diagnosis_date": {"label": "Date of NEN diagnosis", "type": "date", "nullable": False},
        "death_date": {"label": "Date of death", "type": "date"},
    },
    "date_order": [{"earlier": "diagnosis_date", "later": "death_date"}],
}


def tiny_codebook_dict(**changes: Any) -> dict[str, Any]:
    """A deep copy of the tiny codebook mapping, with top-level keys replaced."""
    raw = copy.deepcopy(TINY_CODEBOOK)
    raw.update(changes)
    return raw


@pytest.fixture
def tiny_codebook() -> Codebook:
    return parse_codebook(tiny_codebook_dict(), source="tiny.yaml")


@pytest.fixture
def tiny_raw() -> pd.DataFrame:
    """Four patients, valid under the tiny codebook; P2's grade is the missing code 9, P3's Ki-67 is 999."""
    return pd.DataFrame({
        "patient_id": ["P1", "P2", "P3", "P4"],
        "sex": [1, 2, 2, 1],
        "age": [58, 47, 70, 33],
        "grade": [1, 9, 2, 3],
        "ki67": [1.5, 12.0, 999.0, float("nan")],
        "bone_mets": [0, 1, 1, 0],
        "diagnosis_date": pd.to_datetime(["2010-01-15", "2012-06-01", "2015-03-31", "2017-12-01"]),
        "death_date": pd.to_datetime(["2014-02-01", None, "2015-03-31", None]),
    })
