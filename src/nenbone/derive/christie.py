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

from nenbone.codebook import Codebook, grouping_problems
from nenbone.derive import code_key, code_keys, has_meaning
from nenbone.errors import ConfigError, ValidationError, Violation

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

# What this derivation asks the codebook (variable -> meanings); checked before a run starts.
NEEDS: dict[str, tuple[str, ...]] = {
    "bone_mets": ("yes", "no"),
    "bm_symptomatic_ever": ("yes", "no"),
    **{flag: ("yes", "no") for flag in (*SYMPTOM_FLAGS, *TREATMENTS.values())},
    "grade": ("G1", "G2", "G3"),
    "functional_status": ("functional", "non_functional"),
    "bm_extent": ("solitary", "oligometastatic", "widespread"),
    "vital_status": ("dead", "alive"),
}
GROUPED = {"primary_site": "derivation.primary_group"}
# Every raw variable the derivation reads (the codebook must declare each; the export must hold it).
REQUIRED = (
    "patient_id", "date_of_birth", "date_nen_diagnosis", "primary_site", "grade", "functional_status",
    "bone_mets", "date_first_distant_met", *BM_DETAILS, "vital_status", "date_death_or_last_fu",
)  # variable -> config key of its groups

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


def primary_group(site: pd.Series, mapping: Mapping[str, Sequence[Any]], ids: pd.Series) -> pd.Series:
    """Detailed primary_site code -> GEP / lung / unknown / other, by the configured mapping."""
    for group in PRIMARY_GROUPS:
        if group not in mapping:
            raise ConfigError(f"christie.derivation.primary_group: group '{group}' is missing")
    groups = {group: [code_key(c) for c in mapping[group]] for group in PRIMARY_GROUPS}
    twice = [f"christie.derivation.primary_group: site code {p.code} is in both '{p.first_group}' and '{p.group}'"
             for p in grouping_problems(groups)]
    if twice:
        raise ConfigError("\n".join(twice))
    code_to_group = {code: group for group, codes in groups.items() for code in codes}
    keys = code_keys(site)
    unmapped = site.notna() & ~keys.isin(list(code_to_group))
    if unmapped.any():
        codes = sorted({code_key(c) for c in site[unmapped]}, key=str)
        who = ", ".join(ids[unmapped].astype(str).tolist()[:20])
        raise ConfigError(
            f"christie.derivation.primary_group maps no group for primary_site code(s) {codes} "
            f"(patients: {who}); add each code to one group"
        )
    return keys.map(code_to_group, na_action="ignore").astype("string")


def grade_codes(grade: Any, codebook: Codebook | None) -> tuple[Any, ...]:
    """The codes of WHO grade `grade` (3 -> the codes meaning 'G3' in the codebook).

    Without a codebook (the legacy flow-diagram caller) the number is taken as the code itself.
    """
    return codebook.codes_meaning("grade", f"G{grade}") if codebook is not None else (int(grade),)


def exclusion_masks(clean: pd.DataFrame, groups: pd.Series, eligibility: Mapping[str, Any],
                    codebook: Codebook | None = None) -> dict[str, pd.Series]:
    """Reason -> who it excludes (overlapping), in the order the eligibility rules are applied."""
    dx = clean["date_nen_diagnosis"]
    first, last = pd.Timestamp(eligibility["diagnosis_from"]), pd.Timestamp(eligibility["diagnosis_to"])
    out = {
        f"NEN diagnosed before {first.date()}": (dx < first).fillna(False).astype(bool),
        f"NEN diagnosed after {last.date()}": (dx > last).fillna(False).astype(bool),
    }
    for rule in eligibility.get("exclude") or []:
        hit = (groups == rule["primary_group"]) & has_meaning(clean["grade"], grade_codes(rule["grade"], codebook))
        out[f"G{rule['grade']} {rule['primary_group']} NEN"] = hit.fillna(False).astype(bool)  # unknown grade: no
    return out


def is_eligible(clean: pd.DataFrame, groups: pd.Series, eligibility: Mapping[str, Any],
                codebook: Codebook | None = None) -> pd.Series:
    """NEN diagnosed within [diagnosis_from, diagnosis_to] (inclusive) and in no excluded group/grade."""
    dx = clean["date_nen_diagnosis"]
    excluded = dx.isna().to_numpy()
    for mask in exclusion_masks(clean, groups, eligibility, codebook).values():
        excluded = excluded | mask.to_numpy()
    return pd.Series(~excluded, index=clean.index)


# --------------------------------------------------------------------------- logical checks


def consistency_violations(clean: pd.DataFrame, codebook: Codebook) -> list[Violation]:
    """Cross-variable rules the codebook's date_order cannot express; every broken one is listed."""
    ids = clean["patient_id"].astype(str)
    out: list[Violation] = []

    def add(variable: str, rule: str, mask: pd.Series, detail: str) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            out.append(Violation(variable, rule, tuple(ids[mask]), detail))

    add("date_nen_diagnosis", "needed for eligibility", clean["date_nen_diagnosis"].isna(),
        "no NEN diagnosis date, so eligibility (diagnosis period) cannot be decided")
    yes = {name: codebook.codes_meaning(name, "yes") for name in ("bone_mets", *SYMPTOM_FLAGS)}
    no_bm = ~has_meaning(clean["bone_mets"], yes["bone_mets"]).fillna(False).astype(bool)
    for col in BM_DETAILS:
        add(col, "BM details without bone metastases", no_bm & clean[col].notna(),
            "filled in although bone_mets is not 'yes'")
    never = has_meaning(clean["bm_symptomatic_ever"], codebook.codes_meaning("bm_symptomatic_ever", "no"))
    for col in SYMPTOM_FLAGS:
        add(col, "implies symptoms ever", never & has_meaning(clean[col], yes[col]),
            f"{col} = yes but bm_symptomatic_ever = no")
    add("date_bm_symptom_onset", "implies symptoms ever", never & clean["date_bm_symptom_onset"].notna(),
        "a symptom-onset date but bm_symptomatic_ever = no")
    return out


# --------------------------------------------------------------------------- the derivation


def derive(clean: pd.DataFrame, settings: dict, days_per_month: float, codebook: Codebook) -> pd.DataFrame:
    """Eligible patients (sorted by ID) with every analysis variable of Study A."""
    codebook.require_meanings(NEEDS, "the christie derivation")
    violations = consistency_violations(clean, codebook)
    if violations:
        raise ValidationError(file=CHECKS_SOURCE, violations=violations)
    rules = settings["derivation"]
    if rules["age_at"] not in AGE_DATES:
        raise ConfigError(f"christie.derivation.age_at must be one of {sorted(AGE_DATES)}, got {rules['age_at']!r}")
    if rules["symptom_percent_denominator"] not in ("all_bm", "ever_symptomatic"):
        raise ConfigError("christie.derivation.symptom_percent_denominator must be all_bm or ever_symptomatic")

    c = clean.reset_index(drop=True)
    groups = primary_group(c["primary_site"], rules["primary_group"], c["patient_id"])

    def yes(name: str) -> pd.Series:
        return has_meaning(c[name], codebook.codes_meaning(name, "yes"))

    def among(name: str, wanted: tuple[str, ...], known: tuple[str, ...]) -> pd.Series:
        """True for the wanted meanings, False for the other known ones, <NA> otherwise."""
        return has_meaning(c[name], codebook.codes_meaning(name, *wanted)).mask(
            ~has_meaning(c[name], codebook.codes_meaning(name, *known)).fillna(False).astype(bool))

    has_bm = yes("bone_mets")

    ever = only_where(yes("bm_symptomatic_ever"), has_bm)
    pain_hyper = yes("bm_pain") | yes("bm_hypercalcaemia")
    sre = yes("bm_sre")
    symptom_base = has_bm if rules["symptom_percent_denominator"] == "all_bm" else ever

    end = c["date_death_or_last_fu"]
    first_met_to_bm = only_where(months_between(c["date_first_distant_met"], c["date_bm_diagnosis"], days_per_month),
                                 has_bm)
    os_bm = only_where(months_between(c["date_bm_diagnosis"], end, days_per_month), has_bm)
    os_sym = only_where(months_between(c["date_bm_symptom_onset"], end, days_per_month), has_bm)
    synchronous = within_days(c["date_nen_diagnosis"], c["date_bm_diagnosis"], rules["synchronous_window_days"])
    same_time = within_days(c["date_first_distant_met"], c["date_bm_diagnosis"], rules["same_time_window_days"])
    always = pd.Series(True, index=c.index, dtype="boolean")
    dead = among("vital_status", ("dead",), ("dead", "alive"))
    age = completed_years(c["date_of_birth"], c[AGE_DATES[rules["age_at"]]])
    if rules["age_at"] == "bm_diagnosis":
        age = only_where(age, has_bm)

    out = pd.DataFrame(
        {
            "patient_id": c["patient_id"].astype("string"),
            "has_bm": has_bm,
            "age_years": age,
            "primary_group": groups,
            "grade_g12": among("grade", ("G1", "G2"), ("G1", "G2", "G3")),
            "functional": among("functional_status", ("functional",), ("functional", "non_functional")),
            "bm_synchronous": only_where(synchronous, has_bm),
            "bm_with_other_mets": only_where(same_time, has_bm),
            "months_first_met_to_bm": first_met_to_bm,
            "first_met_to_bm_event": only_where(always, first_met_to_bm.notna()),
            "bm_widespread": only_where(
                among("bm_extent", ("widespread",), ("solitary", "oligometastatic", "widespread")), has_bm),
            "bm_symptoms_at_dx": only_where(yes("bm_symptomatic_at_dx"), has_bm),
            "bm_symptoms_ever": ever,
            "pain_or_hypercalcaemia": only_where(pain_hyper, symptom_base),
            "sre": only_where(sre, symptom_base),
            **{new: only_where(yes(raw), has_bm) for new, raw in TREATMENTS.items()},
            "os_from_bm_months": os_bm,
            "os_from_bm_event": only_where(dead, os_bm.notna()),
            "os_from_symptoms_months": os_sym,
            "os_from_symptoms_event": only_where(dead, os_sym.notna()),
        },
        columns=list(DERIVED_COLUMNS),
    )
    keep = is_eligible(c, groups, settings["eligibility"], codebook)
    out = out.loc[keep.to_numpy()]
    return out.sort_values("patient_id", kind="mergesort").reset_index(drop=True)


def sequential_exclusions(masks: Mapping[str, pd.Series]) -> list[dict[str, Any]]:
    """Each reason counts the patients it removes that no earlier reason removed (the counts add up)."""
    out = []
    taken: pd.Series | None = None
    for reason, mask in masks.items():
        mask = mask.fillna(False).astype(bool)
        new = mask if taken is None else (mask & ~taken)
        out.append({"reason": reason, "n": int(new.sum())})
        taken = mask if taken is None else (taken | mask)
    return out


def kept_with_unknown_grade(clean: pd.DataFrame, groups: pd.Series, keep: Any, eligibility: Mapping[str, Any],
                            codebook: Codebook) -> list[dict[str, Any]]:
    """Each grade exclusion (e.g. G3 lung NENs) needs a known grade: how many eligible patients of its
    primary group have none (grade missing or not known) and were therefore kept."""
    known = has_meaning(clean["grade"], codebook.codes_meaning("grade", "G1", "G2", "G3")).fillna(False).to_numpy(bool)
    return [{"reason": f"G{rule['grade']} {rule['primary_group']} NEN", "primary_group": str(rule["primary_group"]),
             "grade": f"G{rule['grade']}",
             "n": int((keep & ~known & (groups == rule["primary_group"]).fillna(False).to_numpy(bool)).sum())}
            for rule in eligibility.get("exclude") or []]


def attrition(clean: pd.DataFrame, settings: dict, codebook: Codebook) -> dict[str, Any]:
    """Screened -> eligible (excluded by reason) -> with / without BMs; counts only. `kept_unknown_grade`:
    the eligible patients a grade exclusion could not judge (no known grade), by exclusion."""
    c = clean.reset_index(drop=True)
    groups = primary_group(c["primary_site"], settings["derivation"]["primary_group"], c["patient_id"])
    masks = exclusion_masks(c, groups, settings["eligibility"], codebook)
    keep = is_eligible(c, groups, settings["eligibility"], codebook).to_numpy()
    has_bm = has_meaning(c["bone_mets"], codebook.codes_meaning("bone_mets", "yes")).fillna(False).to_numpy(bool)
    return {
        "kept_unknown_grade": kept_with_unknown_grade(c, groups, keep, settings["eligibility"], codebook),
        "stages": [
            {"label": "Patients screened", "n": int(len(c)), "excluded": []},
            {"label": "Eligible patients", "n": int(keep.sum()),
             "excluded": sequential_exclusions(masks)},
        ],
        "groups": [
            {"label": "With bone metastases", "n": int((keep & has_bm).sum())},
            {"label": "Without bone metastases", "n": int((keep & ~has_bm).sum())},
        ],
    }
