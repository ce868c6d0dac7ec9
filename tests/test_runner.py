"""The glue between rule scripts and the package: clean failures and an importable package in jobs."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from nenbone.errors import NenboneError
from nenbone.runner import expose_to_jobs, run_rule

SRC = Path(__file__).resolve().parents[1] / "src"


def test_expose_to_jobs_puts_src_first_once(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["/elsewhere", str(SRC)]))
    expose_to_jobs(SRC)
    expose_to_jobs(SRC)
    assert os.environ["PYTHONPATH"].split(os.pathsep) == [str(SRC.resolve()), "/elsewhere"]


def test_an_interpreter_without_the_package_imports_it_after_expose(monkeypatch, tmp_path):
    """A conda env's Python (here: the system one, which lacks nenbone) finds the package via PYTHONPATH."""
    python = shutil.which("python3", path="/usr/bin:/bin")
    if python is None:
        pytest.skip("no system python3 at /usr/bin to stand in for a conda environment's interpreter")
    probe = [python, "-c", "import nenbone.runner, sys; print(nenbone.runner.__file__)"]
    monkeypatch.delenv("PYTHONPATH", raising=False)
    before = subprocess.run(probe, capture_output=True, text=True, cwd=tmp_path)
    if before.returncode == 0:
        pytest.skip(f"{python} already has nenbone installed; nothing to show")
    expose_to_jobs(SRC)
    after = subprocess.run(probe, capture_output=True, text=True, cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    assert Path(after.stdout.strip()).is_relative_to(SRC.resolve())


def test_run_rule_turns_a_nenbone_error_into_a_message_and_exit_1(tmp_path, capsys):
    log = tmp_path / "rule.log"

    def main(smk, logger):
        raise NenboneError("mayo.dta: variable age_years: patient(s) B007: out of range [18, 100]")

    with pytest.raises(SystemExit) as stop:
        run_rule(SimpleNamespace(log=[str(log)], rule="validate"), main)
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert "B007" not in err and "Traceback" not in err  # patient IDs stay in the private log
    assert "mayo.dta: variable age_years [details name patients]" in err and str(log) in err
    assert "B007" in log.read_text()
    logging.getLogger().handlers.clear()


class _Files:
    """Any named or positional input/output of a rule: a path in `folder` (inputs: one broken file)."""

    def __init__(self, folder: Path, broken: Path | None) -> None:
        self._folder, self._broken = folder, broken

    def _path(self, name: str) -> str:
        return str(self._broken) if self._broken is not None else str(self._folder / f"{name}.out")

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._path(name)

    def __getitem__(self, i: int) -> str:
        return self._path(f"item{i}")

    def __iter__(self):
        return iter([self._path("item0")])

    def __len__(self) -> int:
        return 1


class _Params:
    """Parameters as a broken config gives them: every one an empty mapping."""

    def __getattr__(self, name: str) -> dict:
        if name.startswith("__"):
            raise AttributeError(name)
        return {}


# additional_cohorts reads no data file (only its design templates): with no study listed it writes an
# empty section, which is right, so there is no broken input to give it.
RULE_SCRIPTS = sorted(p for p in (Path(__file__).resolve().parents[1] / "scripts").glob("*.py")
                      if p.stem != "additional_cohorts")


@pytest.mark.parametrize("script", RULE_SCRIPTS, ids=lambda p: p.stem)
def test_every_rule_script_fails_on_a_broken_input_without_a_traceback(script, tmp_path, capsys):
    """Whatever breaks inside a rule's script: exit 1, one message naming the rule, detail in its log."""
    import runpy

    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"\x00\x01 not what any rule expects \xff")
    log = tmp_path / "rule.log"
    smk = SimpleNamespace(
        rule=script.stem, input=_Files(tmp_path, broken), output=_Files(tmp_path, None), params=_Params(),
        wildcards=SimpleNamespace(study="christie", ext="sav", analysis="x", figure="x"), log=[str(log)],
        threads=1, resources=SimpleNamespace(), config={},
    )
    with pytest.raises(SystemExit) as stop:
        runpy.run_path(str(script), init_globals={"snakemake": smk}, run_name="__main__")
    logging.getLogger().handlers.clear()
    out = capsys.readouterr()
    assert stop.value.code == 1
    assert "Traceback" not in out.err + out.out
    assert f"rule '{script.stem}' failed" in out.err
    assert log.read_text(encoding="utf-8").strip()


def test_a_validation_error_shows_counts_on_the_console_and_ids_in_the_log(tmp_path, capsys):
    from nenbone.errors import ValidationError, Violation

    log = tmp_path / "validate.log"
    error = ValidationError("christie.sav", [
        Violation("age", "range [0, 110]", ("C0001", "C0042"), detail="values 140, 150"),
        Violation("death_date", "after diagnosis_date", ("C0042",)),
    ])

    def main(smk, logger):
        raise error

    with pytest.raises(SystemExit):
        run_rule(SimpleNamespace(log=[str(log)], rule="validate"), main)
    err = capsys.readouterr().err
    assert "variable 'age': rule 'range [0, 110]' broken (2 patient(s))" in err
    assert "variable 'death_date': rule 'after diagnosis_date' broken (1 patient(s))" in err
    assert "C00" not in err and "140" not in err and str(log) in err
    assert "C0001, C0042" in log.read_text() and "values 140, 150" in log.read_text()
    logging.getLogger().handlers.clear()
