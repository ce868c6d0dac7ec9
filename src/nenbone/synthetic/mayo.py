"""Synthetic twin of Study B (Croome et al. 2016): the Mayo hepatic-resection export as a RAW frame.

Design (what is published is met exactly, by construction, not by drawing and hoping):

* 25 patients with bone metastases at resection (group LB). Their bone-metastasis counts, sites,
  treatments and major resections are allocated to meet the published counts exactly.
* Each LB patient has ``ratio`` (4) designed liver-only "twins" that share every propensity-model
  covariate exactly: sex, primary group, grade group, synchronous/metachronous, uni/bilobar, the
  calendar year of resection and the age at resection to the day. Twins are no copies: their
  resection and birth dates (shifted together within the year), campus, primary sub-site, G1/G2,
  lesion count, extent of resection and outcome differ. A twin's logit of the propensity score
  therefore equals its LB patient's whatever the fitted model, so the greedy matcher takes exactly
  the twins (distance 0 beats every other control, at any caliper or ratio <= 4), and the rest of the
  liver-only pool can look like a real series (overlapping covariates, grade not recorded in older
  cases). No pool patient shares an LB covariate vector (checked; nudged by a day if needed).
  The price: after matching, the SMD of every model covariate is exactly 0.
* Outcomes are placed, not drawn: the LB survival times follow a fixed pattern anchored on the
  three published medians (54.0, GI 73.3, pancreas 42.7 months) and the 100 matched controls a
  pattern anchored on 97.7 months, each Kaplan-Meier curve stepping from above 0.5 to below 0.5 at
  the anchor (never resting on 0.5), so lifelines, R (midpoint rule) and SPSS report the same
  median. The spread of the controls' times before their median is solved for (bisection) so that
  the log-rank p rounds to the published 0.03; the outcome multisets do not depend on the seed,
  only their assignment to patients does.
* The rest of the liver-only pool and the patients with other extrahepatic disease (in neither
  group) are drawn from plausible, unpublished distributions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2

from nenbone.derive.mayo import RAW_COLUMNS
from nenbone.errors import ConfigError

# Covariates whose inputs the twins share exactly (derived names, config mayo.matching.covariates).
TWIN_COVARIATES = frozenset(
    {"age_years", "sex", "primary_group", "year_of_resection", "grade_g12", "synchronous_liver",
     "liver_extent_bilobar"}
)

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

# Plausible, unpublished distributions for the patients outside the designed set.
PRIMARY_SITE_P = {1: 0.40, 2: 0.30, 3: 0.03, 4: 0.07, 5: 0.03, 6: 0.04, 7: 0.05, 8: 0.06, 9: 0.02}
GRADE_P = {1: 0.50, 2: 0.42, 3: 0.08}
GRADE_NOT_RECORDED_P = {"before_2000": 0.40, "from_2000": 0.05}
LESIONS_NOT_RECORDED_P_BEFORE_1996 = 0.30
FLORIDA_P_FROM_1996 = 0.20
MEDIAN_OS_MONTHS = {"liver_only": 110.0, "other_extrahepatic": 60.0}
LOST_TO_FOLLOW_UP_PER_YEAR = 0.02


@dataclass(frozen=True)
class MayoTwin:
    """The RAW frame and the design facts a test needs to prove the matcher takes the designed set."""

    raw: pd.DataFrame
    treated_ids: tuple[str, ...]
    designed_control_ids: tuple[str, ...]
    twins_of: dict[str, tuple[str, ...]]
    control_shape: float
    design_logrank_p: float


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


def _km_crossing(times: Sequence[int], events: Sequence[int]) -> tuple[int, Fraction, Fraction]:
    """Time of the first event with S <= 1/2 and S just before and at it (exact arithmetic; distinct times)."""
    order = np.argsort(np.asarray(times), kind="stable")
    at_risk, s = len(times), Fraction(1)
    for i in order:
        if events[i]:
            s_new = s * Fraction(at_risk - 1, at_risk)
            if s_new <= Fraction(1, 2):
                return int(times[i]), s, s_new
            s = s_new
        at_risk -= 1
    raise ConfigError("synthetic.mayo: a designed survival curve never reaches 0.5")


def _check_strict_median(label: str, times: Sequence[int], events: Sequence[int], target: int) -> None:
    if len(set(times)) != len(times):
        raise ConfigError(f"synthetic.mayo: designed times for {label} are not distinct")
    t, before, at = _km_crossing(times, events)
    if t != target or not (before > Fraction(1, 2) > at):
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
        if s_next <= Fraction(1, 2):
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


def logrank_p(t1: np.ndarray, e1: np.ndarray, t2: np.ndarray, e2: np.ndarray) -> float:
    """Two-group log-rank test (hypergeometric variance), p from chi-square with 1 df."""
    t = np.concatenate([t1, t2]).astype(float)
    e = np.concatenate([e1, e2]).astype(bool)
    g = np.concatenate([np.ones(len(t1), bool), np.zeros(len(t2), bool)])
    o_minus_e = var = 0.0
    for time in np.unique(t[e]):
        at_risk = t >= time
        n, n1 = at_risk.sum(), (at_risk & g).sum()
        d = (e & (t == time)).sum()
        d1 = (e & (t == time) & g).sum()
        o_minus_e += d1 - d * n1 / n
        if n > 1:
            var += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    return float(chi2.sf(o_minus_e**2 / var, 1))


def solve_control_shape(
    lb: Sequence[tuple[str, int, int]], n_controls: int, median_days: int, target_p: float
) -> tuple[float, list[tuple[int, int]], float]:
    """Bisection on the spread of the controls' early times until the log-rank p rounds to target_p."""
    t1 = np.array([t for _, t, _ in lb])
    e1 = np.array([e for _, _, e in lb])

    def p_of(shape: float) -> tuple[float, list[tuple[int, int]]]:
        ctl = control_outcomes(n_controls, median_days, shape)
        return logrank_p(t1, e1, np.array([t for t, _ in ctl]), np.array([e for _, e in ctl])), ctl

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


def _patient(**kw: Any) -> dict[str, Any]:
    row = {c: np.nan for c in RAW_COLUMNS}
    row.update(kw)
    return row


def _random_patient(
    rng: np.random.Generator,
    extrahepatic: int,
    period: tuple[pd.Timestamp, pd.Timestamp],
    cutoff: pd.Timestamp,
    primary_groups: Mapping[str, Sequence[int]],
    min_major: int,
    median_os_months: float,
) -> dict[str, Any]:
    """A patient outside the designed set, from plausible distributions (volume rising over the years)."""
    lo, hi = period
    years = np.arange(lo.year, hi.year + 1)
    w = years - years[0] + 4.0
    year = int(rng.choice(years, p=w / w.sum()))
    res = _day_in_year(year, lo, hi, rng)
    age_days = int(round(float(np.clip(rng.normal(58, 12), 22, 85)) * 365.25))
    grade: Any = _draw(rng, GRADE_P)
    if rng.random() < GRADE_NOT_RECORDED_P["before_2000" if year < 2000 else "from_2000"]:
        grade = "a"
    sync = int(rng.random() < 0.45)
    bilobar = rng.random() < (0.65 if sync else 0.40)
    lesions: Any = _lesions(bilobar, rng)
    if year < 1996 and rng.random() < LESIONS_NOT_RECORDED_P_BEFORE_1996:
        lesions = "a"
    # survival: Weibull (shape 1.1) death time, administrative censoring at the cut-off, some lost
    scale = median_os_months * (365.25 / 12) / np.log(2) ** (1 / 1.1)
    death = scale * rng.weibull(1.1)
    lost = rng.exponential(365.25 / LOST_TO_FOLLOW_UP_PER_YEAR)
    admin = (cutoff - res).days
    follow = max(1, int(min(death, lost, admin)))
    dead = int(death <= min(lost, admin))
    primary = _draw(rng, PRIMARY_SITE_P)
    if not any(primary in map(int, codes) for codes in primary_groups.values()):
        primary = int(next(iter(primary_groups.values()))[0])
    return _patient(
        site=2 if (year >= 1996 and rng.random() < FLORIDA_P_FROM_1996) else 1,
        sex=int(rng.integers(1, 3)),
        dob=res - pd.Timedelta(days=age_days),
        date_resection=res,
        primary_site=primary,
        grade=grade,
        synchronous_liver=sync,
        liver_extent=2 if bilobar else 1,
        n_liver_lesions=lesions,
        n_segments_resected=_segments(rng.random() < 0.5, min_major, rng),
        extrahepatic=extrahepatic,
        vital_status=dead,
        date_death_or_lastfu=res + pd.Timedelta(days=follow),
    )


def _covariate_key(row: Mapping[str, Any], group_of: Mapping[int, str]) -> tuple[Any, ...]:
    """What the propensity model sees: age in days, year, sex, primary group, grade group, sync, extent."""
    grade = row["grade"]
    g12 = None if isinstance(grade, str) or pd.isna(grade) else int(grade) in (1, 2)
    return (
        (row["date_resection"] - row["dob"]).days,
        row["date_resection"].year,
        row["sex"],
        group_of[int(row["primary_site"])],
        g12,
        row["synchronous_liver"],
        row["liver_extent"],
    )


def _exactly(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """A 0/1 vector of length n with exactly k ones at random positions."""
    if not 0 <= k <= n:
        raise ConfigError(f"synthetic.mayo: cannot place {k} of {n}")
    v = np.zeros(n, dtype=int)
    v[rng.choice(n, size=k, replace=False)] = 1
    return v


# ------------------------------------------------------------------ entry points


def build(settings: Mapping[str, Any], config_mayo: Mapping[str, Any], days_per_month: float = 365.25 / 12) -> MayoTwin:
    """The synthetic twin with its design facts (settings = config synthetic.mayo, config_mayo = config mayo)."""
    try:
        seed = int(settings["seed"])
        n_pool = int(settings["n_liver_only_pool"])
        n_other = int(settings["n_other_extrahepatic"])
        cutoff = pd.Timestamp(settings["data_cutoff"])
        targets = settings["targets"]
        design = settings["design"]
        n_lb = int(targets["n_bone"])
        ratio = int(config_mayo["matching"]["ratio"])
        covariates = list(config_mayo["matching"]["covariates"])
        primary_groups = {str(k): [int(c) for c in v] for k, v in config_mayo["primary_groups"].items()}
        groups = {str(k): [int(c) for c in v] for k, v in config_mayo["groups"].items()}
        min_major = int(config_mayo["major_resection_min_segments"])
        period = (pd.Timestamp(config_mayo["period"]["from"]), pd.Timestamp(config_mayo["period"]["to"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"synthetic.mayo / mayo: missing or invalid key ({exc})") from None
    unsupported = sorted(set(covariates) - TWIN_COVARIATES)
    if unsupported:
        raise ConfigError(
            f"synthetic.mayo: the twins share only {sorted(TWIN_COVARIATES)}; "
            f"mayo.matching.covariates also has {unsupported}"
        )
    if not {"GI", "pancreas", "other"} <= set(primary_groups):
        raise ConfigError("synthetic.mayo: mayo.primary_groups needs the groups GI, pancreas and other")
    n_ctl = ratio * n_lb
    if n_pool < n_ctl:
        raise ConfigError(f"synthetic.mayo.n_liver_only_pool = {n_pool} < {n_ctl} designed controls")
    if len(LB_PATTERN) != n_lb:
        raise ConfigError(f"synthetic.mayo: the LB outcome pattern has {len(LB_PATTERN)} patients, targets say {n_lb}")
    lb_codes = sorted(groups["LB"])
    lb_code_only, lb_code_other = lb_codes[0], lb_codes[-1]  # codebook: 1 bone only, 2 bone and other
    l_code = groups["L"][0]
    other_codes = sorted(set(range(4)) - set(groups["LB"]) - set(groups["L"]))
    group_of = {c: g for g, codes in primary_groups.items() for c in codes}

    rng = np.random.default_rng(seed)

    # --- outcomes (seed-free) ---------------------------------------------------------------
    med = {k: _target_days(float(v), days_per_month) for k, v in targets["median_os_months"].items()}
    lb_out = lb_outcomes(med)
    shape, ctl_out, p_design = solve_control_shape(lb_out, n_ctl, med["L"], float(targets["logrank_p"]))

    # --- LB patients ---------------------------------------------------------------------------
    y0, y1 = (int(y) for y in design["lb_years"])
    years = np.round(np.linspace(y0, y1, n_lb)).astype(int)
    _check_fits([t for _, t, _ in lb_out], [_worst_follow_up(int(y), period, cutoff) for y in years], "LB")
    _check_fits([t for t, _ in ctl_out], [_worst_follow_up(int(y), period, cutoff) for y in years for _ in range(ratio)],
                "matched-control")
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
    major_lb = _exactly(n_lb, int(targets["major_resection"]["LB"]), rng)
    with_other = _exactly(n_lb, int(design["bone_and_other_extrahepatic"]), rng)
    rows: list[dict[str, Any]] = []
    for i in range(n_lb):
        grp, days, event = lb_out[which[i]]
        age_days = int(round(float(np.clip(rng.normal(56, 11), 28, 80)) * 365.25))
        res = lb_res[i]
        rows.append(_patient(
            site=2 if (res.year >= 1996 and rng.random() < FLORIDA_P_FROM_1996) else 1,
            sex=int(rng.integers(1, 3)),
            dob=res - pd.Timedelta(days=age_days),
            date_resection=res,
            primary_site=_subsite(grp, primary_groups, rng),
            grade=3 if grade3[i] else int(rng.integers(1, 3)),
            synchronous_liver=int(sync[i]),
            liver_extent=2 if bilobar[i] else 1,
            n_liver_lesions=_lesions(bool(bilobar[i]), rng),
            n_segments_resected=_segments(bool(major_lb[i]), min_major, rng),
            extrahepatic=lb_code_other if with_other[i] else lb_code_only,
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
    # LB covariate vectors must differ from one another (distinct twin sets)
    seen: set[tuple[Any, ...]] = set()
    for row in rows:
        while _covariate_key(row, group_of) in seen:
            row["dob"] -= pd.Timedelta(days=1)
        seen.add(_covariate_key(row, group_of))
    lb_keys = set(seen)

    # --- designed twins -------------------------------------------------------------------------
    twin_rows: list[dict[str, Any]] = []
    twin_parent: list[int] = []
    for i, lb in enumerate(rows):
        age_days = (lb["date_resection"] - lb["dob"]).days
        for _ in range(ratio):
            res = _day_in_year(lb["date_resection"].year, *period, rng)
            res = min(res, cutoff - pd.Timedelta(days=1))
            bil = lb["liver_extent"] == 2
            twin_rows.append(_patient(
                site=2 if (res.year >= 1996 and rng.random() < FLORIDA_P_FROM_1996) else 1,
                sex=lb["sex"],
                dob=res - pd.Timedelta(days=age_days),
                date_resection=res,
                primary_site=_subsite(group_of[int(lb["primary_site"])], primary_groups, rng),
                grade=3 if lb["grade"] == 3 else int(rng.integers(1, 3)),
                synchronous_liver=lb["synchronous_liver"],
                liver_extent=lb["liver_extent"],
                n_liver_lesions=_lesions(bil, rng),
                extrahepatic=l_code,
            ))
            twin_parent.append(i)
    twin_fu = [(cutoff - r["date_resection"]).days for r in twin_rows]
    which_c = assign_times(twin_fu, ctl_out, lambda o: o[0], rng, "matched-control")
    major_c = _exactly(n_ctl, int(targets["major_resection"]["L"]), rng)
    for j, row in enumerate(twin_rows):
        days, event = ctl_out[which_c[j]]
        row["vital_status"] = event
        row["date_death_or_lastfu"] = row["date_resection"] + pd.Timedelta(days=days)
        row["n_segments_resected"] = _segments(bool(major_c[j]), min_major, rng)

    # --- the rest of the pool and the other-extrahepatic patients ------------------------------------
    extra: list[dict[str, Any]] = []
    for _ in range(n_pool - n_ctl):
        extra.append(_random_patient(rng, l_code, period, cutoff, primary_groups, min_major,
                                     MEDIAN_OS_MONTHS["liver_only"]))
    for _ in range(n_other):
        code = other_codes[0] if other_codes else 3
        extra.append(_random_patient(rng, code, period, cutoff, primary_groups, min_major,
                                     MEDIAN_OS_MONTHS["other_extrahepatic"]))
    for row in extra:  # never a second exact twin by chance
        while _covariate_key(row, group_of) in lb_keys:
            row["dob"] -= pd.Timedelta(days=1)

    # --- identifiers, frame -------------------------------------------------------------------
    everyone = rows + twin_rows + extra
    ids = rng.choice(np.arange(1_000_000, 9_999_999), size=len(everyone), replace=False)
    for row, pid in zip(everyone, ids):
        row["patient_id"] = str(int(pid))
    raw = _to_raw_frame(everyone)
    treated_ids = tuple(r["patient_id"] for r in rows)
    twins_of = {rows[i]["patient_id"]: tuple(t["patient_id"] for t, p in zip(twin_rows, twin_parent) if p == i)
                for i in range(n_lb)}
    return MayoTwin(
        raw=raw,
        treated_ids=treated_ids,
        designed_control_ids=tuple(r["patient_id"] for r in twin_rows),
        twins_of=twins_of,
        control_shape=shape,
        design_logrank_p=p_design,
    )


STATA_MISSING_COLUMNS = ("grade", "n_liver_lesions", "n_bone_mets")
REQUIRED_INT_COLUMNS = ("site", "sex", "primary_site", "synchronous_liver", "liver_extent", "n_segments_resected",
                        "extrahepatic", "vital_status")
DATE_COLUMNS = ("dob", "date_resection", "date_death_or_lastfu")


def _to_raw_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """RAW contract: codebook order; codes numeric; '.a' columns object (float codes, 'a', NaN); dates datetime64."""
    df = pd.DataFrame(rows, columns=list(RAW_COLUMNS))
    df["patient_id"] = df["patient_id"].astype(str)
    for c in DATE_COLUMNS:
        df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
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
