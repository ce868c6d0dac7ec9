"""Study B (Mayo): from the clean resection export to one row per patient in group LB or L.

The definitions are written once, in config/codebooks/mayo.yaml (section `derived`); the study
choices (groups, primary-site groups, period, major-resection threshold) come from config `mayo`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from nenbone.codebook import Codebook, grouping_problems
from nenbone.derive import by_meaning, code_key, code_keys, has_meaning
from nenbone.errors import ConfigError, ValidationError, Violation

log = logging.getLogger(__name__)

SOURCE = "mayo (derivation)"

RAW_COLUMNS = (
    "patient_id", "site", "sex", "dob", "date_resection", "primary_site", "grade", "synchronous_liver",
    "liver_extent", "n_liver_lesions", "n_segments_resected", "extrahepatic", "n_bone_mets",
    "bone_spine", "bone_pelvis", "bone_ribs", "bone_other",
    "bone_tx_radiotherapy", "bone_tx_rfa", "bone_tx_resection", "vital_status", "date_death_or_lastfu",
)
# raw bone-block variable -> derived name
BONE_FIELDS = {
    "n_bone_mets": "n_bone_mets",
    "bone_spine": "bone_site_spine",
    "bone_pelvis": "bone_site_pelvis",
    "bone_ribs": "bone_site_ribs",
    "bone_other": "bone_site_other",
    "bone_tx_radiotherapy": "bone_tx_radiotherapy",
    "bone_tx_rfa": "bone_tx_rfa",
    "bone_tx_resection": "bone_tx_resection",
}
BONE_FLAGS = tuple(f for f in BONE_FIELDS if f != "n_bone_mets")
# What this derivation asks the codebook (variable -> meanings); checked before a run starts.
# The derived sex and site are the meanings themselves ('male'/'female', 'Rochester'/'Florida').
NEEDS: dict[str, tuple[str, ...]] = {
    "sex": ("male", "female"),
    "site": ("Rochester", "Florida"),
    "grade": ("G1", "G2", "G3"),
    "synchronous_liver": ("yes", "no"),
    "liver_extent": ("bilobar", "unilobar"),
    **{flag: ("yes", "no") for flag in BONE_FLAGS},
    "vital_status": ("dead", "alive"),
}
GROUPED = {"extrahepatic": "groups", "primary_site": "primary_groups"}  # variable -> key of the design settings
REQUIRED = RAW_COLUMNS  # every raw variable the derivation reads

COLUMNS = (
    "patient_id", "group", "site", "age_years", "sex", "primary_group", "year_of_resection", "grade_g12",
    "synchronous_liver", "liver_extent_bilobar", "n_liver_lesions", "n_segments_resected", "major_resection",
    *BONE_FIELDS.values(), "os_months", "os_event",
)


def _code_map(values: pd.Series, mapping: Mapping[Any, Any], dtype: str) -> pd.Series:
    """Map codes, keeping <NA> for missing; unknown codes are caught by validation upstream."""
    return by_meaning(values, mapping, dtype)


def _flag(values: pd.Series, codebook: Codebook, name: str, true: str, false: str) -> pd.Series:
    """1 for the codes meaning `true`, 0 for those meaning `false`, <NA> otherwise (Int64)."""
    lookup = {c: 1 for c in codebook.codes_meaning(name, true)}
    lookup.update({c: 0 for c in codebook.codes_meaning(name, false)})
    return _code_map(values, lookup, "Int64")


def _code_lists(settings: Mapping[str, Any], key: str) -> dict[str, list[int]]:
    spec = settings.get(key)
    if not isinstance(spec, Mapping) or not spec:
        raise ConfigError(f"config mayo.{key}: expected a mapping of group name -> list of codes")
    out = {str(name): [code_key(c) for c in codes] for name, codes in spec.items()}
    twice = [f"config mayo.{key}: code {p.code} is in both '{p.first_group}' and '{p.group}'"
             for p in grouping_problems(out)]
    if twice:
        raise ConfigError("\n".join(twice))
    return out


def assign_group(extrahepatic: pd.Series, groups: Mapping[str, list[int]]) -> pd.Series:
    """Study group from the extrahepatic-disease code; <NA> = in neither group."""
    lookup = {c: g for g, codes in groups.items() for c in codes}
    return _code_map(extrahepatic, lookup, "string")


def _contradictions(clean: pd.DataFrame, group: pd.Series, groups: Mapping[str, list[Any]],
                    codebook: Codebook) -> list[Violation]:
    """Patients in a no-bone group with a positive bone finding: a contradiction, never silently recoded."""
    no_bone = [g for g in groups if g != "LB"]  # the study's name for the bone-metastasis group
    mask = group.isin(no_bone).fillna(False).to_numpy(dtype=bool)
    out = []
    for raw in BONE_FIELDS:
        if raw in BONE_FLAGS:
            positive = has_meaning(clean[raw], codebook.codes_meaning(raw, "yes"))
        else:
            positive = pd.to_numeric(clean[raw], errors="coerce") >= 1
        bad = mask & positive.fillna(False).to_numpy(dtype=bool)
        if bad.any():
            out.append(
                Violation(
                    variable=raw,
                    rule="no bone findings without bone metastases",
                    patient_ids=tuple(clean.loc[bad, "patient_id"].astype(str)),
                    detail=f"extrahepatic code says no bone metastases (group {', '.join(no_bone)}) "
                    f"but {raw} is positive",
                )
            )
    return out


def derive(clean: pd.DataFrame, settings: Mapping[str, Any], days_per_month: float,
           codebook: Codebook) -> pd.DataFrame:
    """One row per resection patient in group LB or L, sorted by patient_id (settings = config['mayo'])."""
    codebook.require_meanings(NEEDS, "the mayo derivation")
    absent = [c for c in RAW_COLUMNS if c not in clean.columns]
    if absent:
        raise ValidationError(SOURCE, [Violation(c, "variable present", (), "missing from the clean data") for c in absent])
    if not days_per_month or days_per_month <= 0:
        raise ConfigError(f"days_per_month must be > 0 (got {days_per_month!r})")
    groups = _code_lists(settings, "groups")
    if set(groups) != {"LB", "L"}:
        raise ConfigError(f"config mayo.groups: expected the two study groups LB and L (got {', '.join(groups)})")
    primary_groups = _code_lists(settings, "primary_groups")
    try:
        min_segments = int(settings["major_resection_min_segments"])
        start = pd.Timestamp(settings["period"]["from"])
        end = pd.Timestamp(settings["period"]["to"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"config mayo: missing or invalid key ({exc})") from None

    df = clean.reset_index(drop=True)
    ids = df["patient_id"].astype("string")
    group = assign_group(df["extrahepatic"], groups)

    violations = _contradictions(df, group, groups, codebook)
    no_date = df["date_resection"].isna().to_numpy()
    if no_date.any():
        violations.append(Violation("date_resection", "not missing", tuple(ids[no_date]), "time zero is required"))
    fu_days = (df["date_death_or_lastfu"] - df["date_resection"]).dt.days
    negative = (fu_days < 0).fillna(False).to_numpy(dtype=bool)
    if negative.any():
        violations.append(Violation("date_death_or_lastfu", "date_order", tuple(ids[negative]),
                                    "date of death/last follow-up before the resection"))
    if violations:
        raise ValidationError(SOURCE, violations)

    site_keys = code_keys(df["primary_site"])
    unmapped = ~df["primary_site"].isna() & ~site_keys.isin([c for v in primary_groups.values() for c in v])
    if unmapped.any():
        codes = sorted({code_key(c) for c in df.loc[unmapped, "primary_site"]}, key=str)
        raise ConfigError(
            f"config mayo.primary_groups: primary_site code(s) {codes} belong to no group "
            f"(patients {', '.join(ids[unmapped].tolist())})"
        )

    in_period = ((df["date_resection"] >= start) & (df["date_resection"] <= end)).to_numpy()
    in_group = group.notna().to_numpy()
    n_neither = int((~in_group).sum())
    if n_neither:
        codes = sorted({code_key(c) for c in df.loc[~in_group, "extrahepatic"].dropna()}, key=str)
        log.info("mayo: %d patient(s) with extrahepatic code(s) %s are in neither group LB nor L and are left out",
                 n_neither, codes)
    n_out_of_period = int((in_group & ~in_period).sum())
    if n_out_of_period:
        log.info("mayo: %d patient(s) resected outside %s - %s are left out", n_out_of_period,
                 start.date(), end.date())
    keep = in_group & in_period

    out = pd.DataFrame({"patient_id": ids, "group": group})
    out["site"] = _code_map(df["site"], codebook.meaning_map("site"), "string")
    out["age_years"] = (df["date_resection"] - df["dob"]).dt.days / (12.0 * days_per_month)
    out["sex"] = _code_map(df["sex"], codebook.meaning_map("sex"), "string")
    prim_lookup = {c: g for g, codes in primary_groups.items() for c in codes}
    out["primary_group"] = _code_map(df["primary_site"], prim_lookup, "string")
    out["year_of_resection"] = df["date_resection"].dt.year.astype("Int64")
    grade = {c: 1 for c in codebook.codes_meaning("grade", "G1", "G2")}
    grade.update({c: 0 for c in codebook.codes_meaning("grade", "G3")})
    out["grade_g12"] = _code_map(df["grade"], grade, "Int64")
    out["synchronous_liver"] = _flag(df["synchronous_liver"], codebook, "synchronous_liver", "yes", "no")
    out["liver_extent_bilobar"] = _flag(df["liver_extent"], codebook, "liver_extent", "bilobar", "unilobar")
    out["n_liver_lesions"] = pd.array(df["n_liver_lesions"], dtype="Int64")
    segments = pd.array(df["n_segments_resected"], dtype="Int64")
    out["n_segments_resected"] = segments
    out["major_resection"] = (segments >= min_segments).astype("Int64")
    is_lb = (group == "LB").fillna(False).to_numpy(dtype=bool)
    for raw, name in BONE_FIELDS.items():
        col = (_flag(df[raw], codebook, raw, "yes", "no") if raw in BONE_FLAGS
               else pd.array(df[raw], dtype="Int64"))
        out[name] = pd.array(np.where(is_lb, col, pd.NA), dtype="Int64")
    out["os_months"] = fu_days.astype(float) / days_per_month
    out["os_event"] = _flag(df["vital_status"], codebook, "vital_status", "dead", "alive")

    out = out.loc[keep, list(COLUMNS)].sort_values("patient_id", kind="stable").reset_index(drop=True)
    log.info("mayo: %d patients derived (%s)", len(out),
             ", ".join(f"{g} {n}" for g, n in out["group"].value_counts().sort_index().items()))
    return out


def attrition(clean: pd.DataFrame, settings: Mapping[str, Any], codebook: Codebook) -> dict[str, Any]:
    """Resections -> within the study period -> in group LB or L (excluded by reason) -> LB / L; counts only."""
    groups = _code_lists(settings, "groups")
    df = clean.reset_index(drop=True)
    start, end = pd.Timestamp(settings["period"]["from"]), pd.Timestamp(settings["period"]["to"])
    in_period = ((df["date_resection"] >= start) & (df["date_resection"] <= end)).fillna(False).to_numpy(bool)
    group = assign_group(df["extrahepatic"], groups)
    in_group = group.notna().to_numpy()
    kept = in_period & in_group
    return {
        "stages": [
            {"label": "Hepatic resections", "n": int(len(df)), "excluded": []},
            {"label": "Resected within the study period", "n": int(in_period.sum()),
             "excluded": [{"reason": f"Resected outside the study period ({start.date()} to {end.date()})",
                           "n": int((~in_period).sum())}]},
            {"label": "Bone metastases or disease confined to the liver", "n": int(kept.sum()),
             "excluded": [{"reason": "Other extrahepatic disease, no bone metastases",
                           "n": int((in_period & ~in_group).sum())}]},
        ],
        "groups": [{"label": name, "n": int((kept & (group == name).fillna(False).to_numpy(bool)).sum())}
                   for name in groups],
    }
