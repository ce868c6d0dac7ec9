"""A dialect corpus, built by the tests: each synthetic twin re-expressed as other hospitals export it.

A dialect is the same patients written differently: other column names, other codes (vital status
1 = alive / 2 = dead, sex 0/1, liver extent 0/1, yes/no 1/2), text codes (M/F, Yes/No, G1..G3),
day-first text dates without leading zeros, ISO text dates, several text formats in one column, a
Stata custom %tdDD/NN/CCYY date, death and last contact in two columns, a yes/no flag given by a
date being present, numeric patient IDs, and columns the codebook does not declare (a name, an NHS
number). Each comes with the codebook a careful user would write for it. `build(study, name, dir)`
writes the export and its codebook and returns their paths; DIALECTS lists them.

Nothing here recomputes a result: the tests run the package (ingest -> validate -> derive ->
analysis) on each dialect and compare with the twin's own results.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from nenbone.codebook import load_codebook, parse_codebook
from nenbone.io.spss_stata import write_raw
from nenbone.synthetic import generator
from nenbone.validation import validate

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
EXT = {"christie": "sav", "mayo": "dta"}


def default_codebook(study: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "config" / "codebooks" / f"{study}.yaml").read_text(encoding="utf-8"))


def twin_raw(study: str) -> pd.DataFrame:
    """The twin's RAW frame exactly as the synthetic_cohort rule writes it (study names, default codes)."""
    cfg = copy.deepcopy(CONFIG)
    return generator(study)(cfg["synthetic"][study], cfg[study])


def write_twin(study: str, folder: Path) -> Path:
    """The embedded twin's file, as the workflow writes it."""
    cb = load_codebook(ROOT / "config" / "codebooks" / f"{study}.yaml")
    raw = twin_raw(study)
    validate(raw, cb, source="twin")
    return write_raw(raw, folder / f"{study}.{EXT[study]}", cb, file_label=f"nenbone synthetic twin: {cb.title}")


# --------------------------------------------------------------------------- re-expressions


class Dialect:
    """A frame (columns = study names until `rename`) plus the codebook that describes it."""

    def __init__(self, study: str) -> None:
        self.study = study
        self.frame = twin_raw(study).copy()
        self.cb = default_codebook(study)
        self.file_types: dict[str, str] = {}  # column -> type written in the file when it differs
        self.date_formats: dict[str, str] = {}
        self.byte_patches: list[tuple[bytes, bytes]] = []  # applied to the written file (same lengths)

    def var(self, name: str) -> dict[str, Any]:
        return self.cb["variables"][name]

    def recode(self, name: str, old_to_new: dict[Any, Any], labels: dict[Any, str]) -> None:
        """New codes for a coded variable; its meanings follow the patients, never the numbers."""
        v = self.var(name)
        self.frame[name] = self.frame[name].map(
            lambda x: old_to_new.get(int(x), x) if isinstance(x, (int, float)) and pd.notna(x) else x)
        v["codes"] = labels
        if "means" in v:
            v["means"] = {m: old_to_new[c] for m, c in v["means"].items()}
        if any(isinstance(c, str) for c in labels):
            self.file_types[name] = "string"
            self.frame[name] = self.frame[name].map(lambda x: "" if pd.isna(x) else str(x))
            if "missing_codes" in v:
                v["missing_codes"] = [old_to_new[c] for c in v["missing_codes"]]

    def text_dates(self, name: str, fmt: str | Callable[[pd.Timestamp, int], str], formats: list[str]) -> None:
        v = self.var(name)
        cells = []
        for i, x in enumerate(self.frame[name].tolist()):
            if pd.isna(x):
                cells.append("")
            else:
                d = pd.Timestamp(x)
                cells.append(fmt(d, i) if callable(fmt) else day_first(d) if fmt == "day_first" else d.strftime(fmt))
        self.frame[name] = cells
        v["formats"] = formats
        self.file_types[name] = "string"

    def rename(self, mapping: dict[str, str]) -> None:
        for name, column in mapping.items():
            self.var(name)["source"] = column

    def extra(self, column: str, values: list[Any]) -> None:
        self.frame[column] = values

    def split_death(self, status: str, end: str, dead_code: Any, alive_code: Any) -> None:
        """Vital status and date of death / last follow-up from a death column and a last-contact column."""
        dead = self.frame[status].map(lambda x: pd.notna(x) and int(x) == 1)
        when = pd.to_datetime(self.frame[end])
        self.frame["date_of_death"] = when.where(dead)
        # the last contact of a dead patient is some days before death (ignored: death comes first)
        self.frame["date_last_contact"] = when.where(~dead, when - pd.Timedelta(days=20))
        self.frame = self.frame.drop(columns=[status, end])
        base = self.var(end)
        label_date = {"label": "Date of death", "type": "date", "source": "DOD"}
        if "range" in base:
            label_date["range"] = base["range"]
        variables = self.cb["variables"]
        variables["date_of_death"] = label_date
        variables["date_last_contact"] = {"label": "Date last seen", "type": "date", "source": "LAST_SEEN",
                                          "nullable": False}
        st = variables[status]
        st["codes"] = {alive_code: "Alive", dead_code: "Dead"}
        st["means"] = {"alive": alive_code, "dead": dead_code}
        st["compose"] = {"if_present": "date_of_death", "then": dead_code, "else": alive_code}
        st.pop("source", None)
        variables[end]["compose"] = {"first_of": ["date_of_death", "date_last_contact"]}
        variables[end].pop("source", None)

    # -- writing

    def file_frame(self) -> pd.DataFrame:
        """The export: each variable under its source column."""
        cols = {n: v.get("source", n) for n, v in self.cb["variables"].items()
                if "compose" not in v and n in self.frame.columns}
        return self.frame.rename(columns=cols)

    def file_codebook(self) -> Any:
        """What the writer needs: labels, codes and missing codes under the file's own column names."""
        variables = {}
        for name, spec in self.cb["variables"].items():
            if "compose" in spec:
                continue
            col = spec.get("source", name)
            s = {k: spec[k] for k in ("label", "type", "codes", "missing_codes", "range", "nullable") if k in spec}
            if col in self.file_types or name in self.file_types:
                s = {"label": spec["label"], "type": self.file_types.get(col, self.file_types.get(name))}
            variables[col] = s
        raw = {**{k: self.cb[k] for k in ("study", "title", "source_format")},
               "id_variable": self.cb["variables"][self.cb["id_variable"]].get("source", self.cb["id_variable"]),
               "variables": variables}
        return parse_codebook(raw, source="file layout")

    def write(self, folder: Path, name: str) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        data = folder / f"{name}.{EXT[self.study]}"
        book = folder / f"{name}.yaml"
        frame = self.file_frame()
        write_raw(frame, data, self.file_codebook(), file_label=f"{name} export",
                  date_formats=self.date_formats or None)
        if self.byte_patches:
            content = data.read_bytes()
            for old, new in self.byte_patches:
                assert len(old) == len(new) and old in content
                content = content.replace(old, new)
            data.write_bytes(content)
        book.write_text(yaml.safe_dump(self.cb, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return data, book


def day_first(d: pd.Timestamp) -> str:
    """17/3/1996: day first, no leading zeros."""
    return f"{d.day}/{d.month}/{d.year}"


YES_NO_12 = ({0: 2, 1: 1}, {1: "Yes", 2: "No"})
YES_NO_TEXT = ({0: "No", 1: "Yes"}, {"Yes": "Yes", "No": "No"})


def _flags(d: Dialect) -> list[str]:
    return [n for n, v in d.cb["variables"].items() if v.get("type") == "boolean" and "means" in v]


def christie_recoded() -> Dialect:
    """Other names, vital status 1 = alive / 2 = dead, sex 0/1, yes = 1 / no = 2, extra identifiers, latin-1."""
    d = Dialect("christie")
    d.recode("vital_status", {0: 1, 1: 2}, {1: "Alive", 2: "Dead"})
    d.recode("sex", {1: 0, 2: 1}, {0: "Male", 1: "Female"})
    for flag in _flags(d):
        d.recode(flag, *YES_NO_12)
    # a legacy label: latin-1 bytes in the file (the header still says UTF-8), `encoding:` declared
    d.var("differentiation")["codes"][9] = "Non renseign\u00e9"
    d.byte_patches.append(("Non renseign\u00e9".encode("utf-8"), b"Non renseign\xe9 "))
    d.cb["encoding"] = "latin-1"
    d.rename({"patient_id": "hospital_no", "sex": "gender", "vital_status": "status",
              "date_death_or_last_fu": "fu_date", "bone_mets": "BM", "primary_site": "site_primary"})
    n = len(d.frame)
    d.extra("patient_name", [f"Name {i}" for i in range(n)])
    d.extra("nhs_number", [f"{9000000000 + i}" for i in range(n)])
    return d


def christie_text() -> Dialect:
    """Text codes (M/F, Yes/No, G1-G3 with NK), day-first and ISO text dates, death and last contact split."""
    d = Dialect("christie")
    d.split_death("vital_status", "date_death_or_last_fu", dead_code="D", alive_code="A")
    d.recode("sex", {1: "M", 2: "F"}, {"M": "Male", "F": "Female"})
    d.recode("grade", {1: "G1", 2: "G2", 3: "G3", 9: "NK"},
             {"G1": "G1", "G2": "G2", "G3": "G3", "NK": "Not known"})
    for flag in _flags(d):
        d.recode(flag, *YES_NO_TEXT)
    for name, v in list(d.cb["variables"].items()):
        if v.get("type") == "date" and "compose" not in v and name != "date_of_birth":
            d.text_dates(name, "day_first", ["%d/%m/%Y"])
    # date of birth: ISO in odd rows, day-first in even rows: two declared formats
    d.text_dates("date_of_birth", lambda t, i: t.strftime("%Y-%m-%d") if i % 2 else day_first(t),
                 ["%Y-%m-%d", "%d/%m/%Y"])
    d.rename({"patient_id": "ID", "date_of_birth": "DOB"})
    d.extra("gp_practice", ["Practice"] * len(d.frame))
    return d


def mayo_recoded() -> Dialect:
    """Numeric IDs, sex 0/1, liver extent 0/1, vital status 1/2, a Stata %tdDD/NN/CCYY date, other names."""
    d = Dialect("mayo")
    d.frame["patient_id"] = d.frame["patient_id"].astype(int)
    d.file_types["mcn"] = "integer"
    d.recode("sex", {1: 0, 2: 1}, {0: "Male", 1: "Female"})
    d.recode("liver_extent", {1: 0, 2: 1}, {0: "Unilobar", 1: "Bilobar"})
    d.recode("vital_status", {0: 1, 1: 2}, {1: "Alive", 2: "Dead"})
    d.rename({"patient_id": "mcn", "dob": "birth_date", "extrahepatic": "ehd", "date_resection": "op_date"})
    d.date_formats = {"op_date": "%tdDD/NN/CCYY", "birth_date": "%tdCCYY-NN-DD"}
    d.extra("surgeon", ["Dr X"] * len(d.frame))
    return d


def mayo_text() -> Dialect:
    """Text codes, ISO text dates, death and last contact split, radiotherapy given as a date."""
    d = Dialect("mayo")
    rt_yes = d.frame["bone_tx_radiotherapy"].map(lambda x: pd.notna(x) and not isinstance(x, str) and int(x) == 1)
    d.frame["date_bone_rt"] = pd.to_datetime(d.frame["date_resection"]).where(rt_yes) + pd.Timedelta(days=30)
    d.frame = d.frame.drop(columns=["bone_tx_radiotherapy"])
    v = d.cb["variables"]
    v["date_bone_rt"] = {"label": "Date of radiotherapy to bone", "type": "date", "source": "RT_DATE"}
    v["bone_tx_radiotherapy"]["compose"] = {"if_present": "date_bone_rt", "then": 1, "else": 0}
    d.split_death("vital_status", "date_death_or_lastfu", dead_code="Dead", alive_code="Alive")
    d.recode("sex", {1: "M", 2: "F"}, {"M": "Male", "F": "Female"})
    d.recode("site", {1: "ROC", 2: "FLA"}, {"ROC": "Rochester", "FLA": "Florida"})
    for name in ("dob", "date_resection"):
        d.text_dates(name, "%Y-%m-%d", ["%Y-%m-%d"])
    return d


DIALECTS: dict[str, Callable[[], Dialect]] = {
    "christie_recoded": christie_recoded,
    "christie_text": christie_text,
    "mayo_recoded": mayo_recoded,
    "mayo_text": mayo_text,
}


def build(name: str, folder: Path) -> tuple[str, Path, Path]:
    """Write one dialect's export and codebook; (study, export, codebook)."""
    d = DIALECTS[name]()
    data, book = d.write(folder, name)
    return d.study, data, book


if __name__ == "__main__":  # python tests/dialects.py OUT_DIR: write the corpus for a walkthrough
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "dialects")
    for dialect in DIALECTS:
        print(*build(dialect, out))
