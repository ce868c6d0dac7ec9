"""Regenerate the broken-file corpus (deterministic: same bytes on every run).

    .venv/bin/python tests/data/bad/make_bad_corpus.py [OUT_DIR]   # default: this directory

Each file breaks one thing (several_violations.sav breaks four); README.md lists the expected errors.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pandas as pd

from nenbone.codebook import load_codebook
from nenbone.io.spss_stata import write_raw

HERE = Path(__file__).resolve().parent
STAMP = 0  # fixed header timestamp (1970-01-01 00:00 UTC), whatever SOURCE_DATE_EPOCH says


def base_frame() -> pd.DataFrame:
    """Six valid patients; P002's grade is the declared missing code 9."""
    return pd.DataFrame({
        "patient_id": ["P001", "P002", "P003", "P004", "P005", "P006"],
        "sex": [1, 2, 2, 1, 1, 2],
        "age_at_diagnosis": [58, 47, 70, 33, 64, 51],
        "grade": [1, 9, 2, 3, 1, 2],
        "ki67": [1.5, 12.0, 4.0, 35.0, 999.0, 2.0],
        "date_of_diagnosis": pd.to_datetime(["2010-01-15", "2012-06-01", "2015-03-31", "2012-12-01",
                                             "2016-07-19", "2009-11-02"]),
        "date_of_death": pd.to_datetime(["2014-02-01", None, "2016-01-01", "2013-05-06", None, None]),
    })


def make(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    cb = load_codebook(HERE / "codebook.yaml")
    written: list[Path] = []

    def put(frame: pd.DataFrame, name: str, codebook=cb) -> Path:
        path = write_raw(frame, out / name, codebook, file_label="nenbone broken-file corpus", timestamp=STAMP)
        written.append(path)
        return path

    def put_bytes(data: bytes, name: str) -> Path:
        path = out / name
        path.write_bytes(data)
        written.append(path)
        return path

    good = put(base_frame(), "good.sav")
    good_bytes = good.read_bytes()
    put_bytes(good_bytes[:-60], "truncated.sav")  # the last rows are cut off
    put_bytes(b"", "empty.sav")
    stata = put(base_frame(), "good_stata.dta")
    put_bytes(stata.read_bytes(), "wrong_extension.sav")  # Stata content, SPSS extension
    written.remove(stata)
    stata.unlink()
    put_bytes(b"patient_id,sex,age_at_diagnosis\nP001,1,58\n", "not_spss.sav")
    put_bytes(b"patient_id,sex,age_at_diagnosis\nP001,1,58\n", "cohort.csv")

    put(base_frame().drop(columns=["grade"]), "missing_variable.sav")
    put(base_frame().assign(grade=[1, 9, 4, 3, 1, 2]), "undeclared_code.sav")
    # grade 9 written WITHOUT declaring it user-missing in the file: SPSS would read it as grade 9.
    no_missing = dataclasses.replace(cb.variables["grade"], missing_codes=())
    cb_no_missing = dataclasses.replace(cb, variables={**cb.variables, "grade": no_missing})
    put(base_frame(), "missing_code_as_number.sav", cb_no_missing)
    put(base_frame().assign(patient_id=["P001", "P002", "P002", "P004", "P005", "P006"]), "duplicate_ids.sav")
    put(base_frame().assign(date_of_death=pd.to_datetime(["2014-02-01", None, "2016-01-01", "2011-05-06", None,
                                                          None])), "death_before_diagnosis.sav")
    put(base_frame().assign(age_at_diagnosis=["58", "47", "70", "33", "unknown", "51"]), "text_in_numeric.sav")
    put(base_frame().assign(
        patient_id=["P001", "P002", "P003", "P004", "P005", "P005"],
        grade=[7, 9, 2, 3, 1, 2],
        age_at_diagnosis=[58, 47, 130, 33, 64, 51],
        date_of_death=pd.to_datetime(["2014-02-01", "2011-01-01", "2016-01-01", "2013-05-06", None, None]),
    ), "several_violations.sav")
    # Stata cannot declare 9 or 999 as missing, so this file avoids them; P006 has the undeclared .b
    put(base_frame().assign(grade=pd.Series([1, 1, 2, 3, 1, "b"], dtype=object),
                            ki67=[1.5, 12.0, 4.0, 35.0, None, 2.0]), "undeclared_stata_missing.dta")
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for p in make(target):
        print(f"{p.name:32s} {p.stat().st_size:6d} bytes")
