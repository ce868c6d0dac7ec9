"""Synthetic twin of Study A (The Christie): the whole screened NEN database as an SPSS-style RAW frame.

Every published number (settings["targets"], settings["design_days"]) is met EXACTLY by
construction: counts by exact allocation, quartiles by placing order statistics, and medians by
placing event times so that the Kaplan-Meier curve steps across 1/2 at the target time without
ever resting on 1/2 (so lifelines, R/SAS and SPSS report the same median). Detail the papers do not
publish (site mix, grades, calendar dates, censoring, treatments of the ineligible ...) comes from
the small generative model in the constants below: realism only, nothing derived depends on it.

Pure and deterministic: one numpy default_rng(seed) drives every draw, in a fixed order; no
iteration over sets; the same settings give the same frame on every run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from nenbone.errors import ConfigError
from nenbone.synthetic.exact_km import HALF, km_step_across_half

# Column order of config/codebooks/christie.yaml (a test checks they agree).
RAW_COLUMNS = (
    "patient_id", "sex", "date_of_birth", "date_nen_diagnosis", "primary_site", "grade",
    "differentiation", "functional_status", "functional_syndrome", "bone_mets",
    "date_first_distant_met", "date_bm_diagnosis", "date_bm_symptom_onset", "bm_extent",
    "bm_symptomatic_at_dx", "bm_symptomatic_ever", "bm_pain", "bm_hypercalcaemia", "bm_sre",
    "bm_analgesia", "bm_radiotherapy", "bm_bisphosphonate", "bm_surgery", "vital_status",
    "date_death_or_last_fu",
)
DATE_COLUMNS = tuple(c for c in RAW_COLUMNS if c.startswith("date_"))
ID_PREFIX, ID_DIGITS = "CHR", 4

# Codes of the codebook.
PANCREAS, SMALL_BOWEL, STOMACH, DUODENUM, APPENDIX, COLON, RECTUM = 1, 2, 3, 4, 5, 6, 7
LUNG, THYMUS, UNKNOWN_PRIMARY, GYNAE, OTHER_SITE = 8, 9, 10, 11, 12
GRADES = (1, 2, 3, 9)
G3, GRADE_UNKNOWN = 3, 9
WELL, POORLY, DIFF_UNKNOWN = 1, 2, 9
NON_FUNCTIONAL, FUNCTIONAL, FUNCTION_UNKNOWN = 0, 1, 9
NO_SYNDROME, CARCINOID, INSULINOMA, GASTRINOMA, GLUCAGONOMA, VIPOMA, ECTOPIC_ACTH, OTHER_SYNDROME = range(8)
SYNDROME_UNKNOWN = 99
SOLITARY, OLIGO, WIDESPREAD, EXTENT_UNKNOWN = 1, 2, 3, 9
ALIVE, DEAD = 0, 1

# ---- generative model for what is not published (realism only) ----
SITE_WEIGHTS = {  # screened patients without BMs
    PANCREAS: 0.21, SMALL_BOWEL: 0.24, STOMACH: 0.06, DUODENUM: 0.03, APPENDIX: 0.09, COLON: 0.03,
    RECTUM: 0.06, LUNG: 0.15, THYMUS: 0.01, UNKNOWN_PRIMARY: 0.07, GYNAE: 0.01, OTHER_SITE: 0.04,
}
BM_SITE_WEIGHTS = {  # within a primary group, patients with BMs
    PANCREAS: 0.38, SMALL_BOWEL: 0.40, STOMACH: 0.06, DUODENUM: 0.03, APPENDIX: 0.02, COLON: 0.06,
    RECTUM: 0.05, LUNG: 1.0, THYMUS: 0.5, UNKNOWN_PRIMARY: 1.0, GYNAE: 0.2, OTHER_SITE: 0.3,
}
GRADE_PROBS = {  # G1, G2, G3, not known
    "default": (0.45, 0.30, 0.12, 0.13),
    APPENDIX: (0.75, 0.12, 0.03, 0.10),
    RECTUM: (0.75, 0.12, 0.03, 0.10),
    PANCREAS: (0.38, 0.38, 0.12, 0.12),
    UNKNOWN_PRIMARY: (0.20, 0.30, 0.35, 0.15),
    LUNG: (0.50, 0.25, 0.15, 0.10),
}
P_FUNCTIONAL = {SMALL_BOWEL: 0.30, PANCREAS: 0.10, LUNG: 0.05, UNKNOWN_PRIMARY: 0.15, "default": 0.03}
P_FUNCTION_UNKNOWN = 0.03
P_METASTATIC = {UNKNOWN_PRIMARY: 1.0, "G3": 0.7, SMALL_BOWEL: 0.55, PANCREAS: 0.5, LUNG: 0.3,
                APPENDIX: 0.05, RECTUM: 0.1, "default": 0.3}
P_METS_AT_DIAGNOSIS = 0.6
MEAN_DAYS_TO_LATER_METS = 1000.0
MAX_DAYS_TO_LATER_METS = 2500     # BM cohort: NEN diagnosis -> later first metastasis, at most
MEDIAN_SURVIVAL_DAYS = {"G12": 4500.0, "G12_mets": 2600.0, "G3": 700.0, "G3_lung": 330.0, "unknown": 2200.0}
MEDIAN_SURVIVAL_BEFORE_WINDOW_DAYS = 5500.0
LAST_FU_GAP_DAYS = 150            # alive patients were last seen within this many days of the cut-off
P_LOST_TO_FOLLOW_UP = 0.06
AGE_MEAN, AGE_SD, AGE_MIN, AGE_MAX = 61.0, 14.0, 18, 92
EARLIEST_BEFORE_WINDOW = "1988-01-01"
EARLIEST_BIRTH_YEAR = 1901         # inside the codebook's date_of_birth range
P_FEMALE = 0.5
# patients with BMs in the twin's core (eligible) cohort
HYPERCALCAEMIA_ONLY, PAIN_AND_HYPERCALCAEMIA, SRE_WITHOUT_PAIN = 2, 4, 3
P_SOLITARY_IF_NOT_WIDESPREAD = 0.35
BM_DEATH_MEDIAN_DAYS = 900.0      # latent survival from BM diagnosis before the median is placed
BM_DEATH_SHAPE = 1.1
MAX_SYMPTOM_LEAD_DAYS = 180       # symptoms at BM diagnosis began at most this long before it
MIN_DAYS_ONSET_TO_END = 7         # later symptoms begin at least a week before death / last follow-up
MIN_DAYS_TO_LATER_SYMPTOMS = 60   # a later onset needs this much follow-up after BM diagnosis
MAX_DAYS_LATE_BM = 2000          # metachronous BMs: at most this long after t_(k_l)
MAX_PLACEMENT_ATTEMPTS = 5000
EPS = Fraction(1, 10**6)          # S must clear 1/2 by more than this at the median step


# --------------------------------------------------------------------------- small helpers


def _day(value: str | dt.date) -> int:
    """Days since 1970-01-01."""
    return (pd.Timestamp(value).date() - dt.date(1970, 1, 1)).days


def _to_dates(days: np.ndarray) -> pd.Series:
    """Float day numbers (NaN = empty) -> datetime64[ns]."""
    return pd.Series(pd.to_datetime(np.asarray(days, dtype=float), unit="D")).astype("datetime64[ns]")


def _choose(rng: np.random.Generator, k: int, weights: np.ndarray, what: str) -> np.ndarray:
    """Exactly k rows, drawn without replacement with probability proportional to weights."""
    w = np.asarray(weights, dtype=float)
    if int((w > 0).sum()) < k:
        raise ConfigError(f"synthetic christie: cannot choose {k} patients for '{what}' among {int((w > 0).sum())}")
    mask = np.zeros(len(w), dtype=bool)
    if k:
        mask[rng.choice(len(w), size=k, replace=False, p=w / w.sum())] = True
    return mask


def _pick(rng: np.random.Generator, options: Sequence[int], probs: Sequence[float]) -> int:
    p = np.asarray(probs, dtype=float)
    return int(options[int(rng.choice(len(options), p=p / p.sum()))])


def _recent_days(rng: np.random.Generator, n: int, start: int, end: int) -> np.ndarray:
    """Dates in [start, end], density rising linearly to twice as many at the end (referral growth)."""
    if end < start:
        raise ConfigError("synthetic christie: empty date range")
    u = rng.random(n)
    x = (np.sqrt(1.0 + 3.0 * u) - 1.0)  # inverse CDF of density (1 + x) / 1.5 on [0, 1]
    return start + np.floor(x * (end - start + 1)).clip(0, end - start).astype(int)


def _birth_day(ref_day: int, age: int, offset: int) -> int:
    """A birth date giving exactly `age` completed years on ref_day (offset 0..364 days before the anniversary)."""
    ref = dt.date(1970, 1, 1) + dt.timedelta(days=int(ref_day))
    year = ref.year - int(age)
    try:
        anniversary = ref.replace(year=year)
    except ValueError:  # 29 February in a non-leap year
        anniversary = dt.date(year, 2, 28)
    return _day(anniversary - dt.timedelta(days=int(offset)))


def _group_of(mapping: Mapping[str, Sequence[int]]) -> dict[int, str]:
    return {int(code): group for group in sorted(mapping) for code in mapping[group]}


# --------------------------------------------------------------------------- Kaplan-Meier placement


def _median_is_clean(times: np.ndarray, events: np.ndarray, target: int) -> bool:
    """KM steps from clearly above 1/2 to clearly below it at `target`, by one event alone."""
    step = km_step_across_half(times, events)
    if step is None or step[0] != target:
        return False
    _, before, after = step
    at = times == target
    return before - HALF > EPS and HALF - after > EPS and int(at.sum()) == 1


def place_median(
    values: np.ndarray, events: np.ndarray, lo: np.ndarray, hi: np.ndarray, target: int
) -> np.ndarray | None:
    """Move the event where KM crosses 1/2 onto `target`, keeping every S before it; None if impossible.

    Values between the crossing and the target are shifted past the target (their order kept);
    they were after the crossing already, so the curve up to the median is unchanged.
    """
    step = km_step_across_half(values, events)
    if step is None:
        return None
    t_p, before, after = step
    at = np.flatnonzero(values == t_p)
    if not (before - HALF > EPS and HALF - after > EPS) or len(at) != 1:
        return None
    p = int(at[0])
    if not lo[p] <= target <= hi[p]:
        return None
    new = values.copy()
    if t_p > target:
        if np.any((values >= target) & (values < t_p)):
            return None
    elif t_p < target:
        blockers = (values > t_p) & (values <= target)
        new[blockers] = values[blockers] + (target - t_p + 1)
        if np.any(new[blockers] > hi[blockers]):
            return None
    new[p] = target
    return new if _median_is_clean(new, events, target) else None


def first_met_to_bm_design(n: int, median_days: int, se_days: float) -> dict[str, Any]:
    """Order statistics that fix SPSS's KM median and its SE for n uncensored times.

    With no censoring S(t_(k)) = 1 - k/n and Greenwood SE(S) = sqrt(S(1 - S)/n). The median is
    t_(m), m = ceil(n/2); for even n, t_(m) = t_(m+1) so S jumps over 1/2 instead of resting on it.
    SPSS's u = t_(k_u), k_u = max{k: 1 - k/n >= 0.55}; l = t_(k_l), k_l = min{k: 1 - k/n <= 0.45};
    SE(median) = SE(S(median)) * (l - u) * n / (k_l - k_u): the gap l - u sets the SE.
    """
    m = -(-n // 2)
    k_med = m + 1 if n % 2 == 0 else m
    k_u = (9 * n) // 20
    k_l = -(-(11 * n) // 20)
    if not (1 <= k_u < m and k_med < k_l < n):
        raise ConfigError(f"synthetic christie: {n} metachronous patients are too few to place the SPSS median SE")
    s_med = (n - k_med) / n
    se_s = float(np.sqrt(s_med * (1 - s_med) / n))
    gap = int(round(se_days * (k_l - k_u) / (n * se_s)))
    return {"m": m, "k_med": k_med, "k_u": k_u, "k_l": k_l, "gap": gap}


def first_met_to_bm_days(
    rng: np.random.Generator, n: int, median_days: int, se_days: float, min_days: int
) -> np.ndarray:
    """n sorted whole-day times (all events) with KM median median_days and SPSS SE se_days."""
    d = first_met_to_bm_design(n, median_days, se_days)
    m, k_med, k_u, k_l, gap = d["m"], d["k_med"], d["k_u"], d["k_l"], d["gap"]
    # t_(k_u) sits 35-60% of the gap below the median; t_(k_l) = t_(k_u) + gap.
    t_u = median_days - int(round(gap * rng.uniform(0.35, 0.60)))
    t_l = t_u + gap
    if not (min_days < t_u < median_days - 1 and median_days + 1 < t_l):
        raise ConfigError("synthetic christie: the time from first metastasis to BMs cannot be placed")
    t = np.zeros(n, dtype=int)
    low = np.exp(rng.uniform(np.log(min_days), np.log(t_u), k_u - 1)).astype(int)
    t[: k_u - 1] = np.sort(low.clip(min_days, t_u - 1))
    if k_u > 1:
        t[0] = min_days  # one patient a day past the same-time window
    t[k_u - 1] = t_u
    t[k_u : m - 1] = np.sort(rng.integers(t_u + 1, median_days, m - 1 - k_u))
    t[m - 1 : k_med] = median_days
    t[k_med : k_l - 1] = np.sort(rng.integers(median_days + 1, t_l, k_l - 1 - k_med))
    t[k_l - 1] = t_l
    t[k_l:] = np.sort(t_l + 1 + np.minimum(rng.exponential(420.0, n - k_l).astype(int), MAX_DAYS_LATE_BM))
    return t


# --------------------------------------------------------------------------- settings


def _check(settings: Mapping[str, Any], cfg: Mapping[str, Any]) -> None:
    """Inconsistent targets are a configuration error, named in full."""
    t = settings["targets"]
    problems = []
    inel = sum(int(v["n"]) for v in settings["ineligible"].values())
    if inel != settings["n_screened"] - t["n_eligible"]:
        wanted = settings["n_screened"] - t["n_eligible"]
        problems.append(f"ineligible n's sum to {inel}, not n_screened - n_eligible = {wanted}")
    if sum(t["primary_group"].values()) != t["bm"]:
        problems.append("targets.primary_group must sum to targets.bm")
    if not t["synchronous"] <= t["with_other_mets"] <= t["bm"]:
        problems.append("need synchronous <= with_other_mets <= bm")
    if not t["symptoms_at_dx"] <= t["symptoms_ever"] <= t["bm"]:
        problems.append("need symptoms_at_dx <= symptoms_ever <= bm")
    if not max(t["pain_or_hypercalcaemia"], t["sre"]) <= t["symptoms_ever"]:
        problems.append("pain_or_hypercalcaemia and sre must not exceed symptoms_ever")
    if t["tx"]["surgery"] > t["sre"]:
        problems.append("tx.surgery must not exceed sre (surgery is for skeletal-related events)")
    if t["tx"]["analgesia"] > t["pain_or_hypercalcaemia"] - HYPERCALCAEMIA_ONLY:
        problems.append("tx.analgesia exceeds the patients with bone pain")
    if settings["symptom_onset_not_recorded"] > t["symptoms_ever"] - t["symptoms_at_dx"]:
        problems.append("symptom_onset_not_recorded exceeds the patients with later symptoms")
    q1, med, q3 = t["age_quartiles"]
    if not (AGE_MIN < q1 <= med <= q3 < AGE_MAX):
        problems.append("age_quartiles must be increasing and inside the twin's ages")
    windows = cfg["derivation"]
    if windows["synchronous_window_days"] > windows["same_time_window_days"]:
        problems.append("the twin needs synchronous_window_days <= same_time_window_days")
    if problems:
        raise ConfigError("synthetic.christie settings are inconsistent:\n  - " + "\n  - ".join(problems))


# --------------------------------------------------------------------------- patients with BMs (eligible)


def _syndrome(rng: np.random.Generator, site: int, grade: int) -> int:
    """A plausible hormonal syndrome for a functional tumour."""
    if site == PANCREAS:
        return _pick(rng, (INSULINOMA, GASTRINOMA, GLUCAGONOMA, VIPOMA, OTHER_SYNDROME), (0.2, 0.3, 0.2, 0.15, 0.15))
    if site in (DUODENUM, STOMACH):
        return GASTRINOMA
    if site == THYMUS or (grade == G3 and site != SMALL_BOWEL):
        return _pick(rng, (ECTOPIC_ACTH, OTHER_SYNDROME), (0.7, 0.3))
    if site == LUNG:
        return _pick(rng, (CARCINOID, ECTOPIC_ACTH), (0.7, 0.3))
    return CARCINOID


def _differentiation(rng: np.random.Generator, grade: int) -> int:
    if grade in (1, 2):
        return _pick(rng, (WELL, DIFF_UNKNOWN), (0.95, 0.05))
    if grade == G3:
        return _pick(rng, (POORLY, WELL), (0.75, 0.25))
    return _pick(rng, (WELL, POORLY, DIFF_UNKNOWN), (0.5, 0.1, 0.4))


def _age_order_statistics(rng: np.random.Generator, n: int, quartiles: Sequence[float]) -> np.ndarray:
    """n whole ages whose (n+1)p quartiles (numpy 'weibull') are exactly the given ones."""
    values = np.full(n, -1, dtype=int)
    fixed: dict[int, int] = {}
    for p, q in zip((0.25, 0.5, 0.75), quartiles, strict=True):
        h = p * (n + 1)
        j = int(np.floor(h))
        frac = h - j
        if not 1 <= j < n:
            raise ConfigError("synthetic christie: too few patients for the age quartiles")
        if frac == 0:
            lo_v = hi_v = int(q)
            if q != int(q):
                raise ConfigError(f"synthetic christie: quartile {q} needs a whole age at position {j}")
        else:
            # x_j + frac (x_{j+1} - x_j) = q with whole ages one year apart (when possible)
            lo_v = int(np.floor(q - frac))
            hi_v = lo_v + 1
            if abs(lo_v + frac * (hi_v - lo_v) - q) > 1e-9:
                raise ConfigError(f"synthetic christie: quartile {q} cannot be made of whole ages")
        for pos, v in ((j, lo_v), (j + 1, hi_v)):
            if fixed.get(pos, v) != v:
                raise ConfigError("synthetic christie: age quartiles clash")
            fixed[pos] = v
    positions = sorted(fixed)
    youngest, oldest = max(AGE_MIN, fixed[positions[0]] - 22), min(AGE_MAX, fixed[positions[-1]] + 20)
    bounds = [youngest, *[fixed[k] for k in positions], oldest]
    edges = [0, *positions, n + 1]
    for pos in positions:
        values[pos - 1] = fixed[pos]
    for seg in range(len(edges) - 1):
        a, b = edges[seg] + 1, edges[seg + 1] - 1  # free 1-based positions between fixed ones
        if b >= a:
            low, high = bounds[seg], bounds[seg + 1]
            values[a - 1 : b] = np.sort(rng.integers(low, high + 1, b - a + 1))
    return values


def _core_attributes(rng: np.random.Generator, t: Mapping[str, Any], mapping: Mapping[str, Sequence[int]],
                     g3_excluded_groups: Sequence[str]) -> pd.DataFrame:
    """Site, grade, function, timing class and extent of the eligible patients with BMs, counts exact."""
    groups = np.array([g for g in ("GEP", "lung", "unknown", "other") for _ in range(t["primary_group"][g])])
    n = len(groups)
    sites = np.array([
        _pick(rng, list(mapping[g]), [BM_SITE_WEIGHTS.get(int(c), 0.1) for c in mapping[g]]) for g in groups
    ])
    can_g3 = ~np.isin(groups, list(g3_excluded_groups))
    w_g3 = np.where(can_g3, np.where(np.isin(groups, ["unknown", "other"]), 2.0, 1.0), 0.0)
    g3 = _choose(rng, n - t["grade_g12"], w_g3, "G3")
    grade = np.where(g3, G3, np.where(rng.random(n) < np.where(groups == "lung", 0.4, 0.45), 1, 2))
    differentiation = np.array([_differentiation(rng, G3) if g == G3 else WELL for g in grade])
    w_fun = np.select([sites == SMALL_BOWEL, groups == "unknown", groups == "lung", sites == PANCREAS],
                      [6.0, 4.0, 2.0, 2.0], 1.0)
    functional = _choose(rng, t["functional"], np.where(g3, 0.3, w_fun), "functional")
    syndrome = np.array([_syndrome(rng, int(s), int(g)) if f else NO_SYNDROME
                         for s, g, f in zip(sites, grade, functional, strict=True)])
    unknown = groups == "unknown"
    sync = _choose(rng, t["synchronous"], np.select([unknown, g3], [4.0, 2.0], 1.0), "synchronous")
    same = _choose(rng, t["with_other_mets"] - t["synchronous"], np.where(sync | unknown, 0.0, 1.0),
                   "same time, not synchronous")
    timing = np.where(sync, "sync", np.where(same, "same", "meta"))
    wide = _choose(rng, t["widespread"], np.where(g3, 2.0, 1.0) * np.where(sync, 1.5, 1.0), "widespread")
    extent = np.where(wide, WIDESPREAD, np.where(rng.random(n) < P_SOLITARY_IF_NOT_WIDESPREAD, SOLITARY, OLIGO))
    ages = rng.permutation(_age_order_statistics(rng, n, t["age_quartiles"]))
    sex = np.where(rng.random(n) < P_FEMALE, 2, 1)
    return pd.DataFrame({
        "group": groups, "primary_site": sites, "grade": grade, "differentiation": differentiation,
        "functional_status": np.where(functional, FUNCTIONAL, NON_FUNCTIONAL), "functional_syndrome": syndrome,
        "timing": timing, "bm_extent": extent, "age": ages, "sex": sex, "g3": g3,
    })


def _pre_bm_intervals(rng: np.random.Generator, core: pd.DataFrame, meta_days: np.ndarray,
                      sync_window: int, same_window: int) -> tuple[np.ndarray, np.ndarray]:
    """Days NEN diagnosis -> first distant metastasis, and first metastasis -> BM diagnosis."""
    n = len(core)
    to_met = np.zeros(n, dtype=int)
    met_to_bm = np.zeros(n, dtype=int)
    unknown = (core["group"] == "unknown").to_numpy()
    for i, timing in enumerate(core["timing"]):
        if timing == "sync":
            total = 0 if rng.random() < 0.4 else int(rng.integers(1, sync_window + 1))
            to_met[i] = 0 if unknown[i] or rng.random() < 0.7 else int(rng.integers(0, total + 1))
            met_to_bm[i] = total - to_met[i]
        elif timing == "same":
            to_met[i] = sync_window + 1 + min(int(rng.lognormal(np.log(900.0), 0.8)), MAX_DAYS_TO_LATER_METS)
            met_to_bm[i] = 0 if rng.random() < 0.5 else int(rng.integers(1, same_window + 1))
    # One patient exactly on each window's edge, so the twin tells '<=' from '<'.
    first_sync = int(np.flatnonzero((core["timing"] == "sync").to_numpy())[0])
    to_met[first_sync], met_to_bm[first_sync] = 0, sync_window
    first_same = int(np.flatnonzero((core["timing"] == "same").to_numpy())[0])
    met_to_bm[first_same] = same_window
    meta = np.flatnonzero((core["timing"] == "meta").to_numpy())
    met_to_bm[meta] = rng.permutation(meta_days)
    for i in meta:
        later = min(int(rng.lognormal(np.log(700.0), 0.8)), MAX_DAYS_TO_LATER_METS)
        to_met[i] = 0 if unknown[i] or rng.random() < 0.55 else later
    return to_met, met_to_bm


def _os_from_bm(rng: np.random.Generator, core: pd.DataFrame, pre_bm: np.ndarray, window: tuple[int, int],
                cutoff: int, target: int) -> dict[str, np.ndarray] | None:
    """NEN and BM diagnosis days, end of follow-up and death, with the KM median from BM diagnosis on target."""
    n = len(core)
    start, end = window
    latest_dx = np.minimum(end, cutoff - pre_bm - 60)
    if np.any(latest_dx < start):
        return None
    dx = np.array([_recent_days(rng, 1, start, int(hi))[0] for hi in latest_dx])
    bm = dx + pre_bm
    scale = BM_DEATH_MEDIAN_DAYS / np.log(2) ** (1 / BM_DEATH_SHAPE)
    death = np.maximum(1, (rng.weibull(BM_DEATH_SHAPE, n) * scale * np.where(core["g3"], 0.6, 1.25)).astype(int))
    gap = np.minimum(rng.integers(0, LAST_FU_GAP_DAYS + 1, n), (cutoff - bm) // 2)
    last_seen = cutoff - gap
    lost = rng.random(n) < P_LOST_TO_FOLLOW_UP
    last_seen = np.where(lost, bm + ((last_seen - bm) * rng.uniform(0.2, 0.9, n)).astype(int), last_seen)
    event = bm + death <= last_seen
    time = np.where(event, death, last_seen - bm)
    lo = np.where(event, 1, np.where(lost, time, np.maximum(0, cutoff - LAST_FU_GAP_DAYS - bm)))
    hi = np.where(event, cutoff - bm, np.where(lost, time, cutoff - bm))
    placed = place_median(time, event, lo, hi, target)
    if placed is None:
        return None
    return {"dx": dx, "bm": bm, "time": placed, "event": event}


def _symptoms(rng: np.random.Generator, core: pd.DataFrame, os_days: np.ndarray, t: Mapping[str, Any],
              n_onset_unknown: int) -> dict[str, np.ndarray] | None:
    """Who had symptoms when, pain / hypercalcaemia / SREs, and treatments: counts exact."""
    n = len(core)
    g3 = core["g3"].to_numpy()
    wide = (core["bm_extent"] == WIDESPREAD).to_numpy()
    sync = (core["timing"] == "sync").to_numpy()
    w_at_dx = np.where(wide, 2.0, 1.0) * np.where(g3, 1.5, 1.0) * np.where(sync, 1.5, 1.0)
    at_dx = _choose(rng, t["symptoms_at_dx"], w_at_dx, "symptoms at BM diagnosis")
    can_later = ~at_dx & (os_days >= MIN_DAYS_TO_LATER_SYMPTOMS)
    if can_later.sum() < t["symptoms_ever"] - t["symptoms_at_dx"]:
        return None
    w_later = np.where(can_later, 0.2 + np.minimum(os_days, 1500) / 1500, 0.0)
    later = _choose(rng, t["symptoms_ever"] - t["symptoms_at_dx"], w_later, "later symptoms")
    ever = at_dx | later
    onset_unknown = _choose(rng, n_onset_unknown, later.astype(float), "onset not recorded")
    w_pain = np.where(ever, np.where(at_dx, 2.0, 1.0), 0.0)
    pain_hyper = _choose(rng, t["pain_or_hypercalcaemia"], w_pain, "pain or hypercalcaemia")
    hyper_only = _choose(rng, HYPERCALCAEMIA_ONLY, pain_hyper.astype(float), "hypercalcaemia only")
    both = _choose(rng, PAIN_AND_HYPERCALCAEMIA, (pain_hyper & ~hyper_only).astype(float), "pain and hypercalcaemia")
    pain = pain_hyper & ~hyper_only
    hyper = hyper_only | both
    sre = _choose(rng, t["sre"] - SRE_WITHOUT_PAIN, pain.astype(float) * np.where(wide, 2.0, 1.0), "SRE with pain")
    sre |= _choose(rng, SRE_WITHOUT_PAIN, (ever & ~pain_hyper).astype(float), "SRE without pain")
    tx = t["tx"]
    analgesia = _choose(rng, tx["analgesia"], pain.astype(float), "analgesia")
    w_rt = np.select([sre, pain, ever], [5.0, 2.0, 1.0], 0.15)
    radiotherapy = _choose(rng, tx["radiotherapy"], w_rt, "radiotherapy")
    w_bp = np.select([hyper, sre, wide, ever], [8.0, 3.0, 1.5, 1.0], 0.5)
    bisphosphonate = _choose(rng, tx["bisphosphonate"], w_bp, "bisphosphonates")
    surgery = _choose(rng, tx["surgery"], sre.astype(float), "surgery")
    return {
        "at_dx": at_dx, "ever": ever, "later": later, "onset_unknown": onset_unknown, "pain": pain,
        "hyper": hyper, "sre": sre, "analgesia": analgesia, "radiotherapy": radiotherapy,
        "bisphosphonate": bisphosphonate, "surgery": surgery,
    }


def _symptom_lead_days(
    rng: np.random.Generator, os_days: np.ndarray, event: np.ndarray, sym: Mapping[str, np.ndarray], target: int
) -> np.ndarray | None:
    """BM diagnosis - symptom onset, in days (> 0: symptoms first), so that KM from onset has median target."""
    dated = sym["ever"] & ~sym["onset_unknown"]
    idx = np.flatnonzero(dated)
    at_dx = sym["at_dx"][idx]
    os_i = os_days[idx]
    lead = np.minimum(rng.exponential(45.0, len(idx)).astype(int), MAX_SYMPTOM_LEAD_DAYS)
    frac = rng.beta(1.3, 1.6, len(idx))
    later_delay = 1 + (frac * (os_i - 1 - MIN_DAYS_ONSET_TO_END)).astype(int)
    values = np.where(at_dx, os_i + lead, os_i - later_delay)
    lo = np.where(at_dx, os_i, MIN_DAYS_ONSET_TO_END)
    hi = np.where(at_dx, os_i + MAX_SYMPTOM_LEAD_DAYS, os_i - 1)
    placed = place_median(values, event[idx], lo, hi, target)
    if placed is None:
        return None
    out = np.full(len(os_days), np.nan)
    out[idx] = placed - os_i
    return out


def _core_cohort(rng: np.random.Generator, settings: Mapping[str, Any], cfg: Mapping[str, Any]) -> pd.DataFrame:
    """The eligible patients with BMs, meeting every published number."""
    t, days = settings["targets"], settings["design_days"]
    rules = cfg["derivation"]
    mapping = rules["primary_group"]
    g3_excluded = [r["primary_group"] for r in cfg["eligibility"]["exclude"] if int(r["grade"]) == G3]
    core = _core_attributes(rng, t, mapping, g3_excluded)
    n_meta = int((core["timing"] == "meta").sum())
    meta_days = first_met_to_bm_days(rng, n_meta, days["first_met_to_bm_median"], days["first_met_to_bm_spss_se"],
                                     rules["same_time_window_days"] + 1)
    to_met, met_to_bm = _pre_bm_intervals(
        rng, core, meta_days, rules["synchronous_window_days"], rules["same_time_window_days"]
    )
    window = (_day(cfg["eligibility"]["diagnosis_from"]), _day(cfg["eligibility"]["diagnosis_to"]))
    cutoff = _day(settings["data_cutoff"])
    for _ in range(MAX_PLACEMENT_ATTEMPTS):
        os_ = _os_from_bm(rng, core, to_met + met_to_bm, window, cutoff, days["os_from_bm_median"])
        if os_ is None:
            continue
        sym = _symptoms(rng, core, os_["time"], t, settings["symptom_onset_not_recorded"])
        if sym is None:
            continue
        lead = _symptom_lead_days(rng, os_["time"], os_["event"], sym, days["os_from_symptoms_median"])
        if lead is not None:
            break
    else:
        raise ConfigError("synthetic christie: could not place the survival medians; try another seed")
    dx, bm = os_["dx"], os_["bm"]
    ref = dx if rules["age_at"] == "nen_diagnosis" else bm
    return pd.DataFrame({
        "sex": core["sex"],
        "date_of_birth": [_birth_day(int(r), int(a), int(o))
                          for r, a, o in zip(ref, core["age"], rng.integers(0, 365, len(core)), strict=True)],
        "date_nen_diagnosis": dx,
        "primary_site": core["primary_site"],
        "grade": core["grade"],
        "differentiation": core["differentiation"],
        "functional_status": core["functional_status"],
        "functional_syndrome": core["functional_syndrome"],
        "bone_mets": 1,
        "date_first_distant_met": dx + to_met,
        "date_bm_diagnosis": bm,
        "date_bm_symptom_onset": bm - lead,
        "bm_extent": core["bm_extent"].astype(float),
        "bm_symptomatic_at_dx": _yes(sym["at_dx"]),
        "bm_symptomatic_ever": _yes(sym["ever"]),
        "bm_pain": _yes(sym["pain"]),
        "bm_hypercalcaemia": _yes(sym["hyper"]),
        "bm_sre": _yes(sym["sre"]),
        "bm_analgesia": _yes(sym["analgesia"]),
        "bm_radiotherapy": _yes(sym["radiotherapy"]),
        "bm_bisphosphonate": _yes(sym["bisphosphonate"]),
        "bm_surgery": _yes(sym["surgery"]),
        "vital_status": np.where(os_["event"], DEAD, ALIVE),
        "date_death_or_last_fu": bm + os_["time"],
    })


# --------------------------------------------------------------------------- everyone else


def _site_and_grade(rng: np.random.Generator, i: int, kind: str, cfg: Mapping[str, Any]) -> tuple[int, int]:
    """Primary site and grade; 'eligible' never draws an excluded group/grade, 'excluded' always does."""
    mapping = cfg["derivation"]["primary_group"]
    rules = cfg["eligibility"]["exclude"]
    if kind == "excluded":
        rule = rules[i % len(rules)]
        codes = [int(c) for c in mapping[rule["primary_group"]]]
        return _pick(rng, codes, [SITE_WEIGHTS.get(c, 0.1) for c in codes]), int(rule["grade"])
    codes = sorted(SITE_WEIGHTS)
    site = _pick(rng, codes, [SITE_WEIGHTS[c] for c in codes])
    probs = np.array(GRADE_PROBS.get(site, GRADE_PROBS["default"]))
    if kind == "eligible":
        banned = [int(r["grade"]) for r in rules if r["primary_group"] == _group_of(mapping)[site]]
        probs = np.where(np.isin(GRADES, banned), 0.0, probs)
    return site, _pick(rng, GRADES, probs)


def _function(rng: np.random.Generator, site: int, grade: int) -> tuple[int, int]:
    """Functional status and syndrome codes."""
    if rng.random() < P_FUNCTION_UNKNOWN:
        return FUNCTION_UNKNOWN, SYNDROME_UNKNOWN
    if rng.random() < P_FUNCTIONAL.get(site, P_FUNCTIONAL["default"]):
        return FUNCTIONAL, _syndrome(rng, site, grade)
    return NON_FUNCTIONAL, NO_SYNDROME


def _median_survival(site_group: str, grade: int, metastatic: bool, before_window: bool, has_bm: bool) -> float:
    """Median survival from NEN diagnosis (days) in the background model."""
    if before_window:
        median = MEDIAN_SURVIVAL_BEFORE_WINDOW_DAYS
    elif grade == G3:
        median = MEDIAN_SURVIVAL_DAYS["G3_lung" if site_group == "lung" else "G3"]
    elif grade == GRADE_UNKNOWN:
        median = MEDIAN_SURVIVAL_DAYS["unknown"]
    else:
        median = MEDIAN_SURVIVAL_DAYS["G12_mets" if metastatic else "G12"]
    return median * (0.5 if has_bm else 1.0)


def _follow_up(rng: np.random.Generator, d0: int, median: float, cutoff: int) -> tuple[int, bool]:
    """End of follow-up (death or last seen) and whether it is a death."""
    death = d0 + 1 + int(rng.exponential(median / np.log(2)))
    last_seen = cutoff - int(rng.integers(0, LAST_FU_GAP_DAYS + 1))
    if rng.random() < P_LOST_TO_FOLLOW_UP:
        last_seen = d0 + int((last_seen - d0) * rng.uniform(0.1, 0.9))
    last_seen = max(last_seen, d0)
    return (death, True) if death <= last_seen else (last_seen, False)


def _first_metastasis(rng: np.random.Generator, site: int, grade: int, d0: int, end: int, has_bm: bool) -> float:
    """Day of the first distant metastasis (NaN if none by the end of follow-up)."""
    p_met = max(P_METASTATIC.get(site, P_METASTATIC["default"]), P_METASTATIC["G3"] if grade == G3 else 0.0)
    if not (has_bm or rng.random() < p_met):
        return np.nan
    at_diagnosis = site == UNKNOWN_PRIMARY or rng.random() < P_METS_AT_DIAGNOSIS
    delay = 0 if at_diagnosis else int(rng.exponential(MEAN_DAYS_TO_LATER_METS))
    if d0 + delay <= end:
        return float(d0 + delay)
    return float(d0) if has_bm else np.nan


def _background_patient(rng: np.random.Generator, i: int, d0: int, kind: str, has_bm: bool,
                        cfg: Mapping[str, Any], cutoff: int) -> dict[str, Any]:
    """One patient outside the published BM cohort, as raw codes and day numbers."""
    site, grade = _site_and_grade(rng, i, kind, cfg)
    function, syndrome = _function(rng, site, grade)
    group = _group_of(cfg["derivation"]["primary_group"])[site]
    before_window = d0 < _day(cfg["eligibility"]["diagnosis_from"])
    median = _median_survival(group, grade, has_bm or rng.random() < 0.45, before_window, has_bm)
    end, dead = _follow_up(rng, d0, median, cutoff)
    first_met = _first_metastasis(rng, site, grade, d0, end, has_bm)
    oldest = min(AGE_MAX, (dt.date(1970, 1, 1) + dt.timedelta(days=d0)).year - EARLIEST_BIRTH_YEAR)
    age = int(np.clip(round(rng.normal(AGE_MEAN, AGE_SD)), AGE_MIN, oldest))
    return {
        "sex": 2 if rng.random() < P_FEMALE else 1,
        "date_of_birth": _birth_day(d0, age, int(rng.integers(0, 365))),
        "date_nen_diagnosis": d0,
        "primary_site": site,
        "grade": grade,
        "differentiation": _differentiation(rng, grade),
        "functional_status": function,
        "functional_syndrome": syndrome,
        "bone_mets": 1 if has_bm else 0,
        "date_first_distant_met": first_met,
        **(_random_bm_fields(rng, first_met, end, grade == G3) if has_bm else _no_bm_fields()),
        "vital_status": DEAD if dead else ALIVE,
        "date_death_or_last_fu": end,
    }


def _background(rng: np.random.Generator, dx: np.ndarray, kind: str, n_bm: int, cfg: Mapping[str, Any],
                cutoff: int) -> pd.DataFrame:
    """Patients outside the published BM cohort: eligible without BMs, or ineligible (n_bm with BMs).

    kind: "eligible" (never an excluded group/grade), "excluded" (always one), or "any".
    """
    with_bm = np.zeros(len(dx), dtype=bool)
    if n_bm:
        with_bm[rng.choice(len(dx), size=n_bm, replace=False)] = True
    rows = [_background_patient(rng, i, int(d0), kind, bool(with_bm[i]), cfg, cutoff) for i, d0 in enumerate(dx)]
    return pd.DataFrame(rows, columns=[c for c in RAW_COLUMNS if c != "patient_id"])


def _yes(mask: np.ndarray) -> np.ndarray:
    """Boolean -> the codebook's 0/1 codes."""
    return np.where(mask, 1.0, 0.0)


def _no_bm_fields() -> dict[str, float]:
    return {c: np.nan for c in RAW_COLUMNS if c.startswith(("bm_", "date_bm_"))}


def _random_bm_fields(rng: np.random.Generator, first_met: float, end: int, g3: bool) -> dict[str, float]:
    """BM details of a patient outside the published cohort: consistent, not targeted."""
    bm = int(first_met) + (0 if rng.random() < 0.5 else int((end - first_met) * rng.uniform(0.0, 0.6)))
    at_dx = bool(rng.random() < 0.3)
    later = not at_dx and end - bm > MIN_DAYS_ONSET_TO_END + 1 and bool(rng.random() < 0.6)
    ever = at_dx or later
    if at_dx:
        onset = float(bm - int(rng.integers(0, 90)))
    elif later:
        onset = float(bm + int(rng.integers(1, end - bm - MIN_DAYS_ONSET_TO_END)))
    else:
        onset = np.nan
    pain = ever and bool(rng.random() < 0.8)
    hyper = ever and bool(rng.random() < 0.08)
    sre = ever and bool(rng.random() < 0.25)
    probs = (0.1, 0.2, 0.6, 0.1) if g3 else (0.2, 0.3, 0.4, 0.1)
    extent = _pick(rng, (SOLITARY, OLIGO, WIDESPREAD, EXTENT_UNKNOWN), probs)
    return {
        "date_bm_diagnosis": float(bm),
        "date_bm_symptom_onset": onset,
        "bm_extent": float(extent),
        "bm_symptomatic_at_dx": float(at_dx),
        "bm_symptomatic_ever": float(ever),
        "bm_pain": float(pain),
        "bm_hypercalcaemia": float(hyper),
        "bm_sre": float(sre),
        "bm_analgesia": float(pain and rng.random() < 0.7),
        "bm_radiotherapy": float(rng.random() < (0.5 if ever else 0.1)),
        "bm_bisphosphonate": float(rng.random() < (0.6 if hyper else 0.15)),
        "bm_surgery": float(sre and rng.random() < 0.15),
    }


def _eligible_dx_days(rng: np.random.Generator, n: int, start: int, end: int) -> np.ndarray:
    """Diagnosis days in the study period, the first two exactly on its boundary days."""
    days = _recent_days(rng, n, start, end)
    days[:2] = (start, end)
    return days


# --------------------------------------------------------------------------- public API


def generate(settings: dict, config_christie: dict) -> pd.DataFrame:
    """The RAW frame of the screened database (one row per patient, codebook column order)."""
    _check(settings, config_christie)
    rng = np.random.default_rng(int(settings["seed"]))
    t, inel = settings["targets"], settings["ineligible"]
    cutoff = _day(settings["data_cutoff"])
    start = _day(config_christie["eligibility"]["diagnosis_from"])
    end = _day(config_christie["eligibility"]["diagnosis_to"])
    if cutoff <= end:
        raise ConfigError("synthetic.christie.data_cutoff must fall after christie.eligibility.diagnosis_to")

    core = _core_cohort(rng, settings, config_christie)
    n_rest = t["n_eligible"] - t["bm"]
    before, after, excl = inel["diagnosed_before"], inel["diagnosed_after"], inel["g3_lung"]
    before_dx = _recent_days(rng, before["n"], _day(EARLIEST_BEFORE_WINDOW), start - 1)
    after_dx = _recent_days(rng, after["n"], end + 1, cutoff - 14)
    if before["n"]:
        before_dx[0] = start - 1
    if after["n"]:
        after_dx[0] = end + 1
    parts = [
        core,
        _background(rng, _eligible_dx_days(rng, n_rest, start, end), "eligible", 0, config_christie, cutoff),
        _background(rng, before_dx, "any", before["n_bm"], config_christie, cutoff),
        _background(rng, after_dx, "any", after["n_bm"], config_christie, cutoff),
        _background(rng, _recent_days(rng, excl["n"], start, end), "excluded", excl["n_bm"], config_christie, cutoff),
    ]
    raw = pd.concat(parts, ignore_index=True)
    if len(raw) != settings["n_screened"]:
        raise ConfigError(f"synthetic christie: built {len(raw)} patients, expected {settings['n_screened']}")
    raw["patient_id"] = [f"{ID_PREFIX}{k:0{ID_DIGITS}d}" for k in rng.permutation(len(raw)) + 1]
    raw = raw.sort_values("patient_id", kind="mergesort").reset_index(drop=True)
    for col in DATE_COLUMNS:
        raw[col] = _to_dates(raw[col].to_numpy(dtype=float))
    for col in RAW_COLUMNS:
        if col == "patient_id" or col in DATE_COLUMNS:
            continue
        values = raw[col].to_numpy(dtype=float)
        raw[col] = values.astype(np.int64) if not np.isnan(values).any() else values
    raw["patient_id"] = raw["patient_id"].astype(object)
    return raw[list(RAW_COLUMNS)]
