"""Every dialect of the corpus (tests/dialects.py) gives the twin's results exactly, through the package.

The twin and each dialect go through ingest -> validate -> derive -> analysis with the same package
functions the rules call; derived data, attrition and every analysis table must be equal. A faithful
codebook with one meaning left out is refused by name, before a run (preflight) and in the derivation.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from dialects import CONFIG, DIALECTS, ROOT, build, write_twin
from nenbone.codebook import load_codebook
from nenbone.derive import design_module
from nenbone.errors import ConfigError, InputFileError
from nenbone.io.files import sha256_file
from nenbone.io.ingest import EMBEDDED_TWIN_SHA256, prepare_ingest, restore_raw
from nenbone.preflight import file_problems, study_problems
from nenbone.validation import validate

ANALYSIS = yaml.safe_load((ROOT / "config" / "analysis.yaml").read_text(encoding="utf-8"))
DPM = CONFIG["days_per_month"]


def pipeline(study: str, data: Path, book: Path) -> dict[str, Any]:
    """ingest -> validate -> derive -> analysis tables, as the rules do it."""
    cb = load_codebook(book)
    frame, meta = prepare_ingest(data, cb)
    raw = restore_raw(frame, meta)
    clean = validate(raw, cb, str(data), meta)
    module = design_module(study)
    derived = module.derive(clean, copy.deepcopy(CONFIG[study]), DPM, cb)
    return {"derived": derived, "attrition": module.attrition(clean, CONFIG[study], cb), "meta": meta,
            "tables": analysis_tables(study, derived, len(raw))}


def analysis_tables(study: str, derived: pd.DataFrame, n_rows: int) -> dict[str, pd.DataFrame]:
    """The tables the analysis rules write, by the functions their scripts call (match_study, analyse_<design>).

    The mayo design runs without the multiple-imputation sensitivity analysis (20 imputations), to keep
    the corpus cheap; everything else is what scripts/match.py and scripts/analyse_mayo.py compute."""
    from nenbone.analysis.matching import match_study
    from nenbone.presentation.analyses import AnalysisSettings
    from nenbone.presentation.christie_analysis import analyse_christie
    from nenbone.presentation.mayo_analysis import analyse_mayo

    spec = CONFIG[study]
    settings = AnalysisSettings(ANALYSIS["plans"][study], ANALYSIS["numbers"][study], CONFIG["analysis"],
                                spec["median_ci"], 0)
    if study == "christie":
        return analyse_christie(derived, n_rows, settings).tables
    labels = {n: d.label for n, d in load_codebook(ROOT / "config" / "codebooks" / "mayo.yaml").derived.items()}
    m = match_study(derived, spec["matching"], labels)
    result = analyse_mayo(derived, m.matched, m.scores, m.balance, m.summary, n_rows, settings, spec["matching"],
                          spec["sensitivity"], labels=labels)
    return {**result.tables, "matched": m.matched.reset_index(drop=True), "effects": result.effects}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("dialects")
    twins = {study: write_twin(study, folder) for study in ("christie", "mayo")}
    default = {study: pipeline(study, path, ROOT / "config" / "codebooks" / f"{study}.yaml")
               for study, path in twins.items()}
    return {"folder": folder, "twins": twins, "default": default,
            "dialects": {name: build(name, folder) for name in DIALECTS}}


def test_the_twins_are_recognised_by_their_sha256(corpus):
    for study, path in corpus["twins"].items():
        assert EMBEDDED_TWIN_SHA256.get(sha256_file(path)) == study
        assert corpus["default"][study]["meta"]["data_origin"]["embedded_twin"] is True


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_each_dialect_reproduces_the_default_results(corpus, name):
    study, data, book = corpus["dialects"][name]
    got = pipeline(study, data, book)
    want = corpus["default"][study]
    assert len(got["derived"]) > 0
    pd.testing.assert_frame_equal(got["derived"], want["derived"])
    assert got["attrition"] == want["attrition"]
    assert set(got["tables"]) == set(want["tables"])
    for table in want["tables"]:
        pd.testing.assert_frame_equal(got["tables"][table], want["tables"][table], obj=f"{name}: table {table}")
    # a user's export: never called synthetic
    assert got["meta"]["data_origin"]["embedded_twin"] is False
    assert "synthetic" not in got["meta"]["data_origin"]["origin"]


def test_vital_status_1_alive_2_dead_gives_the_default_survival(corpus):
    """The issue's silent wrong result: 1 = alive, 2 = dead declared faithfully."""
    study, data, book = corpus["dialects"]["christie_recoded"]
    import pyreadstat

    _, meta = pyreadstat.read_sav(str(data), metadataonly=True)
    assert meta.variable_value_labels["status"] == {1.0: "Alive", 2.0: "Dead"}
    got = pipeline(study, data, book)["derived"]
    want = corpus["default"]["christie"]["derived"]
    assert int(got["os_from_bm_event"].sum()) == int(want["os_from_bm_event"].sum()) == 59


def test_undeclared_columns_are_dropped_by_name_or_refused(corpus, caplog):
    study, data, book = corpus["dialects"]["christie_recoded"]
    cb = load_codebook(book)
    frame, meta = prepare_ingest(data, cb)
    assert "patient_name" not in frame.columns and "nhs_number" not in frame.columns
    assert meta["dropped_columns"] == ["patient_name", "nhs_number"]
    assert meta["source_columns"]["vital_status"] == "status"
    with pytest.raises(InputFileError, match="patient_name, nhs_number") as err:
        prepare_ingest(data, cb, undeclared="error")
    assert "Name 0" not in str(err.value) and "9000000000" not in str(err.value)  # names, never values


def _codebook_without(book: Path, tmp_path: Path, variable: str, meaning: str | None) -> Path:
    raw = yaml.safe_load(book.read_text(encoding="utf-8"))
    if meaning is None:
        raw["variables"][variable].pop("means")
    else:
        raw["variables"][variable]["means"].pop(meaning)
    out = tmp_path / "codebook.yaml"
    out.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return out


def test_a_meaning_left_out_is_refused_by_name(corpus, tmp_path):
    study, data, book = corpus["dialects"]["christie_recoded"]
    spec = {"input": str(data)}
    # 'dead' left out: code 2 has no meaning -> the codebook itself is refused
    one = _codebook_without(book, tmp_path, "vital_status", "dead")
    problems = study_problems(study, {**spec, "codebook": str(one)}, CONFIG)
    assert any("'vital_status'" in p and "[2]" in p and "no meaning" in p for p in problems), problems
    # no meanings at all for the flag: the derivation's needs are named
    none = _codebook_without(book, tmp_path, "bone_mets", None)
    problems = study_problems(study, {**spec, "codebook": str(none)}, CONFIG)
    assert any("'bone_mets'" in p and "'yes'" in p and "'no'" in p for p in problems), problems
    cb = load_codebook(none)
    with pytest.raises(ConfigError, match=r"'bone_mets'.*'yes'"):
        design_module(study).derive(pd.DataFrame(), CONFIG[study], DPM, cb)


def test_preflight_passes_every_faithful_dialect(corpus):
    for name, (study, data, book) in corpus["dialects"].items():
        assert study_problems(study, {"input": str(data), "codebook": str(book)}, CONFIG) == [], name


def test_file_labels_contradicting_the_codebook_are_refused_showing_both(corpus, tmp_path):
    study, data, book = corpus["dialects"]["christie_recoded"]
    raw = yaml.safe_load(book.read_text(encoding="utf-8"))
    raw["variables"]["vital_status"]["codes"] = {1: "Dead", 2: "Alive"}  # the contradiction
    raw["variables"]["vital_status"]["means"] = {"dead": 1, "alive": 2}
    path = tmp_path / "swapped.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    problems = file_problems(data, load_codebook(path))
    assert any("vital_status" in p and "file 'Alive', codebook 'Dead'" in p for p in problems), problems


def test_source_format_is_checked_against_the_file(corpus, tmp_path):
    study, data, book = corpus["dialects"]["christie_recoded"]
    raw = yaml.safe_load(book.read_text(encoding="utf-8"))
    raw["source_format"] = "dta"
    path = tmp_path / "wrong_format.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    problems = file_problems(data, load_codebook(path))
    assert problems and "source_format: dta" in problems[0] and "SPSS .sav" in problems[0]


def test_a_legacy_encoding_must_be_declared(corpus, tmp_path):
    """A latin-1 label in a file whose header says UTF-8 (ReadStat silently cuts it at the latin-1 byte):
    without `encoding:` the label conflict is refused and the message points at the encoding."""
    study, data, book = corpus["dialects"]["christie_recoded"]
    raw = yaml.safe_load(book.read_text(encoding="utf-8"))
    assert raw.pop("encoding") == "latin-1"
    path = tmp_path / "no_encoding.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    problems = file_problems(data, load_codebook(path))
    assert any("differentiation" in p and "'Non renseign'" in p and "encoding: latin-1" in p for p in problems)
    frame, meta = prepare_ingest(data, load_codebook(book))  # declared: read, label as the codebook's
    assert meta["value_labels"]["differentiation"]["9"].strip() == "Non renseign\u00e9"
