"""Synthetic twin of Study B (Croome et al. 2016): the Mayo hepatic-resection export as a RAW frame.

Design (what is published is met exactly, by construction, not by drawing and hoping):

* 25 patients with bone metastases at resection (group LB). Their bone-metastasis counts, sites,
  treatments and major resections are allocated to meet the published counts exactly; their
  survival times follow a fixed pattern (below) assigned within each patient's possible follow-up.
* A liver-only pool (group L) drawn as a surgeon would recognise it, in two parts:
  - near neighbours: for each LB patient a few (design.neighbours.per_lb) liver-only patients who
    resemble it - mostly the same sex, primary group, grade group, synchronous/metachronous and
    uni/bilobar disease, with age and year of resection a few years apart; a share of them
    (design.neighbours.one_differs) differ in one of these categorical covariates;
  - the rest of the pool, from plausible distributions of a liver-only series (more often
    metachronous, unilobar, G1-2 and small-bowel than the LB patients, and a little older), so the
    groups differ before matching. Grade and lesion count are not recorded (Stata `.a`) in part of
    the older cases.
* Then the real matcher runs: the covariates are derived by `nenbone.derive.mayo.derive` and
  matched by `nenbone.analysis.matching.match` with config `mayo.matching`, exactly as the workflow
  will do on the exported file. Every LB patient must get `ratio` controls; if one does not, the
  design failed and `TwinDesignError` says so (no retry with another seed). Which controls are
  matched is the matcher's choice: balance after matching is good but not perfect.
* Outcomes are assigned after matching, placed not drawn: the LB survival times follow a fixed
  pattern anchored on the three published medians (54.0, GI 73.3, pancreas 42.7 months) and the
  100 matched controls a pattern anchored on 97.7 months, each Kaplan-Meier curve stepping from
  above 0.5 to below 0.5 at the anchor (never resting on 0.5), so lifelines, R (midpoint rule) and
  SPSS report the same median. The spread of the controls' times before their median is solved
  for (bisection) so that the log-rank p rounds to the published 0.03; the outcome multisets do
  not depend on the seed, only their assignment to patients does. Exactly 55 of the 100 matched
  controls have a major resection.
* Unmatched liver-only patients and the patients with other extrahepatic disease (in neither
  group) get outcomes drawn from plausible, unpublished distributions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from nenbone.analysis.matching import MatchResult, match
from nenbone.analysis.survival import logrank
from nenbone.codebook import Codebook, parse_codebook
from nenbone.derive.mayo import BONE_FLAGS, RAW_COLUMNS, derive
from nenbone.synthetic.exact_km import HALF, km_step_across_half
from nenbone.errors import ConfigError

# Covariates the neighbour design knows how to make alike (derived names, config mayo.matching.covariates).
NEIGHBOUR_COVARIATES = frozenset(
    {"age_years", "sex", "primary_group", "year_of_resection", "grade_g12", "synchronous_liver",
     "liver_extent_bilobar"}
)
# The categorical covariates a neighbour may differ in (one of them, when it differs).
DIFFERING_COVARIATES = ("sex", "primary_group", "grade_g12", "synchronous_liver", "liver_extent_bilobar")

# LB outcome pattern: (primary group, segment, fraction, event). Anchors A0 = 0, A1 = median
# pancreas, A2 = median LB, A3 = median GI; time = A_s + fraction x (A_{s+1} - A_s) for s < 3 and
# A3 x (1 + fraction) for s = 4. 14 GI, 9 pancreas, 2 other. With this order the pancreas curve
# steps 5/9 -> 4/9 at A1, the LB curve 0.512 -> 0.469 at A2 and the GI curve (one early censoring)
# 0.55 -> 0.471 at A3.
LB_PATTERN: tuple[tuple[str, int, float, int], ...] = (
    ("pancreas", 0, 0.143, 1), ("GI", 0, 0.230, 1), ("pancreas", 0, 0.314, 1), ("other", 0, 0.438, 1),
    ("pancreas", 0, 0.534, 1), ("GI", 0, 0.639, 1), ("pancreas", 0, 0.738, 1), ("GI", 0, 0.904, 1),
    ("pancreas", 1, 0.0, 1), ("GI", 1, 0.115, 0), ("GI", 1, 0.425, 1), ("GI", 1, 0.673, 1),
    ("GI", 1, 0.876, 1), ("pancreas", 2, 0.0, 1), ("pancreas", 2, 0.627, 1), ("GI", 3, 0.0, 1),
    ("GI", 4, 0.146, 0), ("pancreas", 4, 0.213, 1), ("GI", 4, 0.297, 1), ("pancreas", 4, 0.419, 0),
    ("GI", 4, 0.656, 1), ("GI", 4, 0.801, 0), ("other", 4, 0.910, 0), ("GI", 4, 1.049, 1), ("GI", 4, 1.333, 0),
)
# Matched-control outcome pattern: before the median an event at each step with one censoring
# after every CENSOR_EVERY events (up to CENSORED_BEFORE_MEDIAN); after it POST_EVENT_FRACTION of
# the rest are deaths, spread up to (1 + TAIL) x median. Times before the median are
# median x u^shape (u evenly spaced); shape is solved for the log-rank p.
CENSOR_EVERY = 4
CENSORED_BEFORE_MEDIAN = 14
POST_EVENT_FRACTION = 0.3
TAIL = 1.2
SHAPE_BOUNDS = (0.4, 2.5)

# Plausible, unpublished distributions. LB patients: ages at resection spread evenly over the
# quantiles of N(mean, sd) (clipped), so their mean age is the design's, not a draw's.
LB_AGE = (56.0, 11.0, 28.0, 80.0)  # mean, sd, min, max
# The rest of the liver-only pool and the other-extrahepatic patients: a liver-only series, more
# often small-bowel, metachronous, unilobar and G1-2 than the LB patients, a year older, resections
# rising slowly over the years.
POOL_AGE = (57.0, 11.0, 22.0, 85.0)
POOL_YEAR_WEIGHT_OFFSET = 30.0  # weight of a year = years since the start of the period + this
PRIMARY_SITE_P = {1: 0.50, 2: 0.22, 3: 0.05, 4: 0.07, 5: 0.03, 6: 0.04, 7: 0.03, 8: 0.04, 9: 0.02}
GRADE_P = {1: 0.55, 2: 0.40, 3: 0.05}
POOL_SYNCHRONOUS_P = 0.25
POOL_BILOBAR_P = {"synchronous": 0.45, "metachronous": 0.20}
POOL_MALE_P = 0.48
GRADE_NOT_RECORDED_P = {"before_2000": 0.25, "from_2000": 0.05}
LESIONS_NOT_RECORDED_P_BEFORE_1996 = 0.30
FLORIDA_P_FROM_1996 = 0.20
MAJOR_RESECTION_P = 0.5
MEDIAN_OS_MONTHS = {"liver_only": 110.0, "other_extrahepatic": 60.0}
LOST_TO_FOLLOW_UP_PER_YEAR = 0.02


class TwinDesignError(ConfigError):
    """The twin's design cannot meet a published number with these settings: a generator design bug."""


@dataclass(frozen=True)
class MayoTwin:
    """The RAW frame and the design facts a test needs (who resembles whom, what the matcher chose)."""

    raw: pd.DataFrame
    treated_ids: tuple[str, ...]
    neighbours_of: dict[str, tuple[str, ...]]  # LB patient -> the liver-only patients made to resemble it
    matched_sets: dict[str, tuple[str, ...]]  # LB patient -> its controls, as config mayo.matching matched them
    control_shape: float
    design_logrank_p: float

    @property
    def matched_control_ids(self) -> tuple[str, ...]:
        return tuple(c for ids in self.matched_sets.values() for c in ids)


# ------------------------------------------------------------------ outcome design


def _target_days(months: float, days_per_month: float) -> int:
    """Whole days whose months value rounds (0.1) to the target, as far from a rounding edge as possible."""
    best = None
    for d in (int(np.floor(months * days_per_month)) + k for k in (-1, 0, 1, 2)):
        m = d / days_per_month
        if round(m, 1) == round(months, 1):
            score = abs(m - months)
            if best is None or score < best[0]:
                best = (score, d)
    if best is None:
        raise ConfigError(f"synthetic.mayo: no whole number of days gives {months} months")
    return best[1]


def _check_strict_median(label: str, times: Sequence[int], events: Sequence[int], target: int) -> None:
    if len(set(times)) != len(times):
        raise ConfigError(f"synthetic.mayo: designed times for {label} are not distinct")
    step = km_step_across_half(np.asarray(times), np.asarray(events))
    if step is None:
        raise ConfigError(f"synthetic.mayo: the designed {label} survival curve never reaches 0.5")
    t, before, at = step
    if t != target or not (before > HALF > at):
        raise ConfigError(
            f"synthetic.mayo: the {label} design crosses S = 0.5 at day {t} (S {float(before):.3f} -> "
            f"{float(at):.3f}), not strictly at day {target}"
        )


def lb_outcomes(medians_days: Mapping[str, int]) -> list[tuple[str, int, int]]:
    """(primary group, days, event) for the LB patients, anchored on the three published medians."""
    a1, a2, a3 = medians_days["LB_pancreas"], medians_days["LB"], medians_days["LB_GI"]
    if not a1 < a2 < a3:
        raise ConfigError("synthetic.mayo.targets.median_os_months: the LB pattern needs pancreas < LB < GI")
    anchors = (0, a1, a2, a3)
    out = []
    for grp, seg, frac, event in LB_PATTERN:
        t = anchors[seg] + frac * (anchors[seg + 1] - anchors[seg]) if seg < 3 else a3 * (1 + frac)
        out.append((grp, int(round(t)), event))
    times = [t for _, t, _ in out]
    events = [e for _, _, e in out]
    _check_strict_median("LB", times, events, a2)
    for grp, key in (("GI", "LB_GI"), ("pancreas", "LB_pancreas")):
        sub = [(t, e) for g, t, e in out if g == grp]
        _check_strict_median(f"LB {grp}", [t for t, _ in sub], [e for _, e in sub], medians_days[key])
    return out


def control_outcomes(n: int, median_days: int, shape: float) -> list[tuple[int, int]]:
    """(days, event) for the matched controls: strict KM crossing at median_days."""
    seq: list[int] = []
    s, at_risk, n_events, n_cens = Fraction(1), n, 0, 0
    while True:
        s_next = s * Fraction(at_risk - 1, at_risk)
        if s_next <= HALF:
            break
        seq.append(1)
        s, at_risk, n_events = s_next, at_risk - 1, n_events + 1
        if n_cens < CENSORED_BEFORE_MEDIAN and n_events % CENSOR_EVERY == 0:
            seq.append(0)
            at_risk, n_cens = at_risk - 1, n_cens + 1
    n_post = n - len(seq) - 1
    if n_post < 0:
        raise ConfigError("synthetic.mayo: too few matched controls for the median design")
    n_post_events = int(round(n_post * POST_EVENT_FRACTION))
    post = [1 if (i * n_post_events) // n_post != ((i + 1) * n_post_events) // n_post else 0 for i in range(n_post)]
    u = np.arange(1, len(seq) + 1) / (len(seq) + 1)
    pre_t = np.round(median_days * u**shape).astype(int)
    v = np.arange(1, n_post + 1) / max(n_post, 1)
    post_t = np.round(median_days * (1 + TAIL * v)).astype(int)
    pre_t = np.maximum.accumulate(np.maximum(pre_t, 1))
    for i in range(1, len(pre_t)):  # distinct days, all before the median
        pre_t[i] = max(pre_t[i], pre_t[i - 1] + 1)
    if len(pre_t) and pre_t[-1] >= median_days:
        raise ConfigError("synthetic.mayo: control times before the median do not fit; change the shape bounds")
    for i in range(1, len(post_t)):
        post_t[i] = max(post_t[i], post_t[i - 1] + 1)
    out = [(int(t), e) for t, e in zip(pre_t, seq)] + [(median_days, 1)] + [(int(t), e) for t, e in zip(post_t, post)]
    _check_strict_median("matched controls", [t for t, _ in out], [e for _, e in out], median_days)
    return out


def solve_control_shape(
    lb: Sequence[tuple[str, int, int]], n_controls: int, median_days: int, target_p: float
) -> tuple[float, list[tuple[int, int]], float]:
    """Bisection on the spread of the controls' early times until the log-rank p rounds to target_p."""
    t1 = np.array([t for _, t, _ in lb])
    e1 = np.array([e for _, _, e in lb])

    def p_of(shape: float) -> tuple[float, list[tuple[int, int]]]:
        ctl = control_outcomes(n_controls, median_days, shape)
        t2, e2 = np.array([t for t, _ in ctl]), np.array([e for _, e in ctl])
        groups = np.r_[np.ones(len(t1), int), np.zeros(len(t2), int)]
        return logrank(np.r_[t1, t2], np.r_[e1, e2], groups).p, ctl

    lo, hi = SHAPE_BOUNDS
    p_lo, p_hi = p_of(lo)[0], p_of(hi)[0]
    if not p_lo <= target_p <= p_hi:
        raise ConfigError(
            f"synthetic.mayo.targets.logrank_p = {target_p}: out of reach of the design "
            f"(p runs from {p_lo:.4f} to {p_hi:.4f})"
        )
    best: tuple[float, float, list[tuple[int, int]]] | None = None
    for _ in range(40):
        mid = (lo + hi) / 2
        p, ctl = p_of(mid)
        if best is None or abs(p - target_p) < abs(best[1] - target_p):
            best = (mid, p, ctl)
        if p < target_p:
            lo = mid
        else:
            hi = mid
    assert best is not None
    shape, p, ctl = best
    decimals = max(len(repr(float(target_p)).split(".")[-1]), 2)
    if round(p, decimals) != round(target_p, decimals):
        raise ConfigError(f"synthetic.mayo: the closest log-rank p the design reaches is {p:.4f}, not {target_p}")
    return shape, ctl, p


# ------------------------------------------------------------------ allocations


def bone_met_counts(n: int, median: int, lo: int, hi: int) -> list[int]:
    """n counts with the given median, minimum and maximum, skewed to the right like real counts."""
    if not lo <= median <= hi or n < 3:
        raise ConfigError("synthetic.mayo.targets.n_bone_mets: need min <= median <= max and at least 3 patients")
    mid = [(n - 1) // 2, n // 2]
    arr = np.empty(n, dtype=int)
    arr[0], arr[-1] = lo, hi
    arr[mid] = median
    lower = list(range(1, mid[0]))
    n_lo = int(round(0.75 * len(lower)))
    arr[lower[:n_lo]] = lo
    arr[lower[n_lo:]] = median
    upper = list(range(mid[1] + 1, n - 1))
    k = np.arange(1, len(upper) + 1) / (len(upper) + 1)
    arr[upper] = np.clip(np.round(median * (hi / median) ** k), median, hi).astype(int)
    arr.sort()
    if np.median(arr) != median or arr.min() != lo or arr.max() != hi:
        raise ConfigError("synthetic.mayo: cannot build bone-metastasis counts with that median and range")
    return arr.tolist()


def allocate_sites(counts: Sequence[int], quotas: Mapping[str, int], rng: np.random.Generator) -> list[set[str]]:
    """Site sets per patient: every patient >= 1 site, no more sites than metastases, totals exact."""
    n, types = len(counts), list(quotas)
    total = sum(quotas.values())
    cap = [min(c, len(types)) for c in counts]
    if total < n or total > sum(cap) or max(quotas.values()) > n:
        raise ConfigError(f"synthetic.mayo: bone-site totals {dict(quotas)} do not fit {n} patients")
    need = [1] * n
    extra = total - n
    order = sorted(range(n), key=lambda i: (-counts[i], rng.random()))
    while extra:
        progressed = False
        for i in order:
            if extra and need[i] < cap[i]:
                need[i] += 1
                extra -= 1
                progressed = True
        if not progressed:
            raise ConfigError("synthetic.mayo: bone-site totals exceed what the counts allow")
    sites: list[set[str]] = [set() for _ in range(n)]
    for site in sorted(types, key=lambda s: -quotas[s]):
        cand = sorted((i for i in range(n) if need[i] > 0), key=lambda i: (-need[i], rng.random()))
        if len(cand) < quotas[site]:
            raise ConfigError(f"synthetic.mayo: cannot place {quotas[site]} patients with {site} metastases")
        for i in cand[: quotas[site]]:
            sites[i].add(site)
            need[i] -= 1
    if any(need):
        raise ConfigError("synthetic.mayo: bone-site allocation left patients without sites")
    return sites


def allocate_treatments(
    counts: Sequence[int], sites: Sequence[set[str]], quotas: Mapping[str, int], rng: np.random.Generator
) -> list[str | None]:
    """One bone-directed treatment per treated patient: resection for solitary, RFA for 1-2, radiotherapy spine first."""
    n = len(counts)
    tx: list[str | None] = [None] * n
    preference = {
        "resection": lambda i: counts[i] == 1,
        "rfa": lambda i: counts[i] <= 2,
        "radiotherapy": lambda i: "spine" in sites[i],
    }
    for kind in ("resection", "rfa", "radiotherapy"):
        want = int(quotas.get(kind, 0))
        free = [i for i in range(n) if tx[i] is None]
        pref = [i for i in free if preference[kind](i)]
        rest = [i for i in free if not preference[kind](i)]
        rng.shuffle(pref)
        rng.shuffle(rest)
        chosen = (pref + rest)[:want]
        if len(chosen) < want:
            raise ConfigError("synthetic.mayo: more bone treatments than patients with bone metastases")
        for i in chosen:
            tx[i] = kind
    return tx


def assign_times(
    max_follow_up: Sequence[int], outcomes: Sequence[Any], time_of: Any, rng: np.random.Generator, label: str
) -> list[int]:
    """Index into outcomes for each patient, each time within the patient's possible follow-up (tightest first)."""
    left = list(range(len(outcomes)))
    out = [-1] * len(max_follow_up)
    for i in sorted(range(len(max_follow_up)), key=lambda i: max_follow_up[i]):
        ok = [k for k in left if time_of(outcomes[k]) <= max_follow_up[i]]
        if not ok:
            raise ConfigError(f"synthetic.mayo: the {label} survival times do not fit the resection dates")
        k = ok[int(rng.integers(len(ok)))]
        out[i] = k
        left.remove(k)
    return out


# ------------------------------------------------------------------ patients


def _worst_follow_up(year: int, period: tuple[pd.Timestamp, pd.Timestamp], cutoff: pd.Timestamp) -> int:
    """Shortest possible follow-up of a patient resected in that year (resected on its last day)."""
    last = min(pd.Timestamp(year=year, month=12, day=31), period[1])
    return (cutoff - last).days


def _check_fits(times: Sequence[int], follow_up: Sequence[int], label: str) -> None:
    """Every time fits some patient's follow-up, whatever day of the year they were resected (Hall, nested sets)."""
    for k, (t, f) in enumerate(zip(sorted(times), sorted(follow_up))):
        if t > f:
            raise ConfigError(
                f"synthetic.mayo: the {label} survival times need longer follow-up than the resection years allow "
                f"({k + 1}th shortest time {t} days > {f} days); widen design.lb_years or move data_cutoff"
            )


def _day_in_year(year: int, lo: pd.Timestamp, hi: pd.Timestamp, rng: np.random.Generator) -> pd.Timestamp:
    start = max(pd.Timestamp(year=year, month=1, day=1), lo)
    end = min(pd.Timestamp(year=year, month=12, day=31), hi)
    if end < start:
        raise ConfigError(f"synthetic.mayo: year {year} lies outside the study period")
    return start + pd.Timedelta(days=int(rng.integers((end - start).days + 1)))



def _draw(rng: np.random.Generator, probs: Mapping[int, float]) -> int:
    keys = list(probs)
    p = np.array([probs[k] for k in keys], dtype=float)
    return int(keys[int(rng.choice(len(keys), p=p / p.sum()))])


def _subsite(group: str, primary_groups: Mapping[str, Sequence[int]], rng: np.random.Generator) -> int:
    codes = [int(c) for c in primary_groups[group]]
    return _draw(rng, {c: PRIMARY_SITE_P.get(c, 0.01) for c in codes})


def _lesions(bilobar: bool, rng: np.random.Generator) -> int:
    return int(min(100, (2 + rng.poisson(5)) if bilobar else (1 + rng.poisson(1.2))))


def _segments(major: bool, min_major: int, rng: np.random.Generator) -> int:
    if major:
        return int(min(7, min_major + rng.choice([0, 0, 1, 1, 2, 3])))
    return int(rng.integers(1, min_major))


def _age_days(rng: np.random.Generator, spec: tuple[float, float, float, float]) -> int:
    mean, sd, lo, hi = spec
    return int(round(float(np.clip(rng.normal(mean, sd), lo, hi)) * 365.25))


def _campus(res: pd.Timestamp, rng: np.random.Generator) -> int:
    """Rochester, or Florida (resections there from 1996)."""
    return 2 if (res.year >= 1996 and rng.random() < FLORIDA_P_FROM_1996) else 1


def _grade_as_recorded(grade: int, year: int, rng: np.random.Generator) -> Any:
    """The grade, or Stata .a ('not recorded') as in older pathology reports."""
    return "a" if rng.random() < GRADE_NOT_RECORDED_P["before_2000" if year < 2000 else "from_2000"] else grade


def _lesions_as_recorded(bilobar: bool, year: int, rng: np.random.Generator) -> Any:
    lesions = _lesions(bilobar, rng)
    return "a" if (year < 1996 and rng.random() < LESIONS_NOT_RECORDED_P_BEFORE_1996) else lesions


def _patient(**kw: Any) -> dict[str, Any]:
    row = {c: np.nan for c in RAW_COLUMNS}
    row.update(kw)
    return row


def _pool_patient(
    rng: np.random.Generator,
    extrahepatic: int,
    period: tuple[pd.Timestamp, pd.Timestamp],
    cutoff: pd.Timestamp,
    primary_groups: Mapping[str, Sequence[int]],
) -> dict[str, Any]:
    """Covariates of a patient resembling no LB patient in particular (volume rising over the years)."""
    lo, hi = period
    years = np.arange(lo.year, hi.year + 1)
    w = years - years[0] + POOL_YEAR_WEIGHT_OFFSET
    year = int(rng.choice(years, p=w / w.sum()))
    res = min(_day_in_year(year, lo, hi, rng), cutoff - pd.Timedelta(days=1))
    sync = int(rng.random() < POOL_SYNCHRONOUS_P)
    bilobar = bool(rng.random() < POOL_BILOBAR_P["synchronous" if sync else "metachronous"])
    primary = _draw(rng, PRIMARY_SITE_P)
    if not any(primary in map(int, codes) for codes in primary_groups.values()):
        primary = int(next(iter(primary_groups.values()))[0])
    return _patient(
        site=_campus(res, rng),
        sex=1 if rng.random() < POOL_MALE_P else 2,
        dob=res - pd.Timedelta(days=_age_days(rng, POOL_AGE)),
        date_resection=res,
        primary_site=primary,
        grade=_grade_as_recorded(_draw(rng, GRADE_P), year, rng),
        synchronous_liver=sync,
        liver_extent=2 if bilobar else 1,
        n_liver_lesions=_lesions_as_recorded(bilobar, year, rng),
        extrahepatic=extrahepatic,
    )


def _neighbour(
    lb: Mapping[str, Any],
    nb: Mapping[str, Any],
    rng: np.random.Generator,
    l_code: int,
    period: tuple[pd.Timestamp, pd.Timestamp],
    cutoff: pd.Timestamp,
    primary_groups: Mapping[str, Sequence[int]],
    group_of: Mapping[int, str],
) -> dict[str, Any]:
    """Covariates of a liver-only patient resembling an LB patient: age and year a few years apart, same profile mostly."""
    lo, hi = period
    shift = int(np.round(rng.normal(0.0, float(nb["year_sd"]))))
    year = int(np.clip(lb["date_resection"].year + shift, lo.year, hi.year))
    res = min(_day_in_year(year, lo, hi, rng), cutoff - pd.Timedelta(days=1))
    age = (lb["date_resection"] - lb["dob"]).days + int(round(rng.normal(0.0, float(nb["age_sd_years"])) * 365.25))
    profile = {
        "sex": int(lb["sex"]),
        "primary_group": group_of[int(lb["primary_site"])],
        "g3": int(lb["grade"]) == 3,
        "sync": int(lb["synchronous_liver"]),
        "bilobar": int(lb["liver_extent"]) == 2,
    }
    if rng.random() < float(nb["one_differs"]):
        which = DIFFERING_COVARIATES[int(rng.integers(len(DIFFERING_COVARIATES)))]
        if which == "sex":
            profile["sex"] = 3 - profile["sex"]
        elif which == "primary_group":
            others = [g for g in primary_groups if g != profile["primary_group"]]
            weight = {g: sum(PRIMARY_SITE_P.get(int(c), 0.01) for c in primary_groups[g]) for g in others}
            profile["primary_group"] = others[_draw(rng, dict(enumerate(weight.values())))]
        elif which == "grade_g12":
            profile["g3"] = not profile["g3"]
        elif which == "synchronous_liver":
            profile["sync"] = 1 - profile["sync"]
        else:
            profile["bilobar"] = not profile["bilobar"]
    grade = 3 if profile["g3"] else int(rng.integers(1, 3))
    return _patient(
        site=_campus(res, rng),
        sex=profile["sex"],
        dob=res - pd.Timedelta(days=max(age, int(18 * 365.25))),
        date_resection=res,
        primary_site=_subsite(str(profile["primary_group"]), primary_groups, rng),
        grade=_grade_as_recorded(grade, year, rng),
        synchronous_liver=profile["sync"],
        liver_extent=2 if profile["bilobar"] else 1,
        n_liver_lesions=_lesions_as_recorded(bool(profile["bilobar"]), year, rng),
        extrahepatic=l_code,
    )


def _survival(
    res: pd.Timestamp, cutoff: pd.Timestamp, median_os_months: float, rng: np.random.Generator
) -> tuple[int, pd.Timestamp]:
    """(vital status, date of death or last follow-up): Weibull (shape 1.1) death, cut-off, some lost to follow-up."""
    scale = median_os_months * (365.25 / 12) / np.log(2) ** (1 / 1.1)
    death = scale * rng.weibull(1.1)
    lost = rng.exponential(365.25 / LOST_TO_FOLLOW_UP_PER_YEAR)
    admin = (cutoff - res).days
    follow = max(1, int(min(death, lost, admin)))
    return int(death <= min(lost, admin)), res + pd.Timedelta(days=follow)


def _exactly(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """A 0/1 vector of length n with exactly k ones at random positions."""
    if not 0 <= k <= n:
        raise ConfigError(f"synthetic.mayo: cannot place {k} of {n}")
    v = np.zeros(n, dtype=int)
    v[rng.choice(n, size=k, replace=False)] = 1
    return v


# ------------------------------------------------------------------ matching inside the generator


def _frame_with_dates(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows in codebook column order, IDs as strings and dates as datetime64."""
    df = pd.DataFrame(rows, columns=list(RAW_COLUMNS))
    df["patient_id"] = df["patient_id"].astype(str)
    for c in DATE_COLUMNS:
        df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
    return df


def _clean_view(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The CLEAN frame of these rows as far as the derivation needs it: Stata .a -> missing, as validation does."""
    df = _frame_with_dates(rows)
    for c in STATA_MISSING_COLUMNS:
        df[c] = pd.Series([np.nan if isinstance(v, str) else float(v) for v in df[c]], dtype="float64")
    return df


def _twin_codebook() -> Codebook:
    """The meanings of the codes this generator writes (those of config/codebooks/mayo.yaml)."""
    yes_no = {"type": "boolean", "codes": {0: "No", 1: "Yes"}, "means": {"no": 0, "yes": 1}}
    variables: dict[str, Any] = {name: {"label": name, "type": "string"} for name in RAW_COLUMNS}
    variables.update({
        "sex": {"type": "categorical", "codes": {1: "Male", 2: "Female"}, "means": {"male": 1, "female": 2}},
        "site": {"type": "categorical", "codes": {1: "Rochester", 2: "Florida"},
                 "means": {"Rochester": 1, "Florida": 2}},
        "grade": {"type": "categorical", "codes": {1: "G1", 2: "G2", 3: "G3"},
                  "means": {"G1": 1, "G2": 2, "G3": 3}},
        "liver_extent": {"type": "categorical", "codes": {1: "Unilobar", 2: "Bilobar"},
                         "means": {"unilobar": 1, "bilobar": 2}},
        "vital_status": {"type": "categorical", "codes": {0: "Alive", 1: "Dead"}, "means": {"alive": 0, "dead": 1}},
        **{name: dict(yes_no) for name in ("synchronous_liver", *BONE_FLAGS)},
    })
    for name, spec in variables.items():
        spec["label"] = name
    return parse_codebook({"study": "mayo", "title": "Mayo twin", "source_format": "dta",
                           "id_variable": "patient_id", "variables": variables}, source="mayo twin")


def match_as_the_workflow_will(
    rows: list[dict[str, Any]], config_mayo: Mapping[str, Any], days_per_month: float
) -> tuple[pd.DataFrame, MatchResult]:
    """Derive the covariates (nenbone.derive.mayo) and match them (config mayo.matching), as the workflow does."""
    derived = derive(_clean_view(rows), config_mayo, days_per_month, _twin_codebook())
    return derived, match(derived, config_mayo["matching"])


def _require_full_match(result: MatchResult, treated_ids: Sequence[str], ratio: int) -> None:
    """Every LB patient in the model with `ratio` controls, or a loud design error."""
    per = result.per_treated.set_index("patient_id")
    missing = sorted(set(treated_ids) - set(per.index))
    short = per[per["n_controls"] < ratio]
    if missing or len(short):
        problems = [f"LB patient {p} is not in the propensity model" for p in missing]
        problems += [f"LB patient {p} got {int(n)} of {ratio} controls ({r})"
                     for p, n, r in short[["n_controls", "reason"]].itertuples()]
        raise TwinDesignError(
            "synthetic.mayo: the twin's design failed - the matcher (config mayo.matching) did not give every "
            f"LB patient {ratio} controls, so the published 25 + 100 cannot be met (a design bug in "
            "nenbone.synthetic.mayo or synthetic.mayo.design.neighbours, not a data problem):\n  - "
            + "\n  - ".join(problems)
        )


# ------------------------------------------------------------------ entry points


def _lb_patients(
    rng: np.random.Generator,
    n_lb: int,
    lb_out: Sequence[tuple[str, int, int]],
    targets: Mapping[str, Any],
    design: Mapping[str, Any],
    period: tuple[pd.Timestamp, pd.Timestamp],
    cutoff: pd.Timestamp,
    primary_groups: Mapping[str, Sequence[int]],
    lb_codes: tuple[int, int],
    min_major: int,
) -> list[dict[str, Any]]:
    """The LB patients, outcomes included: published counts met exactly, times within each one's follow-up."""
    y0, y1 = (int(y) for y in design["lb_years"])
    years = np.round(np.linspace(y0, y1, n_lb)).astype(int)
    _check_fits([t for _, t, _ in lb_out], [_worst_follow_up(int(y), period, cutoff) for y in years], "LB")
    lb_res = [_day_in_year(int(y), *period, rng) for y in years]
    fu_max = [(cutoff - r).days for r in lb_res]
    which = assign_times(fu_max, lb_out, lambda o: o[1], rng, "LB")
    counts = bone_met_counts(n_lb, int(targets["n_bone_mets"]["median"]), int(targets["n_bone_mets"]["min"]),
                             int(targets["n_bone_mets"]["max"]))
    rng.shuffle(counts)
    site_quota = {**{k: int(v) for k, v in targets["bone_sites"].items()}, "other": int(design["bone_other_site"])}
    sites = allocate_sites(counts, site_quota, rng)
    tx = allocate_treatments(counts, sites, targets["bone_tx"], rng)
    sync = _exactly(n_lb, int(design["lb_synchronous"]), rng)
    bilobar = _exactly(n_lb, int(design["lb_bilobar"]), rng)
    grade3 = _exactly(n_lb, int(design["lb_grade3"]), rng)
    male = _exactly(n_lb, int(design["lb_male"]), rng)
    ages = np.clip(norm.ppf((np.arange(n_lb) + 0.5) / n_lb) * LB_AGE[1] + LB_AGE[0], LB_AGE[2], LB_AGE[3])
    lb_age_days = [int(round(float(a) * 365.25)) for a in rng.permutation(ages)]
    major_lb = _exactly(n_lb, int(targets["major_resection"]["LB"]), rng)
    with_other = _exactly(n_lb, int(design["bone_and_other_extrahepatic"]), rng)
    rows: list[dict[str, Any]] = []
    for i in range(n_lb):
        grp, days, event = lb_out[which[i]]
        res = lb_res[i]
        rows.append(_patient(
            site=_campus(res, rng),
            sex=1 if male[i] else 2,
            dob=res - pd.Timedelta(days=lb_age_days[i]),
            date_resection=res,
            primary_site=_subsite(grp, primary_groups, rng),
            grade=3 if grade3[i] else int(rng.integers(1, 3)),  # recorded for every LB patient (all are matched)
            synchronous_liver=int(sync[i]),
            liver_extent=2 if bilobar[i] else 1,
            n_liver_lesions=_lesions(bool(bilobar[i]), rng),
            n_segments_resected=_segments(bool(major_lb[i]), min_major, rng),
            extrahepatic=lb_codes[1] if with_other[i] else lb_codes[0],
            n_bone_mets=counts[i],
            bone_spine=int("spine" in sites[i]),
            bone_pelvis=int("pelvis" in sites[i]),
            bone_ribs=int("ribs" in sites[i]),
            bone_other=int("other" in sites[i]),
            bone_tx_radiotherapy=int(tx[i] == "radiotherapy"),
            bone_tx_rfa=int(tx[i] == "rfa"),
            bone_tx_resection=int(tx[i] == "resection"),
            vital_status=event,
            date_death_or_lastfu=res + pd.Timedelta(days=days),
        ))
    return rows


def build(settings: Mapping[str, Any], config_mayo: Mapping[str, Any], days_per_month: float = 365.25 / 12) -> MayoTwin:
    """The synthetic twin with its design facts (settings = config synthetic.mayo, config_mayo = config mayo)."""
    try:
        seed = int(settings["seed"])
        n_pool = int(settings["n_liver_only_pool"])
        n_other = int(settings["n_other_extrahepatic"])
        cutoff = pd.Timestamp(settings["data_cutoff"])
        targets = settings["targets"]
        design = settings["design"]
        nb = design["neighbours"]
        nb_lo, nb_hi = (int(k) for k in nb["per_lb"])
        n_lb = int(targets["n_bone"])
        ratio = int(config_mayo["matching"]["ratio"])
        covariates = list(config_mayo["matching"]["covariates"])
        primary_groups = {str(k): [int(c) for c in v] for k, v in config_mayo["primary_groups"].items()}
        groups = {str(k): [int(c) for c in v] for k, v in config_mayo["groups"].items()}
        min_major = int(config_mayo["major_resection_min_segments"])
        period = (pd.Timestamp(config_mayo["period"]["from"]), pd.Timestamp(config_mayo["period"]["to"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"synthetic.mayo / mayo: missing or invalid key ({exc})") from None
    unsupported = sorted(set(covariates) - NEIGHBOUR_COVARIATES)
    if unsupported:
        raise ConfigError(
            f"synthetic.mayo: the neighbour design makes only {sorted(NEIGHBOUR_COVARIATES)} alike; "
            f"mayo.matching.covariates also has {unsupported}"
        )
    if not {"GI", "pancreas", "other"} <= set(primary_groups):
        raise ConfigError("synthetic.mayo: mayo.primary_groups needs the groups GI, pancreas and other")
    if not 1 <= nb_lo <= nb_hi:
        raise ConfigError(f"synthetic.mayo.design.neighbours.per_lb = {[nb_lo, nb_hi]}: need 1 <= low <= high")
    n_ctl = ratio * n_lb
    if n_pool < n_lb * nb_hi + n_ctl:
        raise ConfigError(
            f"synthetic.mayo.n_liver_only_pool = {n_pool}: too small for up to {nb_hi} neighbours of each of "
            f"{n_lb} LB patients plus a pool of unlike patients (need >= {n_lb * nb_hi + n_ctl})"
        )
    if len(LB_PATTERN) != n_lb:
        raise ConfigError(f"synthetic.mayo: the LB outcome pattern has {len(LB_PATTERN)} patients, targets say {n_lb}")
    lb_codes = sorted(groups["LB"])
    lb_code_pair = (lb_codes[0], lb_codes[-1])  # codebook: 1 bone only, 2 bone and other
    l_code = groups["L"][0]
    other_codes = sorted(set(range(4)) - set(groups["LB"]) - set(groups["L"]))
    group_of = {c: g for g, codes in primary_groups.items() for c in codes}

    rng = np.random.default_rng(seed)

    # --- outcomes (seed-free) ---------------------------------------------------------------
    med = {k: _target_days(float(v), days_per_month) for k, v in targets["median_os_months"].items()}
    lb_out = lb_outcomes(med)
    shape, ctl_out, p_design = solve_control_shape(lb_out, n_ctl, med["L"], float(targets["logrank_p"]))

    # --- covariates: LB patients, their neighbours, the rest of the pool, other extrahepatic ---------
    lb_rows = _lb_patients(rng, n_lb, lb_out, targets, design, period, cutoff, primary_groups, lb_code_pair,
                           min_major)
    nb_rows: list[dict[str, Any]] = []
    nb_parent: list[int] = []
    for i, lb in enumerate(lb_rows):
        for _ in range(int(rng.integers(nb_lo, nb_hi + 1))):
            nb_rows.append(_neighbour(lb, nb, rng, l_code, period, cutoff, primary_groups, group_of))
            nb_parent.append(i)
    rest = [_pool_patient(rng, l_code, period, cutoff, primary_groups) for _ in range(n_pool - len(nb_rows))]
    other_code = other_codes[0] if other_codes else 3
    others = [_pool_patient(rng, other_code, period, cutoff, primary_groups) for _ in range(n_other)]
    everyone = lb_rows + nb_rows + rest + others
    ids = rng.choice(np.arange(1_000_000, 9_999_999), size=len(everyone), replace=False)
    for row, pid in zip(everyone, ids):
        row["patient_id"] = str(int(pid))
    treated_ids = tuple(r["patient_id"] for r in lb_rows)

    # --- the real matcher, on the covariates alone ------------------------------------------------
    _, result = match_as_the_workflow_will(everyone, config_mayo, days_per_month)
    _require_full_match(result, treated_ids, ratio)
    m = result.matched
    lead = m[m["treated"]].set_index("match_id")["patient_id"]
    matched_sets = {str(lead[mid]): tuple(str(p) for p in grp["patient_id"])
                    for mid, grp in m[~m["treated"]].groupby("match_id", sort=True)}
    matched_ids = [str(p) for p in m.loc[~m["treated"], "patient_id"]]

    # --- outcomes after matching: the designed pattern for the matched controls, drawn for the rest ---
    by_id = {r["patient_id"]: r for r in everyone}
    ctl_rows = [by_id[p] for p in matched_ids]
    fu = [(cutoff - r["date_resection"]).days for r in ctl_rows]
    try:
        which_c = assign_times(fu, ctl_out, lambda o: o[0], rng, "matched-control")
    except ConfigError as exc:
        raise TwinDesignError(f"{exc} (the matched controls were resected too late for the designed times)") from None
    major_c = _exactly(n_ctl, int(targets["major_resection"]["L"]), rng)
    for j, row in enumerate(ctl_rows):
        days, event = ctl_out[which_c[j]]
        row["vital_status"] = event
        row["date_death_or_lastfu"] = row["date_resection"] + pd.Timedelta(days=days)
        row["n_segments_resected"] = _segments(bool(major_c[j]), min_major, rng)
    matched = set(matched_ids)
    for row in nb_rows + rest + others:
        if row["patient_id"] in matched:
            continue
        median = MEDIAN_OS_MONTHS["other_extrahepatic" if row["extrahepatic"] == other_code else "liver_only"]
        row["vital_status"], row["date_death_or_lastfu"] = _survival(row["date_resection"], cutoff, median, rng)
        row["n_segments_resected"] = _segments(rng.random() < MAJOR_RESECTION_P, min_major, rng)

    neighbours_of = {lb_rows[i]["patient_id"]: tuple(r["patient_id"] for r, p in zip(nb_rows, nb_parent) if p == i)
                     for i in range(n_lb)}
    return MayoTwin(
        raw=_to_raw_frame(everyone),
        treated_ids=treated_ids,
        neighbours_of=neighbours_of,
        matched_sets=matched_sets,
        control_shape=shape,
        design_logrank_p=p_design,
    )


STATA_MISSING_COLUMNS = ("grade", "n_liver_lesions", "n_bone_mets")
REQUIRED_INT_COLUMNS = ("site", "sex", "primary_site", "synchronous_liver", "liver_extent", "n_segments_resected",
                        "extrahepatic", "vital_status")
DATE_COLUMNS = ("dob", "date_resection", "date_death_or_lastfu")


def _to_raw_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """RAW contract: codebook order; codes numeric; '.a' columns object (float codes, 'a', NaN); dates datetime64."""
    df = _frame_with_dates(rows)
    for c in REQUIRED_INT_COLUMNS:
        df[c] = df[c].astype("int64")
    for c in STATA_MISSING_COLUMNS:
        df[c] = pd.Series([v if isinstance(v, str) else float(v) for v in df[c]], dtype=object)
    for c in RAW_COLUMNS:
        if c not in ("patient_id", *DATE_COLUMNS, *REQUIRED_INT_COLUMNS, *STATA_MISSING_COLUMNS):
            df[c] = df[c].astype("float64")
    return df.sort_values(["date_resection", "patient_id"], kind="stable").reset_index(drop=True)


def generate(settings: dict, config_mayo: dict, days_per_month: float = 365.25 / 12) -> pd.DataFrame:
    """RAW frame of the Study B twin (pure, deterministic from settings['seed'])."""
    return build(settings, config_mayo, days_per_month).raw
