"""Study A's synthetic twin: deterministic, realistic, and every published number met exactly.

Published numbers are written out below from the abstract (Lim et al. 2019) and the UKINETS 2018
poster, not read from config; medians are checked with lifelines, and SPSS's symmetric median CI
with a small Collett-SE computation written here, independently of nenbone.analysis.
"""

from __future__ import annotations

import copy
import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from lifelines import KaplanMeierFitter

from nenbone.codebook import load_codebook
from nenbone.derive.christie import derive
from nenbone.errors import ConfigError
from nenbone.synthetic.christie import first_met_to_bm_design, generate
from nenbone.validation import validate

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
CODEBOOK = load_codebook(ROOT / "config" / "codebooks" / "christie.yaml")
SETTINGS = CONFIG["synthetic"]["christie"]
STUDY = CONFIG["christie"]
DPM = CONFIG["days_per_month"]

# Journal abstract (counts among the 85 with BMs) and poster.
N_SCREENED, N_ELIGIBLE, N_BM = 1459, 1212, 85
PUBLISHED_COUNTS = {
    "grade_g12": 57, "functional": 35, "bm_synchronous": 24, "bm_with_other_mets": 47, "bm_widespread": 52,
    "bm_symptoms_at_dx": 19, "bm_symptoms_ever": 66, "pain_or_hypercalcaemia": 54, "sre": 17,
    "tx_analgesia": 37, "tx_radiotherapy": 29, "tx_bisphosphonate": 19, "tx_surgery": 2,
}
PUBLISHED_PERCENT = {  # percent of the 85, as printed
    "grade_g12": None, "functional": 41, "bm_synchronous": 28, "bm_with_other_mets": 55, "bm_widespread": 61,
    "bm_symptoms_at_dx": 22, "bm_symptoms_ever": 78, "pain_or_hypercalcaemia": 64, "sre": 20,
    "tx_analgesia": 44, "tx_radiotherapy": 34, "tx_bisphosphonate": 22, "tx_surgery": 2,
}
PUBLISHED_GROUPS = {"GEP": (42, 49), "lung": (21, 25), "unknown": (17, 20), "other": (5, 6)}
Z_975 = 1.959963984540054


def half_up(x: float, places: int = 0) -> Decimal:
    return Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return generate(copy.deepcopy(SETTINGS), copy.deepcopy(STUDY))


@pytest.fixture(scope="module")
def derived(raw) -> pd.DataFrame:
    return derive(validate(raw, CODEBOOK, source="christie twin"), STUDY, DPM, CODEBOOK)


@pytest.fixture(scope="module")
def bm(derived) -> pd.DataFrame:
    return derived.loc[derived["has_bm"].fillna(False).to_numpy()]


# --------------------------------------------------------------------------- independent KM helpers


def km_steps(t: np.ndarray, e: np.ndarray) -> list[tuple[float, float, float, int]]:
    """(time, S, Greenwood SE, events) at each distinct event time (floating point)."""
    out, s, vsum = [], 1.0, 0.0
    for tj in np.unique(t[e]):
        n, d = int((t >= tj).sum()), int(((t == tj) & e).sum())
        s *= 1 - d / n
        vsum += d / (n * (n - d)) if n > d else math.inf
        out.append((float(tj), s, s * math.sqrt(vsum), d))
    return out


def spss_median_ci(t: np.ndarray, e: np.ndarray) -> tuple[float, float, float, float]:
    """Collett (2.4) / IBM SPSS KM: median +- z SE, SE = SE(S(t50)) / ((S(u) - S(l)) / (l - u))."""
    steps = km_steps(t, e)
    med, s_med, se_s, _ = next(x for x in steps if x[1] <= 0.5)
    u, s_u = [(x[0], x[1]) for x in steps if x[1] >= 0.55][-1]
    l, s_l = next((x[0], x[1]) for x in steps if x[1] <= 0.45)
    se = se_s / ((s_u - s_l) / (l - u))
    return med, se, med - Z_975 * se, med + Z_975 * se


def exact_survival_values(t_days: np.ndarray, e: np.ndarray) -> list[Fraction]:
    """Exact KM S after each distinct event time (days are whole, so no rounding anywhere)."""
    out, s = [], Fraction(1)
    for tj in np.unique(t_days[e]):
        n, d = int((t_days >= tj).sum()), int(((t_days == tj) & e).sum())
        s *= Fraction(n - d, n)
        out.append(s)
    return out


def lifelines_median(months: np.ndarray, events: np.ndarray) -> float:
    return float(KaplanMeierFitter().fit(months, events).median_survival_time_)


def as_days(months: pd.Series) -> np.ndarray:
    days = months.to_numpy(dtype=float) * DPM
    assert np.allclose(days, np.round(days), atol=1e-6)
    return np.round(days).astype(int)


# --------------------------------------------------------------------------- the RAW frame


def test_raw_frame_follows_the_codebook(raw):
    assert list(raw.columns) == list(CODEBOOK.variables)
    assert len(raw) == N_SCREENED
    assert raw["patient_id"].is_unique
    assert raw["patient_id"].str.fullmatch(r"CHR\d{4}").all()
    assert raw["patient_id"].tolist() == sorted(raw["patient_id"])
    for name in CODEBOOK.of_type("date"):
        assert str(raw[name].dtype) == "datetime64[ns]"
        assert (raw[name].dropna() == raw[name].dropna().dt.normalize()).all()
    assert (raw["grade"] == 9).any(), "the SPSS user-missing grade code is used"


def test_deterministic_from_the_seed(raw):
    settings, study = copy.deepcopy(SETTINGS), copy.deepcopy(STUDY)
    again = generate(settings, study)
    pd.testing.assert_frame_equal(raw, again)
    assert (settings, study) == (SETTINGS, STUDY), "generate() must not change its arguments"
    other = generate({**copy.deepcopy(SETTINGS), "seed": SETTINGS["seed"] + 1}, copy.deepcopy(STUDY))
    assert not raw.equals(other)


def test_follow_up_ends_by_the_data_cutoff(raw):
    cutoff = pd.Timestamp(SETTINGS["data_cutoff"])
    for name in CODEBOOK.of_type("date"):
        assert (raw[name].dropna() <= cutoff).all(), name
    alive = raw["vital_status"] == 0
    assert alive.any() and (~alive).any()


def test_ineligible_patients_are_realistic(raw):
    dx = raw["date_nen_diagnosis"]
    before = dx < pd.Timestamp("2002-04-01")
    after = dx > pd.Timestamp("2018-03-31")
    g3_lung = (raw["primary_site"] == 8) & (raw["grade"] == 3) & ~before & ~after
    ineligible = before | after | g3_lung
    assert int(ineligible.sum()) == N_SCREENED - N_ELIGIBLE
    assert before.any() and after.any() and g3_lung.any()
    assert (raw.loc[ineligible, "bone_mets"] == 1).any(), "some ineligible patients have BMs too"
    for edge in ("2002-03-31", "2002-04-01", "2018-03-31", "2018-04-01"):  # both sides of both boundaries
        assert (dx == pd.Timestamp(edge)).any(), edge


def test_symptom_onset_is_before_bm_diagnosis_only_for_symptoms_at_diagnosis(raw):
    b = raw.loc[raw["bone_mets"] == 1]
    lead = (b["date_bm_diagnosis"] - b["date_bm_symptom_onset"]).dt.days
    at_dx = b["bm_symptomatic_at_dx"] == 1
    assert (lead[at_dx].dropna() >= 0).all() and (lead[~at_dx].dropna() < 0).all()
    assert b.loc[b["bm_symptomatic_ever"] == 0, "date_bm_symptom_onset"].isna().all()


# --------------------------------------------------------------------------- published numbers


def test_cohort_sizes(derived, bm):
    assert len(derived) == N_ELIGIBLE
    assert len(bm) == N_BM
    assert half_up(100 * N_BM / N_ELIGIBLE) == 7


def test_primary_groups(bm):
    counts = bm["primary_group"].value_counts().to_dict()
    assert counts == {g: n for g, (n, _) in PUBLISHED_GROUPS.items()}
    for g, (n, pct) in PUBLISHED_GROUPS.items():
        assert half_up(100 * n / N_BM) == pct


@pytest.mark.parametrize("column", sorted(PUBLISHED_COUNTS))
def test_published_counts_exact(bm, column):
    assert bm[column].isna().sum() == 0
    assert int(bm[column].sum()) == PUBLISHED_COUNTS[column]
    if PUBLISHED_PERCENT[column] is not None:
        assert half_up(100 * bm[column].mean()) == PUBLISHED_PERCENT[column]


def test_metachronous_are_the_rest_and_synchronous_are_same_time(bm):
    assert int((~bm["bm_with_other_mets"]).sum()) == 38
    assert half_up(100 * 38 / N_BM) == 45
    assert not (bm["bm_synchronous"] & ~bm["bm_with_other_mets"]).any()


def test_symptom_denominator_can_only_fit_all_85(bm):
    """64%/20% hold of all 85; of the 66 ever symptomatic they would need 42 and 13 (codebook notes)."""
    ever = bm.loc[bm["bm_symptoms_ever"].to_numpy(dtype=bool)]
    assert len(ever) == 66
    assert half_up(100 * ever["pain_or_hypercalcaemia"].mean()) == 82
    assert half_up(100 * ever["sre"].mean()) == 26
    study = {**STUDY, "derivation": {**STUDY["derivation"], "symptom_percent_denominator": "ever_symptomatic"}}
    alt = derive(validate(generate(copy.deepcopy(SETTINGS), copy.deepcopy(STUDY)), CODEBOOK, "twin"), study, DPM, CODEBOOK)
    alt_bm = alt.loc[alt["has_bm"].to_numpy(dtype=bool)]
    assert alt_bm["pain_or_hypercalcaemia"].notna().sum() == 66
    assert half_up(100 * alt_bm["pain_or_hypercalcaemia"].mean()) == 82


def test_age_quartiles_spss_rule(bm):
    ages = bm["age_years"].to_numpy(dtype=float)
    assert np.all(ages == np.floor(ages))
    assert np.percentile(ages, [25, 50, 75], method="weibull").tolist() == [47.5, 58.0, 67.5]
    # By hand: (n + 1)p = 21.5, 43, 64.5 -> mean of the 21st/22nd, the 43rd, mean of the 64th/65th.
    s = np.sort(ages)
    assert ((s[20] + s[21]) / 2, s[42], (s[63] + s[64]) / 2) == (47.5, 58.0, 67.5)


def test_time_to_bm_in_metachronous_median_and_spss_ci(bm):
    meta = bm.loc[~bm["bm_with_other_mets"].to_numpy(dtype=bool)]
    months = meta["months_first_met_to_bm"].to_numpy(dtype=float)
    events = meta["first_met_to_bm_event"].to_numpy(dtype=bool)
    assert len(months) == 38 and events.all()
    t = np.sort(months)
    assert t[18] == t[19], "t19 = t20, so S jumps over 1/2 and every convention agrees"
    assert half_up(t[18], 1) == Decimal("14.0")
    assert half_up(lifelines_median(months, events), 1) == Decimal("14.0")
    med, se, lower, upper = spss_median_ci(months, events)
    assert med == t[18]
    assert (half_up(lower, 1), half_up(upper, 1)) == (Decimal("3.1"), Decimal("24.9"))
    assert se == pytest.approx(5.561, abs=0.005)


def test_first_met_to_bm_design_by_hand():
    # n = 38: S(t_k) = 1 - k/38 >= 0.55 up to k = 17; <= 0.45 from k = 21; median t19 = t20, S = 18/38.
    d = first_met_to_bm_design(38, 426, 169.3)
    assert (d["k_u"], d["k_l"], d["m"], d["k_med"]) == (17, 21, 19, 20)
    se_s = math.sqrt((18 / 38) * (20 / 38) / 38)
    assert d["gap"] == round(169.3 / (se_s * 38 / 4)) == 220


@pytest.mark.parametrize(
    ("months", "event", "published"),
    [
        ("os_from_bm_months", "os_from_bm_event", "31.0"),
        ("os_from_symptoms_months", "os_from_symptoms_event", "18.9"),
    ],
)
def test_survival_medians_agree_under_every_convention(bm, months, event, published):
    data = bm[[months, event]].dropna()
    t, e = data[months].to_numpy(dtype=float), data[event].to_numpy(dtype=bool)
    assert 0 < (~e).sum() < len(e) / 2, "some, not most, patients censored"
    days = as_days(data[months])
    s_exact = exact_survival_values(days, e)
    assert all(s != Fraction(1, 2) for s in s_exact), "S never rests on 1/2: no midpoint convention applies"
    first = lifelines_median(t, e)
    steps = km_steps(t, e)
    assert first == next(x[0] for x in steps if x[1] <= 0.5)  # SPSS / Stata: first time S <= 0.5
    assert half_up(first, 1) == Decimal(published)


def test_os_from_bm_uses_all_85_and_symptoms_only_dated_onsets(bm):
    assert bm["os_from_bm_months"].notna().sum() == N_BM
    n_sym = int(bm["os_from_symptoms_months"].notna().sum())
    assert n_sym == 66 - SETTINGS["symptom_onset_not_recorded"]


# --------------------------------------------------------------------------- settings


def test_config_days_give_the_published_months():
    d = SETTINGS["design_days"]
    assert half_up(d["first_met_to_bm_median"] / DPM, 1) == Decimal("14.0")
    assert half_up(d["os_from_bm_median"] / DPM, 1) == Decimal("31.0")
    assert half_up(d["os_from_symptoms_median"] / DPM, 1) == Decimal("18.9")


def test_inconsistent_targets_are_a_config_error():
    bad = copy.deepcopy(SETTINGS)
    bad["targets"]["primary_group"]["GEP"] = 41
    bad["ineligible"]["g3_lung"]["n"] += 1
    with pytest.raises(ConfigError) as err:
        generate(bad, copy.deepcopy(STUDY))
    assert "primary_group must sum" in str(err.value) and "ineligible" in str(err.value)


def test_age_at_bm_diagnosis_twin_keeps_the_quartiles():
    study = {**copy.deepcopy(STUDY), "derivation": {**STUDY["derivation"], "age_at": "bm_diagnosis"}}
    out = derive(validate(generate(copy.deepcopy(SETTINGS), study), CODEBOOK, "twin"), study, DPM, CODEBOOK)
    ages = out.loc[out["has_bm"].to_numpy(dtype=bool), "age_years"].to_numpy(dtype=float)
    assert np.percentile(ages, [25, 50, 75], method="weibull").tolist() == [47.5, 58.0, 67.5]
