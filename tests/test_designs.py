"""Designs: a study's settings laid over its design's, the studies of a design, the additional-cohort
section and the replication table (published, twin, cohort), by hand."""

from __future__ import annotations

from nenbone.designs import merge_settings, studies_of_design
from nenbone.presentation.cohorts import additional_cohorts_section
from nenbone.presentation.reproduction import replication_rows, study_key


def test_study_settings_override_the_design_key_by_key():
    design = {"matching": {"ratio": 4, "seed": 1, "covariates": ["a", "b"]}, "period": {"from": "x"}}
    merged = merge_settings(design, {"matching": {"ratio": 2, "covariates": ["a"]}})
    assert merged == {"matching": {"ratio": 2, "seed": 1, "covariates": ["a"]}, "period": {"from": "x"}}
    assert design["matching"]["ratio"] == 4  # the design's block is not changed
    studies = {"b": {"design": "mayo"}, "a": {"design": "christie"}, "c": {"design": "mayo"}}
    assert studies_of_design(studies, "mayo") == ["b", "c"] and studies_of_design(studies, "other") == []


def test_replication_rows_set_published_twin_and_cohort_side_by_side():
    published = {"study": "christie", "sources": {"abstract": "Lim 2019 abstract"}, "quantities": [
        {"id": "bm_n", "label": "Bone metastases, n", "wording": "85 had BMs", "source": "abstract", "published": 85,
         "precision": 0, "kind": "count", "value_key": "christie.bm.n", "shown_in": "tbl-christie-baseline"},
        {"id": "age", "label": "Age, median", "wording": "median age 58", "source": "abstract", "published": 58,
         "precision": 0, "kind": "median", "value_key": "christie.age.median", "shown_in": "tbl-christie-baseline"}]}
    raw = {"christie": {"bm": {"n": 85}, "age": {"median": 58.2}}, "copy": {"bm": {"n": 40}, "age": {"median": 57.5}}}
    assert study_key("christie.bm.n", "copy") == "copy.bm.n"
    rows = replication_rows(published, raw, "christie", "copy")
    assert [(r["published"], r["twin"], r["cohort"], r["cohort_status"]) for r in rows] == [
        ("85", "85", "40", "mismatch"), ("58", "58", "58", "match")]  # 57.5 rounds half up to 58
    assert [r["label"] for r in rows] == ["Bone metastases, n", "Age, median"]


def test_additional_cohorts_section_fills_the_design_template():
    template = "## $label ($study)\n\n{{< meta $study.bm.n >}} ![x](../results/figures/flow_${study}.png)\n"
    text = additional_cohorts_section({"copy": {"label": "Copy", "template": "t.md"}}, {"t.md": template})
    assert text.startswith("# Additional cohorts\n")
    assert "## Copy (copy)\n\n{{< meta copy.bm.n >}} ![x](../results/figures/flow_copy.png)\n" in text
    assert additional_cohorts_section({}, {}) == ""
