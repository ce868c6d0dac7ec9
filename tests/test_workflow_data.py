"""Integration: the workflow runs from a clean results/ to the derived files, which meet every published count."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def derived(workflow_run):
    root = workflow_run
    return {s: pd.read_parquet(root / "results" / "derived" / f"{s}.parquet") for s in ("christie", "mayo")}


def test_christie_derived_meets_published_counts(derived):
    d = derived["christie"]
    assert len(d) == 1212 and d["patient_id"].is_unique
    bm = d[d["has_bm"] == True]  # noqa: E712 (nullable boolean)
    assert len(bm) == 85
    assert bm["primary_group"].value_counts().to_dict() == {"GEP": 42, "lung": 21, "unknown": 17, "other": 5}
    counts = {c: int(bm[c].sum()) for c in (
        "grade_g12", "functional", "bm_synchronous", "bm_with_other_mets", "bm_widespread", "bm_symptoms_at_dx",
        "bm_symptoms_ever", "pain_or_hypercalcaemia", "sre", "tx_analgesia", "tx_radiotherapy",
        "tx_bisphosphonate", "tx_surgery")}
    assert counts == {
        "grade_g12": 57, "functional": 35, "bm_synchronous": 24, "bm_with_other_mets": 47, "bm_widespread": 52,
        "bm_symptoms_at_dx": 19, "bm_symptoms_ever": 66, "pain_or_hypercalcaemia": 54, "sre": 17,
        "tx_analgesia": 37, "tx_radiotherapy": 29, "tx_bisphosphonate": 19, "tx_surgery": 2,
    }
    assert (~bm["bm_with_other_mets"].astype(bool)).sum() == 38
    # SPSS percentiles: the (n+1)p rule, written out by hand rather than through numpy.
    ages = sorted(bm["age_years"].astype(float))
    def spss_pct(p):
        h = (len(ages) + 1) * p
        lo = int(h)
        return ages[lo - 1] + (h - lo) * (ages[lo] - ages[lo - 1])
    assert (spss_pct(0.5), spss_pct(0.25), spss_pct(0.75)) == (58, 47.5, 67.5)


def test_mayo_derived_meets_published_counts(derived):
    d = derived["mayo"]
    assert set(d["group"]) == {"LB", "L"} and d["patient_id"].is_unique
    lb = d[d["group"] == "LB"]
    assert len(lb) == 25
    assert [int(lb[c].sum()) for c in ("bone_site_spine", "bone_site_pelvis", "bone_site_ribs")] == [17, 6, 3]
    assert [int(lb[c].sum()) for c in ("bone_tx_radiotherapy", "bone_tx_rfa", "bone_tx_resection")] == [10, 2, 1]
    assert int(lb["major_resection"].sum()) == 15
    assert (lb["n_bone_mets"].median(), lb["n_bone_mets"].min(), lb["n_bone_mets"].max()) == (2, 1, 10)


def test_raw_inputs_are_not_modified(workflow_run):
    import hashlib, json

    root = workflow_run
    for study, ext in (("christie", "sav"), ("mayo", "dta")):
        meta = json.loads((root / "results" / "ingested" / f"{study}.meta.json").read_text())
        digest = hashlib.sha256((root / "resources" / "synthetic" / f"{study}.{ext}").read_bytes()).hexdigest()
        assert digest in json.dumps(meta)
