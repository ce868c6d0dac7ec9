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
# codebook codes (config/codebooks/mayo.yaml)
SEX_LABELS = {1: "male", 2: "female"}
SITE_LABELS = {1: "Rochester", 2: "Florida"}
GRADE_G12 = {1: 1, 2: 1, 3: 0}
BILOBAR = {1: 0, 2: 1}
DEAD = 1

COLUMNS = (
    "patient_id", "group", "site", "age_years", "sex", "primary_group", "year_of_resection", "grade_g12",
    "synchronous_liver", "liver_extent_bilobar", "n_liver_lesions", "n_segments_resected", "major_resection",
    *BONE_FIELDS.values(), "os_months", "os_event",
)


def _code_map(values: pd.Series, mapping: Mapping[int, Any], dtype: str) -> pd.Series:
    """Map integer codes, keeping <NA> for missing; unknown codes are caught by validation upstream."""
    return values.map(lambda v: mapping.get(int(v), pd.NA) if pd.notna(v) else pd.NA).astype(dtype)


def _code_lists(settings: Mapping[str, Any], key: str) -> dict[str, list[int]]:
    spec = settings.get(key)
    if not isinstance(spec, Mapping) or not spec:
        raise ConfigError(f"config mayo.{key}: expected a mapping of group name -> list of codes")
    seen: dict[int, str] = {}
    out = {}
    for name, codes in spec.items():
        out[str(name)] = [int(c) for c in codes]
        for c in out[str(name)]:
            if c in seen:
                raise ConfigError(f"config mayo.{key}: code {c} is in both '{seen[c]}' and '{name}'")
            seen[c] = str(name)
    return out


def assign_group(extrahepatic: pd.Series, groups: Mapping[str, list[int]]) -> pd.Series:
    """Study group from the extrahepatic-disease code; <NA> = in neither group."""
    lookup = {c: g for g, codes in groups.items() for c in codes}
    return _code_map(extrahepatic, lookup, "string")


def _contradictions(clean: pd.DataFrame, group: pd.Series, groups: Mapping[str, list[int]]) -> list[Violation]:
    """Patients in a no-bone group with a positive bone finding: a contradiction, never silently recoded."""
    no_bone = [g for g in groups if g != "LB"]  # the study's name for the bone-metastasis group
    mask = group.isin(no_bone).fillna(False).to_numpy(dtype=bool)
    out = []
    for raw in BONE_FIELDS:
        val = pd.to_numeric(clean[raw], errors="coerce")
        bad = mask & (val >= 1).fillna(False).to_numpy(dtype=bool)
        if bad.any():
            out.append(
                Violation(
                    variable=raw,
                    rule="no bone findings without bone metastases",
                    patient_ids=tuple(clean.loc[bad, "patient_id"].astype(str)),
                    detail=f"extrahepatic code says no bone metastases (group {', '.join(no_bone)}) "
                    f"but {raw} >= 1",
                )
            )
    return out


def derive(clean: pd.DataFrame, settings: Mapping[str, Any], days_per_month: float) -> pd.DataFrame:
    """One row per resection patient in group LB or L, sorted by patient_id (settings = config['mayo'])."""
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

    violations = _contradictions(df, group, groups)
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

    unmapped = ~df["primary_site"].isna() & ~df["primary_site"].isin([c for v in primary_groups.values() for c in v])
    if unmapped.any():
        codes = sorted({int(c) for c in df.loc[unmapped, "primary_site"]})
        raise ConfigError(
            f"config mayo.primary_groups: primary_site code(s) {codes} belong to no group "
            f"(patients {', '.join(ids[unmapped].tolist())})"
        )

    in_period = ((df["date_resection"] >= start) & (df["date_resection"] <= end)).to_numpy()
    in_group = group.notna().to_numpy()
    n_neither = int((~in_group).sum())
    if n_neither:
        codes = sorted({int(c) for c in df.loc[~in_group, "extrahepatic"].dropna()})
        log.info("mayo: %d patient(s) with extrahepatic code(s) %s are in neither group LB nor L and are left out",
                 n_neither, codes)
    n_out_of_period = int((in_group & ~in_period).sum())
    if n_out_of_period:
        log.info("mayo: %d patient(s) resected outside %s - %s are left out", n_out_of_period,
                 start.date(), end.date())
    keep = in_group & in_period

    out = pd.DataFrame({"patient_id": ids, "group": group})
    out["site"] = _code_map(df["site"], SITE_LABELS, "string")
    out["age_years"] = (df["date_resection"] - df["dob"]).dt.days / (12.0 * days_per_month)
    out["sex"] = _code_map(df["sex"], SEX_LABELS, "string")
    prim_lookup = {c: g for g, codes in primary_groups.items() for c in codes}
    out["primary_group"] = _code_map(df["primary_site"], prim_lookup, "string")
    out["year_of_resection"] = df["date_resection"].dt.year.astype("Int64")
    out["grade_g12"] = _code_map(df["grade"], GRADE_G12, "Int64")
    out["synchronous_liver"] = pd.array(df["synchronous_liver"], dtype="Int64")
    out["liver_extent_bilobar"] = _code_map(df["liver_extent"], BILOBAR, "Int64")
    out["n_liver_lesions"] = pd.array(df["n_liver_lesions"], dtype="Int64")
    segments = pd.array(df["n_segments_resected"], dtype="Int64")
    out["n_segments_resected"] = segments
    out["major_resection"] = (segments >= min_segments).astype("Int64")
    is_lb = (group == "LB").fillna(False).to_numpy(dtype=bool)
    for raw, name in BONE_FIELDS.items():
        col = pd.array(df[raw], dtype="Int64")
        out[name] = pd.array(np.where(is_lb, col, pd.NA), dtype="Int64")
    out["os_months"] = fu_days.astype(float) / days_per_month
    out["os_event"] = (pd.array(df["vital_status"], dtype="Int64") == DEAD).astype("Int64")

    out = out.loc[keep, list(COLUMNS)].sort_values("patient_id", kind="stable").reset_index(drop=True)
    log.info("mayo: %d patients derived (%s)", len(out),
             ", ".join(f"{g} {n}" for g, n in out["group"].value_counts().sort_index().items()))
    return out
