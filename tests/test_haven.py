"""R's haven opens the files write_raw makes, with labels, user-missing codes / tagged NA and dates.

Needs Rscript with haven (install: tests/install_r_haven.sh); skipped, with the reason printed,
when Rscript is absent.
"""

from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest

from nenbone.codebook import parse_codebook
from nenbone.io.spss_stata import write_raw

from conftest import tiny_codebook_dict

RSCRIPT = shutil.which("Rscript")
if RSCRIPT is None:
    print("test_haven.py: SKIPPED: Rscript not found on PATH (run tests/install_r_haven.sh to install R + haven)")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    RSCRIPT is None, reason="Rscript not found on PATH; run tests/install_r_haven.sh to install R + haven")]

R_SAV = r"""
suppressPackageStartupMessages(library(haven))
d <- read_sav(commandArgs(TRUE)[1], user_na = TRUE)
g <- d$grade
out <- c(
  class_grade = paste(class(g), collapse = ","),
  label_grade = attr(g, "label"),
  labels_grade = paste(paste0(unname(attr(g, "labels")), "=", names(attr(g, "labels"))), collapse = ";"),
  na_values_grade = paste(attr(g, "na_values"), collapse = ","),
  values_grade = paste(unclass(zap_labels(zap_missing(g))), collapse = ","),
  raw_grade = paste(as.numeric(vctrs::vec_data(g)), collapse = ","),
  is_na_grade = paste(is.na(g), collapse = ","),
  na_values_ki67 = paste(attr(d$ki67, "na_values"), collapse = ","),
  class_dx = paste(class(d$diagnosis_date), collapse = ","),
  dx = paste(format(d$diagnosis_date), collapse = ","),
  death = paste(format(d$death_date), collapse = ","),
  ids = paste(d$patient_id, collapse = ",")
)
cat(paste0(names(out), "\t", out), sep = "\n")
"""

R_DTA = r"""
suppressPackageStartupMessages(library(haven))
d <- read_dta(commandArgs(TRUE)[1])
g <- d$grade
out <- c(
  class_grade = paste(class(g), collapse = ","),
  label_grade = attr(g, "label"),
  labels_grade = paste(paste0(unname(attr(g, "labels")), "=", names(attr(g, "labels"))), collapse = ";"),
  is_na_grade = paste(is.na(g), collapse = ","),
  tagged_a_grade = paste(is_tagged_na(g, "a"), collapse = ","),
  tags_grade = paste(ifelse(is.na(na_tag(g)), "-", na_tag(g)), collapse = ","),
  class_dx = paste(class(d$diagnosis_date), collapse = ","),
  dx = paste(format(d$diagnosis_date), collapse = ","),
  file_label = attr(d, "label")
)
cat(paste0(names(out), "\t", out), sep = "\n")
"""


def _haven(script: str, path) -> dict[str, str]:
    res = subprocess.run([RSCRIPT, "-e", script, str(path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return dict(line.split("\t", 1) for line in res.stdout.strip().splitlines())


def test_haven_reads_sav_labels_user_missing_and_dates(tmp_path, tiny_codebook, tiny_raw):
    path = write_raw(tiny_raw, tmp_path / "cohort.sav", tiny_codebook)
    out = _haven(R_SAV, path)
    assert out["class_grade"].split(",")[:2] == ["haven_labelled_spss", "haven_labelled"]
    assert out["label_grade"] == "WHO grade"
    assert out["labels_grade"] == "1=G1;2=G2;3=G3;9=Unknown"
    assert out["na_values_grade"] == "9"
    assert out["na_values_ki67"] == "999"
    assert out["raw_grade"] == "1,9,2,3"  # the code is kept ...
    assert out["is_na_grade"] == "FALSE,TRUE,FALSE,FALSE"  # ... and R counts it as missing
    assert out["class_dx"] == "Date"
    assert out["dx"] == ",".join(d.strftime("%Y-%m-%d") for d in tiny_raw["diagnosis_date"])
    assert out["death"] == "2014-02-01,NA,2015-03-31,NA"
    assert out["ids"] == "P1,P2,P3,P4"


def test_haven_reads_dta_labels_tagged_na_and_dates(tmp_path, tiny_raw):
    raw = tiny_codebook_dict(source_format="dta")
    raw["variables"]["grade"] = {"label": "WHO grade", "type": "categorical", "codes": {1: "G1", 2: "G2", 3: "G3"},
                                 "missing_codes": [".a"]}
    raw["variables"]["ki67"] = {"label": "Ki-67 index", "type": "numeric"}
    cb = parse_codebook(raw)
    frame = tiny_raw.assign(grade=pd.Series([1, "a", 2, 3], dtype=object), ki67=[1.5, 12.0, None, None])
    path = write_raw(frame, tmp_path / "cohort.dta", cb, file_label="Stata twin")
    out = _haven(R_DTA, path)
    assert out["class_grade"].split(",")[0] == "haven_labelled"
    assert out["label_grade"] == "WHO grade"
    assert out["labels_grade"] == "1=G1;2=G2;3=G3"
    assert out["is_na_grade"] == "FALSE,TRUE,FALSE,FALSE"
    assert out["tagged_a_grade"] == "FALSE,TRUE,FALSE,FALSE"
    assert out["tags_grade"] == "-,a,-,-"
    assert out["class_dx"] == "Date"
    assert out["dx"] == ",".join(d.strftime("%Y-%m-%d") for d in tiny_raw["diagnosis_date"])
    assert out["file_label"] == "Stata twin"


R_TWIN = r"""
suppressPackageStartupMessages(library(haven))
path <- commandArgs(TRUE)[1]
d <- if (grepl("[.]sav$", path)) read_sav(path, user_na = TRUE) else read_dta(path)
for (v in names(d)) {
  x <- d[[v]]
  lab <- attr(x, "label"); if (is.null(lab)) lab <- ""
  nlab <- length(attr(x, "labels"))
  nav <- paste(attr(x, "na_values"), collapse = ",")
  ntag <- if (is.double(x)) sum(is_tagged_na(x, "a")) else 0
  cat(v, lab, class(x)[1], nlab, nav, sum(is.na(x)), ntag, sep = "\t"); cat("\n")
}
"""


@pytest.mark.parametrize("study,ext", [("christie", "sav"), ("mayo", "dta")])
def test_haven_opens_the_synthetic_twins_as_a_clinicians_export(tmp_path, study, ext):
    """The embedded default files: every variable label, value labels, missing codes and dates as R sees them."""
    from pathlib import Path

    import yaml

    from nenbone.codebook import load_codebook
    from nenbone.synthetic import generator

    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "config" / "config.yaml").read_text())
    codebook = load_codebook(root / "config" / "codebooks" / f"{study}.yaml")
    raw = generator(study)(config["synthetic"][study], config[study])
    path = write_raw(raw, tmp_path / f"{study}.{ext}", codebook)
    res = subprocess.run([RSCRIPT, "-e", R_TWIN, str(path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    seen = {row[0]: row[1:] for row in (line.split("\t") for line in res.stdout.strip().splitlines())}
    assert list(seen) == list(codebook.variables)
    tagged_total = 0
    for name, var in codebook.variables.items():
        label, cls, n_labels, na_values, n_na, n_tagged = seen[name]
        tagged_total += int(n_tagged)
        assert label == var.label, name
        if var.type == "date":
            assert cls == "Date", name
        if var.codes:
            assert int(n_labels) == len(var.codes), name
        if ext == "sav" and var.numeric_missing_codes:
            assert {float(v) for v in na_values.split(",") if v} == {float(c) for c in var.numeric_missing_codes}, name
        if ext == "dta" and "a" in var.stata_missing_codes:
            assert int(n_tagged) == int((raw[name].astype(str) == "a").sum()), name
    if ext == "dta":
        assert tagged_total > 0  # the Stata twin has "not recorded" (.a) values and R sees them as tagged NA
