"""Broken inputs (corpus in tests/data/bad/) give clear errors through ingest -> validate, and leave
no output behind."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from nenbone.codebook import load_codebook
from nenbone.errors import InputFileError, NenboneError, ValidationError
from nenbone.io.ingest import ingest
from nenbone.io.spss_stata import read_raw
from nenbone.validation import ingest_and_validate, validate_ingested

BAD = Path(__file__).parent / "data" / "bad"


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(BAD / "codebook.yaml")


def _outputs(d: Path) -> dict[str, Path]:
    return {k: d / f"{k}.{ext}" for k, ext in
            [("raw", "parquet"), ("meta", "json"), ("clean", "parquet"), ("report", "json")]}


def _run_both_paths(name: str, codebook, tmp_path: Path) -> NenboneError:
    """Run the one-step and the two-step path; both must fail the same way, leaving nothing behind."""
    src = BAD / name
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    one = tmp_path / "one"
    one.mkdir()
    o = _outputs(one)
    with pytest.raises(NenboneError) as info:
        ingest_and_validate(src, codebook, o["raw"], o["meta"], o["clean"], o["report"])
    assert list(one.iterdir()) == []  # no outputs, no temp files
    two = tmp_path / "two"
    two.mkdir()
    t = _outputs(two)
    try:
        ingest(src, t["raw"], t["meta"])
    except InputFileError as exc:
        assert type(info.value) is InputFileError
        assert str(exc) == str(info.value)
        assert list(two.iterdir()) == []
    else:
        with pytest.raises(ValidationError) as second:
            validate_ingested(t["raw"], t["meta"], codebook, t["clean"], t["report"])
        assert second.value.violations == info.value.violations
        # ingest's own outputs stand (the file was readable); nothing validated was written
        assert sorted(p.name for p in two.iterdir()) == ["meta.json", "raw.parquet"]
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before  # input never modified
    return info.value


def test_good_file_passes(codebook, tmp_path):
    o = _outputs(tmp_path)
    clean = ingest_and_validate(BAD / "good.sav", codebook, o["raw"], o["meta"], o["clean"], o["report"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.parquet", "meta.json", "raw.parquet", "report.json"]
    assert clean["grade"].isna().tolist() == [False, True, False, False, False, False]
    assert clean["ki67"].isna().tolist() == [False, False, False, False, True, False]
    back = pd.read_parquet(o["clean"])
    assert back["patient_id"].tolist() == ["P001", "P002", "P003", "P004", "P005", "P006"]


@pytest.mark.parametrize("name, phrase", [
    ("truncated.sav", "truncated or corrupt"),
    ("empty.sav", "file is empty"),
    ("wrong_extension.sav", "wrong extension: the content is a Stata .dta file"),
    ("not_spss.sav", "not a valid SPSS .sav file"),
    ("cohort.csv", "unsupported file type '.csv'"),
])
def test_unreadable_files(name, phrase, codebook, tmp_path):
    err = _run_both_paths(name, codebook, tmp_path)
    assert isinstance(err, InputFileError)
    assert str(err).startswith(str(BAD / name) + ":")  # names the file, first
    assert phrase in str(err)
    assert "Traceback" not in str(err)


def test_missing_file(codebook, tmp_path):
    with pytest.raises(InputFileError, match=r"nowhere\.sav: file not found"):
        read_raw(tmp_path / "nowhere.sav")


@pytest.mark.parametrize("name, variable, rule, ids", [
    ("missing_variable.sav", "grade", "present", ()),
    ("undeclared_code.sav", "grade", "declared codes", ("P003",)),
    ("missing_code_as_number.sav", "grade", "missing code used as a number", ("P002",)),
    ("duplicate_ids.sav", "patient_id", "unique id", ("P002",)),
    ("death_before_diagnosis.sav", "date_of_death", "date order", ("P004",)),
    ("text_in_numeric.sav", "age_at_diagnosis", "type", ("P005",)),
    ("undeclared_stata_missing.dta", "grade", "missing code not in codebook", ("P006",)),
])
def test_invalid_files(name, variable, rule, ids, codebook, tmp_path):
    err = _run_both_paths(name, codebook, tmp_path)
    assert isinstance(err, ValidationError)
    assert [(v.variable, v.rule, v.patient_ids) for v in err.violations] == [(variable, rule, ids)]
    msg = str(err)
    assert msg.startswith(f"{BAD / name}: 1 validation error(s)")
    assert f"variable '{variable}'" in msg and f"rule '{rule}'" in msg
    for pid in ids:
        assert pid in msg


def test_several_violations_reported_at_once(codebook, tmp_path):
    err = _run_both_paths("several_violations.sav", codebook, tmp_path)
    assert isinstance(err, ValidationError)
    got = {(v.variable, v.rule, v.patient_ids) for v in err.violations}
    assert got == {("grade", "declared codes", ("P001",)), ("age_at_diagnosis", "range", ("P003",)),
                   ("patient_id", "unique id", ("P005",)), ("date_of_death", "date order", ("P002",))}
    assert str(err).startswith(f"{BAD / 'several_violations.sav'}: 4 validation error(s)")


def test_corpus_is_small_and_reproducible(tmp_path):
    spec = importlib.util.spec_from_file_location("make_bad_corpus", BAD / "make_bad_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    made = mod.make(tmp_path)
    assert len(made) == 14
    for p in made:
        stored = BAD / p.name
        assert stored.stat().st_size < 8192, p.name
        assert p.read_bytes() == stored.read_bytes(), f"{p.name} differs: rerun make_bad_corpus.py"
    readme = (BAD / "README.md").read_text()
    for p in made:
        assert f"`{p.name}`" in readme, f"{p.name} missing from README"


def test_old_stata_format_is_recognised_by_its_version_byte(tmp_path):
    import pyreadstat

    frame = pd.DataFrame({"patient_id": ["P1"], "age": [50.0]})
    old = tmp_path / "old.dta"
    pyreadstat.write_dta(frame, str(old), version=12)  # dta format 115: binary header, no <stata_dta>
    head = old.read_bytes()[:3]
    assert head[0] == 115 and head[2] == 1
    back, meta = read_raw(old)
    assert meta["format"] == "dta" and back["age"].tolist() == [50.0]
    renamed = tmp_path / "old.sav"
    renamed.write_bytes(old.read_bytes())
    with pytest.raises(InputFileError, match=r"old\.sav: wrong extension: the content is a Stata \.dta file"):
        read_raw(renamed)
    assert not list(tmp_path.glob(".*.tmp"))
