"""Configured inputs checked before any job: missing paths refused, a user's file at a twin's path never replaced."""

from __future__ import annotations

import os

import pytest

from nenbone.io.inputs import input_problems, twin_record_path, write_twin_record, written_by_workflow

TWIN = "resources/synthetic/{design}.{ext}"


def config(a_input="resources/synthetic/a.sav", a_codebook="config/a.yaml"):
    return {"studies": {"a": {"input": a_input, "codebook": a_codebook}}}


@pytest.fixture
def root(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "a.yaml").write_text("study: a\n")
    return tmp_path


def test_a_twin_not_made_yet_is_fine(root):
    assert input_problems(config(), TWIN, ["sav", "dta"], ["a"], root) == ""


def test_every_missing_or_unusable_file_is_named_with_its_key(root):
    (root / "data").mkdir()
    msg = input_problems(config(a_input="exports/a.sav", a_codebook="data"), TWIN, ["sav"], ["a"], root)
    assert "config 'studies.a.input': exports/a.sav does not exist" in msg
    assert "config 'studies.a.codebook': data is not a regular file" in msg


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_refused(root):
    export = root / "a.sav"
    export.write_bytes(b"x")
    export.chmod(0)
    assert "a.sav cannot be read" in input_problems(config(a_input="a.sav"), TWIN, ["sav"], ["a"], root)


def test_the_workflows_own_twin_is_recognised_by_its_record(root):
    twin = root / "resources" / "synthetic" / "a.sav"
    twin.parent.mkdir(parents=True)
    twin.write_bytes(b"twin bytes")
    write_twin_record(twin)
    assert twin_record_path(twin).read_text().endswith("  a.sav\n")
    assert written_by_workflow(twin)
    assert input_problems(config(), TWIN, ["sav"], ["a"], root) == ""


@pytest.mark.parametrize("record", [None, "stale"])
def test_a_users_file_at_a_twins_path_is_refused_not_replaced(root, record):
    twin = root / "resources" / "synthetic" / "a.sav"
    twin.parent.mkdir(parents=True)
    twin.write_bytes(b"twin bytes")
    if record:
        write_twin_record(twin)
    twin.write_bytes(b"the user's own export")  # copied over the twin (or there before any run)
    assert not written_by_workflow(twin)
    msg = input_problems(config(), TWIN, ["sav"], ["a"], root)
    assert "studies.a.input" in msg and "was not written by this workflow" in msg
    assert twin.read_bytes() == b"the user's own export"
