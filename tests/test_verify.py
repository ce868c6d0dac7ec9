"""make verify / make manifest / code digests / codecheck.yml (issue 10).

Unit tests build small cases by hand; the workflow-level tests reuse the session's `workflow_run`
(no extra full run): the committed manifest must match it, editing a package module must rerun
exactly the dependent rules, a changed analysis choice must show up as named differences, and
codecheck.yml must list every shareable output of the DAG.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from nenbone.verify.certificate import checks_summary, certificate_markdown
from nenbone.verify.codecheck import codecheck_config, is_shareable, rule_docstrings, summary_outputs
from nenbone.verify.cross_engine import compare_values
from nenbone.verify.digest import code_digest, imported_files
from nenbone.verify.manifest import MANIFEST, UPDATE_COMMAND, build_manifest, compare, flatten, load_manifest
from nenbone.verify.run import papers

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------
# Code digests
# ---------------------------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def fake_package(tmp_path):
    src = tmp_path / "src"
    _write(src / "nenbone/__init__.py", "")
    _write(src / "nenbone/a/__init__.py", "")
    _write(src / "nenbone/a/low.py", "X = 1\n")
    _write(src / "nenbone/a/mid.py", "from .low import X\n")                      # relative import
    _write(src / "nenbone/a/template.txt", "data beside a module\n")
    _write(src / "nenbone/b/__init__.py", "import importlib\n"
                                          "def get(n):\n    return importlib.import_module(f'nenbone.b.{n}')\n")
    _write(src / "nenbone/b/one.py", "")
    _write(src / "nenbone/b/two.py", "")
    _write(src / "nenbone/c.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from nenbone.a import mid\n")
    _write(src / "nenbone/unused.py", "")
    script = _write(tmp_path / "scripts/r.py", "def main():\n    from nenbone.c import thing\n    import nenbone.b\n")
    return tmp_path, src, script


def test_imported_files_transitive_by_hand(fake_package):
    root, src, script = fake_package
    got = sorted(p.relative_to(src.resolve()).as_posix() for p in imported_files(script, src))
    assert got == ["nenbone/__init__.py", "nenbone/a/__init__.py", "nenbone/a/low.py", "nenbone/a/mid.py",
                   "nenbone/a/template.txt", "nenbone/b/__init__.py", "nenbone/b/one.py", "nenbone/b/two.py",
                   "nenbone/c.py"]
    # excluding a package leaves out its modules and what only they import
    got = sorted(p.relative_to(src.resolve()).as_posix() for p in imported_files(script, src, ("nenbone.a",)))
    assert "nenbone/a/low.py" not in got and "nenbone/c.py" in got


def test_digest_changes_only_with_what_the_script_runs(fake_package):
    root, src, script = fake_package
    before = code_digest(script, src)
    (src / "nenbone/unused.py").write_text("Y = 2\n")
    assert code_digest(script, src) == before
    (src / "nenbone/a/low.py").write_text("X = 2\n")
    from nenbone.verify import digest

    digest._digest.cache_clear()
    assert code_digest(script, src) != before


# ---------------------------------------------------------------------------------------------
# Manifest, certificate, cross-engine comparison
# ---------------------------------------------------------------------------------------------


def test_flatten_and_compare_name_every_difference():
    assert flatten({"a": {"b": 1, "c": [2, {"d": "x"}]}}) == {"a.b": 1, "a.c.0": 2, "a.c.1.d": "x"}
    expected = {"files": {"r/a.csv": "1", "r/b.png": "2", "r/gone.md": "3"}, "numbers": {"x.n": "85", "x.p": 0.03}}
    found = {"files": {"r/a.csv": "1", "r/b.png": "9", "r/new.md": "4"}, "numbers": {"x.n": "85", "x.p": 0.031, "y": 1}}
    c = compare(expected, found)
    assert not c.ok and c.files_identical == ["r/a.csv"]
    assert c.problems() == ["file differs: r/b.png", "file missing from the run: r/gone.md",
                            "file not in the manifest: r/new.md",
                            "number differs: x.p: manifest 0.03, run 0.031", "number not in the manifest: y"]
    assert compare(expected, expected).ok
    assert not compare({"numbers": {"k": "14"}}, {"numbers": {"k": 14}}).ok  # '14' is not 14


def test_checks_summary_by_status_and_source(tmp_path):
    pd.DataFrame({"status": ["match", "match", "mismatch", "not-reproducible"],
                  "source": ["abstract", "poster", "abstract", "abstract"]}).to_csv(tmp_path / "c.csv", index=False)
    s = checks_summary(tmp_path / "c.csv")
    assert s["total"] == 4
    assert s["by_status"] == {"match": 2, "mismatch": 1, "not-reproducible": 1}
    assert s["by_source"]["abstract"] == {"match": 1, "mismatch": 1, "not-reproducible": 1}
    # with readable source names (reproduction_check's checks.csv), two studies' abstracts stay apart
    pd.DataFrame({"status": ["match", "match", "mismatch"], "source": ["abstract", "abstract", "abstract"],
                  "source_label": ["Lim 2019 abstract", "Croome 2016 abstract", "Croome 2016 abstract"]}
                 ).to_csv(tmp_path / "d.csv", index=False)
    assert checks_summary(tmp_path / "d.csv")["by_source"] == {
        "Croome 2016 abstract": {"match": 1, "mismatch": 1}, "Lim 2019 abstract": {"match": 1, "mismatch": 0}}


def test_cross_engine_comparison_reports_largest_difference_per_quantity():
    ours = {("s.os", "median"): 31.0, ("s.os", "ci_loglog_upper"): 42.9, ("s.cox", "hr"): 1.777977,
            ("s.cox", "p"): 0.008783, ("s.nr", "median"): None}
    r = {("s.os", "median"): 31.0 + 1e-12, ("s.os", "ci_loglog_upper"): 42.9, ("s.cox", "hr"): 1.7779666,
         ("s.cox", "p"): 0.0087834, ("s.nr", "median"): float("nan")}
    res = compare_values(ours, r, "R")
    assert res.n_compared == 4  # the median not reached on both sides is not a difference
    assert res.largest["Cox hazard ratio"]["difference"] == pytest.approx(1.04e-5, rel=1e-3)
    assert [d["quantity"] for d in res.outside_tolerance] == ["hr"]  # p differs by 4e-7: within 1e-6
    assert res.status == "differ"


def test_certificate_names_differences():
    cert = {"verdict": "fail", "verdict_reason": "2 difference(s)", "papers": [{"citation": "Lim et al."}],
            "git": {"commit": "abc", "dirty": False}, "command": "make verify", "checked_at": "2026-01-01 00:00:00",
            "run_seconds": 100.0, "total_seconds": 120.0, "cores": 2,
            "environment": {"platform": "Linux x86_64", "python": "3.11.7"}, "packages": {"pandas": "2"},
            "manifest": compare({"files": {"a": "1"}, "numbers": {"n": 1}}, {"files": {"a": "2"}, "numbers": {"n": 2}}).as_dict(),
            "reproduction": None, "cross_engine": {"status": "not run", "reason": "Rscript is not on PATH"}}
    md = certificate_markdown(cert)
    assert "`a`" in md and "| `n` | 1 | 2 |" in md and "Status: **not run**. Rscript is not on PATH" in md


# ---------------------------------------------------------------------------------------------
# Against the session's workflow run (no extra full run)
# ---------------------------------------------------------------------------------------------


@pytest.mark.integration  # runs the whole workflow (session fixture)
def test_committed_manifest_matches_a_fresh_run(workflow_run):
    committed = load_manifest(REPO / MANIFEST)
    comparison = compare(committed, build_manifest(workflow_run))
    assert comparison.ok, (f"{MANIFEST} no longer matches a fresh run; if the change is intended, run "
                           f"`{UPDATE_COMMAND}` and commit {MANIFEST}:\n" + "\n".join(comparison.problems()[:50]))


def _snakemake(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--directory", str(root),
                           "--snakefile", str(root / "Snakefile"), *args], cwd=root, capture_output=True, text=True,
                          timeout=600)


def _planned_rules(output: str) -> set[str]:
    """Rule names from the 'Job stats' table of a dry run."""
    table = output.split("Job stats:", 1)[1].split("\n\n", 1)[0] if "Job stats:" in output else ""
    rows = [line.split() for line in table.splitlines()[2:]]
    return {r[0] for r in rows if len(r) == 2 and r[1].isdigit() and r[0] != "total"}


@pytest.mark.integration  # runs the whole workflow (session fixture)
def test_editing_a_package_module_reruns_exactly_the_dependent_rules(workflow_run):
    module = workflow_run / "src/nenbone/analysis/survival.py"
    original = module.read_bytes()
    try:
        module.write_bytes(original + b"\n# edited\n")
        proc = _snakemake(workflow_run, "-n")
        assert proc.returncode == 0, proc.stderr[-3000:]
        planned = _planned_rules(proc.stdout + proc.stderr)
    finally:
        module.write_bytes(original)
    # the rules whose scripts import analysis/survival.py, directly or through another module; the
    # figures that only draw what analysis wrote (flow, propensity plots) and the data rules do not
    assert planned == {"all", "analyse_christie", "analyse_mayo", "figure_km", "figure_management",
                       "figure_forest", "figure_schoenfeld", "numbers", "reproduction_check", "render_supplement"}
    assert not planned & {"synthetic_cohort", "ingest", "validate", "derive", "match", "figure_flow"}
    # restored: nothing to do
    proc = _snakemake(workflow_run, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


@pytest.mark.integration  # runs the whole workflow (session fixture)
def test_a_changed_analysis_choice_is_named(workflow_run, tmp_path):
    """A copy of the finished run with one analysis choice changed (confidence level 0.95 -> 0.90):
    the comparison with the committed manifest fails and names the numbers and files. (`make verify`
    itself was run by hand with `-- --config days_per_month=30`: exit 1, every file and number named.)"""
    copy = tmp_path / "run"
    shutil.copytree(workflow_run, copy, symlinks=True, ignore=shutil.ignore_patterns("locks", "log"))
    config = copy / "config/config.yaml"
    text = config.read_text()
    assert "confidence_level: 0.95" in text
    config.write_text(text.replace("confidence_level: 0.95", "confidence_level: 0.90"))
    proc = _snakemake(copy, "--cores", "2", "results/numbers.yml")  # the analyses only: cheap
    assert proc.returncode == 0, proc.stderr[-3000:]
    comparison = compare(load_manifest(REPO / MANIFEST), build_manifest(copy))
    problems = comparison.problems()
    assert not comparison.ok
    assert "file differs: results/tables/christie_survival.csv" in problems
    assert "file differs: results/numbers.yml" in problems
    assert "file differs: results/tables/christie_baseline.csv" not in problems  # no interval in it
    assert any(p.startswith("number differs: christie.os_from_bm.ci_loglog_lower") for p in problems), problems[:20]


@pytest.mark.integration  # runs the whole workflow (session fixture)
def test_codecheck_yml_is_generated_and_covers_every_output(workflow_run):
    text = (REPO / "codecheck.yml").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    config = yaml.safe_load(text)
    assert config["version"] == "https://codecheck.org.uk/spec/config/1.0/"
    assert config["paper"]["reference"] == "https://doi.org/10.1159/000504256"
    assert config["paper"]["title"] and len(config["paper"]["authors"]) == 9
    assert "Croome et al." in text
    proc = _snakemake(workflow_run, "--summary")
    assert proc.returncode == 0, proc.stderr[-3000:]
    outputs = summary_outputs(proc.stdout)
    listed = {m["file"] for m in config["manifest"]}
    assert all(m["comment"] for m in config["manifest"])
    shareable = {f for f, _ in outputs if is_shareable(f)}
    assert shareable - listed == set(), "codecheck.yml misses outputs; run `make codecheck`"
    # every file rule all asks for is listed
    for f in ["results/reproduction/checks.csv", "results/supplement/supplement.html",
              "results/supplement/supplement.pdf", "results/figures/flow_mayo.pdf", "results/provenance.md"]:
        assert f in listed
    # and the committed file is exactly what the generator writes
    assert text == codecheck_config(outputs, rule_docstrings(REPO / "rules"), papers(REPO))
