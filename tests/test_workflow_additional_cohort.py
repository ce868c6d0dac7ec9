"""A third cohort by config alone: `studies.christie_copy` of the christie design, given with
--configfile, gets its own derived data, tables, figures, numbers and supplement section.

Reuses the session's complete run (results and Snakemake's records are copied), so only the new
study's jobs and the report rules run.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from workflow_support import copy_workflow, snakemake

pytestmark = pytest.mark.integration

EXTRA = {"studies": {"christie_copy": {"design": "christie", "input": "resources/synthetic/christie.sav",
                                       "codebook": "config/codebooks/christie.yaml"}}}


@pytest.fixture(scope="module")
def third_run(workflow_run, tmp_path_factory):
    root = copy_workflow(tmp_path_factory.mktemp("third") / "nenbone")
    shutil.copytree(workflow_run / "results", root / "results")
    shutil.copytree(workflow_run / "resources" / "synthetic", root / "resources" / "synthetic", dirs_exist_ok=True)
    shutil.copytree(workflow_run / ".snakemake", root / ".snakemake", ignore=shutil.ignore_patterns("log", "locks"))
    (root / "extra.yaml").write_text(yaml.safe_dump(EXTRA), encoding="utf-8")
    proc = snakemake(root, "--configfile", "config/config.yaml", "extra.yaml")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-8000:]
    return root


def test_third_cohort_equals_study_a_from_the_same_file(third_run):
    results = third_run / "results"
    pd.testing.assert_frame_equal(pd.read_parquet(results / "derived" / "christie_copy.parquet"),
                                  pd.read_parquet(results / "derived" / "christie.parquet"))
    for table in ("baseline", "bm_features", "survival"):
        assert (results / "tables" / f"christie_copy_{table}.md").read_bytes() == \
            (results / "tables" / f"christie_{table}.md").read_bytes(), table
    numbers = yaml.safe_load((results / "numbers.yml").read_text(encoding="utf-8"))
    assert numbers["christie_copy"] == numbers["christie"]  # every number the text may quote
    private = {s: (results / "analysis" / f"{s}.json").read_bytes() for s in ("christie", "christie_copy")}
    assert private["christie_copy"] == private["christie"]  # the unsuppressed analysis output too
    assert numbers["methods"]["christie_copy"] == numbers["methods"]["christie"]
    for name in ("flow_christie_copy", "christie_copy_management", "km_christie_copy_os_from_bm"):
        assert (results / "figures" / f"{name}.png").stat().st_size > 0


def test_third_cohort_has_a_supplement_section_with_its_replication_table(third_run):
    results = third_run / "results"
    replication = pd.read_csv(results / "reproduction" / "christie_copy_replication.csv", dtype=str,
                              keep_default_na=False)
    checks = pd.read_csv(results / "reproduction" / "checks.csv", dtype=str, keep_default_na=False)
    published = checks[checks["study"] == "christie"].set_index("quantity")
    assert len(replication) == len(published) == 45
    for row in replication.itertuples():
        assert row.published == published.loc[row.quantity, "published"]
        assert row.twin == row.cohort == published.loc[row.quantity, "reproduced"]
    section = (results / "supplement" / "additional_cohorts.md").read_text(encoding="utf-8")
    assert section.startswith("# Additional cohorts") and "christie_copy_replication.md" in section
    html = (results / "supplement" / "supplement.html").read_text(encoding="utf-8")
    assert "Additional cohorts" in html and "Study A (twin)" in html and "{{&lt;" not in html
    # the caption names what the design's main study's input was (here the embedded twin)
    assert "its value in Study A (the embedded synthetic twin) and in this cohort" in html
    assert "Published number" in html and "| bm_n |" not in (results / "reproduction" / "christie_copy_replication.md").read_text()
    # the main reproduction check is the published studies' only
    assert set(checks["study"]) == {"christie", "mayo"}
