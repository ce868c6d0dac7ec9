"""Known-truth simulations: Cox recovers a true HR of 2; the PH test is quiet under PH and loud without it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nenbone.analysis.survival import cox, kaplan_meier, ph_test

TRUE_HR = 2.0
ALPHA = 0.05  # the PH test must not reject proportional hazards at this level (for the seed below)
SEED = 20240611


def simulate_ph(seed: int, n: int = 2000) -> pd.DataFrame:
    """Exponential times, hazard 0.1 * 2^x * exp(0.5 z): proportional hazards by construction."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n)
    z = rng.normal(size=n)
    rate = 0.1 * TRUE_HR**x * np.exp(0.5 * z)
    t_event = rng.exponential(1 / rate)
    t_cens = rng.uniform(5, 30, n)  # administrative censoring
    return pd.DataFrame({"time": np.minimum(t_event, t_cens), "event": (t_event <= t_cens).astype(int),
                         "x": x, "z": z})


@pytest.fixture(scope="module")
def ph_data() -> pd.DataFrame:
    return simulate_ph(SEED)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_recovers_true_hr(ph_data, ties):
    res = cox(ph_data, "time", "event", ["x", "z"], ties=ties)
    x = res.terms.set_index("term").loc["x"]
    z = res.terms.set_index("term").loc["z"]
    assert x["hr_lower"] < TRUE_HR < x["hr_upper"]
    assert abs(np.log(x["hr"]) - np.log(TRUE_HR)) < 3 * x["se"]  # within 3 SE (about 0.15 here)
    assert abs(z["coef"] - 0.5) < 3 * z["se"]
    assert res.n == 2000 and res.events == ph_data["event"].sum()


def test_cox_heavy_ties_efron_covers_breslow_attenuates(ph_data):
    """Times rounded up to whole units (about 30 distinct times): Efron still covers HR = 2, while
    Breslow's approximation pulls the estimate towards 1 (its known bias under heavy ties)."""
    rounded = ph_data.assign(time=np.ceil(ph_data["time"]))
    efron = cox(rounded, "time", "event", ["x", "z"], ties="efron").terms.set_index("term").loc["x"]
    breslow = cox(rounded, "time", "event", ["x", "z"], ties="breslow").terms.set_index("term").loc["x"]
    assert efron["hr_lower"] < TRUE_HR < efron["hr_upper"]
    assert 0 < breslow["coef"] < efron["coef"]
    assert abs(breslow["coef"] - np.log(TRUE_HR)) > abs(efron["coef"] - np.log(TRUE_HR))


def test_cox_clustered_on_matched_sets_covers(ph_data):
    df = ph_data.assign(match_id=np.arange(len(ph_data)) // 5)
    res = cox(df, "time", "event", ["x", "z"], robust=True, cluster_col="match_id")
    x = res.terms.set_index("term").loc["x"]
    assert x["hr_lower"] < TRUE_HR < x["hr_upper"]


@pytest.mark.parametrize("transform", ["km", "rank"])
def test_ph_test_quiet_under_ph(ph_data, transform):
    res = ph_test(ph_data, "time", "event", ["x", "z"], time_transform=transform)
    assert (res.terms["p"] > ALPHA).all(), res.terms
    assert res.global_p > ALPHA and res.global_df == 2
    assert transform in res.method


def test_ph_test_rejects_crossing_hazards():
    """Weibull shape 0.5 against shape 2 with equal medians: hazards cross, PH is false."""
    rng = np.random.default_rng(SEED)
    n = 2000
    x = rng.integers(0, 2, n)
    shape = np.where(x == 1, 0.5, 2.0)
    t_event = 10 * rng.weibull(shape)
    t_cens = rng.uniform(5, 30, n)
    df = pd.DataFrame({"time": np.minimum(t_event, t_cens), "event": (t_event <= t_cens).astype(int), "x": x})
    res = ph_test(df, "time", "event", ["x"])
    assert res.terms["p"].item() < 1e-6
    assert res.global_statistic == pytest.approx(res.terms["statistic"].item(), rel=1e-9)  # 1 covariate


def test_km_median_close_to_exponential_truth():
    """Exponential rate 0.1 (no covariates): true median log(2)/0.1 = 6.93; both CIs cover it."""
    rng = np.random.default_rng(SEED)
    t = rng.exponential(10.0, 2000)
    cens = rng.uniform(5, 30, 2000)
    km = kaplan_meier(np.minimum(t, cens), t <= cens)
    truth = np.log(2) * 10
    assert km.spss.lower < truth < km.spss.upper
    assert km.median_ci_loglog[0] <= truth <= km.median_ci_loglog[1]
