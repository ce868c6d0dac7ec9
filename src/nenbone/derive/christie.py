"""Study A (The Christie): eligibility and the analysis variables.

The definitions are written once, in config/codebooks/christie.yaml (`derived:`); this module
implements them. Study choices (eligibility dates and exclusions, the site -> group mapping, the
age date, the synchronous / same-time windows, the denominator of the symptom percentages) come
from `settings` = config["christie"]. Codes below are those the codebook declares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from nenbone.errors import ConfigError, ValidationError, Violation

# Codes as declared in config/codebooks/christie.yaml.
YES = 1
GRADE_G12 = (1, 2)
GRADE_G3 = 3
FUNCTIONAL = 1
EXTENT_WIDESPREAD = 3
EXTENT_KNOWN = (1, 2, 3)
DEAD = 1

PRIMARY_GROUPS = ("GEP", "lung", "unknown", "other")
AGE_DATES = {"nen_diagnosis": "date_nen_diagnosis", "bm_diagnosis": "date_bm_diagnosis"}
SYMPTOM_FLAGS = ("bm_symptomatic_at_dx", "bm_pain", "bm_hypercalcaemia", "bm_sre")
BM_DETAILS = (
    "date_bm_diagnosis", "date_bm_symptom_onset", "bm_extent", "bm_symptomatic_at_dx",
    "bm_symptomatic_ever", "bm_pain", "bm_hypercalcaemia", "bm_sre", "bm_analgesia",
    "bm_radiotherapy", "bm_bisphosphonate", "bm_surgery",
)
TREATMENTS = {
    "tx_analgesia": "bm_analgesia",
    "tx_radiotherapy": "bm_radiotherapy",
    "tx_bisphosphonate": "bm_bisphosphonate",
    "tx_surgery": "bm_surgery",
}
CHECKS_SOURCE = "christie clean table (derivation checks)"

DERIVED_COLUMNS = (
    "patient_id", "has_bm", "age_years", "primary_group", "grade_g12", "functional",
    "bm_synchronous", "bm_with_other_mets", "months_first_met_to_bm", "first_met_to_bm_event",
    "bm_widespread", "bm_symptoms_at_dx", "bm_symptoms_ever", "pain_or_hypercalcaemia", "sre",
    *TREATMENTS, "os_from_bm_months", "os_from_bm_event", "os_from_symptoms_months",
    "os_from_symptoms_event",
)


# --------------------------------------------------------------------------- small pure helpers


def is_code(values: pd.Series, *codes: int) -> pd.Series:
    """True where the value is one of the codes, False where another known value, <NA> where missing."""
    out = pd.Series(values.isin(codes).to_numpy(), index=values.index, dtype="boolean")
    return out.mask(values.isna())


def only_where(values: pd.Series, mask: pd.Series) -> pd.Series:
    """The values where mask is true, <NA> elsewhere (BM-only variables for patients without BMs)."""
    return values.mask(~mask.fillna(False).astype(bool))


def days_between(earlier: pd.Series, later: pd.Series) -> pd.Series:
    """Whole days from one date to another (Int64; <NA> when either date is missing)."""
    return (later - earlier).dt.days.astype("Float64").astype("Int64")


def months_between(earlier: pd.Series, later: pd.Series, days_per_month: float) -> pd.Series:
    """Days between two dates divided by days_per_month (Float64; unrounded)."""
    return days_between(earlier, later).astype("Float64") / float(days_per_month)


def within_days(earlier: pd.Series, later: pd.Series, window_days: int) -> pd.Series:
    """later - earlier <= window_days days (edge day included); <NA> when a date is missing."""
    return (days_between(earlier, later) <= int(window_days)).astype("boolean")


def completed_years(born: pd.Series, on: pd.Series) -> pd.Series:
    """Age in completed years, as SPSS DATEDIFF(on, born, "years"): the birthday counts from its own day."""
    years = on.dt.year - born.dt.year
    before_birthday = (on.dt.month < born.dt.month) | ((on.dt.month == born.dt.month) & (on.dt.day < born.dt.day))
    age = years - before_birthday.astype(int)
    return age.astype("Float64").astype("Int64").mask(born.isna() | on.isna())


def primary_group(site: pd.Series, mapping: Mapping[str, Sequence[int]], ids: pd.Series) -> pd.Series:
    """Detailed primary_site code -> GEP / lung / unknown / other, by the configured mapping."""
    code_to_group: dict[int, str] = {}
    for group in PRIMARY_GROUPS:
        if group not in mapping:
            raise ConfigError(f"christie.derivation.primary_group: group '{group}' is missing")
        for code in mapping[group]:
            if int(code) in code_to_group:
                raise ConfigError(
                    f"christie.derivation.primary_group: site code {code} is in both "
                    f"'{code_to_group[int(code)]}' and '{group}'"
                )
            code_to_group[int(code)] = group
    unmapped = site.notna() & ~site.isin(list(code_to_group))
    if unmapped.any():
        codes = sorted({int(c) for c in site[unmapped]})
        who = ", ".join(ids[unmapped].astype(str).tolist()[:20])
        raise ConfigError(
            f"christie.derivation.primary_group maps no group for primary_site code(s) {codes} "
            f"(patients: {who}); add each code to one group"
        )
    return site.map(code_to_group, na_action="ignore").astype("string")


def is_eligible(clean: pd.DataFrame, groups: pd.Series, eligibility: Mapping[str, Any]) -> pd.Series:
    """NEN diagnosed within [diagnosis_from, diagnosis_to] (inclusive) and in no excluded group/grade."""
    dx = clean["date_nen_diagnosis"]
    first, last = pd.Timestamp(eligibility["diagnosis_from"]), pd.Timestamp(eligibility["diagnosis_to"])
    in_period = (dx >= first) & (dx <= last)
    excluded = pd.Series(False, index=clean.index)
    for rule in eligibility.get("exclude") or []:
        hit = (groups == rule["primary_group"]) & clean["grade"].eq(int(rule["grade"]))
        excluded |= hit.fillna(False).astype(bool)  # an unknown grade never matches
    return in_period.fillna(False).astype(bool) & ~excluded


# --------------------------------------------------------------------------- logical checks


def consistency_violations(clean: pd.DataFrame) -> list[Violation]:
    """Cross-variable rules the codebook's date_order cannot express; every broken one is listed."""
    ids = clean["patient_id"].astype(str)
    out: list[Violation] = []

    def add(variable: str, rule: str, mask: pd.Series, detail: str) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            out.append(Violation(variable, rule, tuple(ids[mask]), detail))

    add("date_nen_diagnosis", "needed for eligibility", clean["date_nen_diagnosis"].isna(),
        "no NEN diagnosis date, so eligibility (diagnosis period) cannot be decided")
    no_bm = clean["bone_mets"].ne(YES).fillna(True).astype(bool)
    for col in BM_DETAILS:
        add(col, "BM details without bone metastases", no_bm & clean[col].notna(),
            "filled in although bone_mets is not 1 (Yes)")
    never = clean["bm_symptomatic_ever"].eq(0)
    for col in SYMPTOM_FLAGS:
        add(col, "implies symptoms ever", never & clean[col].eq(YES),
            f"{col} = 1 but bm_symptomatic_ever = 0")
    add("date_bm_symptom_onset", "implies symptoms ever", never & clean["date_bm_symptom_onset"].notna(),
        "a symptom-onset date but bm_symptomatic_ever = 0")
    return out


# --------------------------------------------------------------------------- the derivation


def derive(clean: pd.DataFrame, settings: dict, days_per_month: float) -> pd.DataFrame:
    """Eligible patients (sorted by ID) with every analysis variable of Study A."""
    violations = consistency_violations(clean)
    if violations:
        raise ValidationError(file=CHECKS_SOURCE, violations=violations)
    rules = settings["derivation"]
    if rules["age_at"] not in AGE_DATES:
        raise ConfigError(f"christie.derivation.age_at must be one of {sorted(AGE_DATES)}, got {rules['age_at']!r}")
    if rules["symptom_percent_denominator"] not in ("all_bm", "ever_symptomatic"):
        raise ConfigError("christie.derivation.symptom_percent_denominator must be all_bm or ever_symptomatic")

    c = clean.reset_index(drop=True)
    groups = primary_group(c["primary_site"], rules["primary_group"], c["patient_id"])
    has_bm = is_code(c["bone_mets"], YES)
    bm = has_bm.fillna(False).astype(bool)

    ever = only_where(is_code(c["bm_symptomatic_ever"], YES), has_bm)
    pain_hyper = is_code(c["bm_pain"], YES) | is_code(c["bm_hypercalcaemia"], YES)
    sre = is_code(c["bm_sre"], YES)
    symptom_base = has_bm if rules["symptom_percent_denominator"] == "all_bm" else ever

    end = c["date_death_or_last_fu"]
    first_met_to_bm = only_where(months_between(c["date_first_distant_met"], c["date_bm_diagnosis"], days_per_month),
                                 has_bm)
    os_bm = only_where(months_between(c["date_bm_diagnosis"], end, days_per_month), has_bm)
    os_sym = only_where(months_between(c["date_bm_symptom_onset"], end, days_per_month), has_bm)
    synchronous = within_days(c["date_nen_diagnosis"], c["date_bm_diagnosis"], rules["synchronous_window_days"])
    same_time = within_days(c["date_first_distant_met"], c["date_bm_diagnosis"], rules["same_time_window_days"])
    always = pd.Series(True, index=c.index, dtype="boolean")
    dead = is_code(c["vital_status"], DEAD)
    age = completed_years(c["date_of_birth"], c[AGE_DATES[rules["age_at"]]])
    if rules["age_at"] == "bm_diagnosis":
        age = only_where(age, has_bm)

    out = pd.DataFrame(
        {
            "patient_id": c["patient_id"].astype("string"),
            "has_bm": has_bm,
            "age_years": age,
            "primary_group": groups,
            "grade_g12": is_code(c["grade"], *GRADE_G12).mask(~c["grade"].isin([*GRADE_G12, GRADE_G3])),
            "functional": is_code(c["functional_status"], FUNCTIONAL),
            "bm_synchronous": only_where(synchronous, has_bm),
            "bm_with_other_mets": only_where(same_time, has_bm),
            "months_first_met_to_bm": first_met_to_bm,
            "first_met_to_bm_event": only_where(always, first_met_to_bm.notna()),
            "bm_widespread": only_where(
                is_code(c["bm_extent"], EXTENT_WIDESPREAD).mask(~c["bm_extent"].isin(EXTENT_KNOWN)), has_bm),
            "bm_symptoms_at_dx": only_where(is_code(c["bm_symptomatic_at_dx"], YES), has_bm),
            "bm_symptoms_ever": ever,
            "pain_or_hypercalcaemia": only_where(pain_hyper, symptom_base),
            "sre": only_where(sre, symptom_base),
            **{new: only_where(is_code(c[raw], YES), has_bm) for new, raw in TREATMENTS.items()},
            "os_from_bm_months": os_bm,
            "os_from_bm_event": only_where(dead, os_bm.notna()),
            "os_from_symptoms_months": os_sym,
            "os_from_symptoms_event": only_where(dead, os_sym.notna()),
        },
        columns=list(DERIVED_COLUMNS),
    )
    keep = is_eligible(c, groups, settings["eligibility"])
    out = out.loc[keep.to_numpy()]
    return out.sort_values("patient_id", kind="mergesort").reset_index(drop=True)
