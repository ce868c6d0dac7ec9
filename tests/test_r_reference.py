"""The survival engine against R's survival 3.5-3, from committed golden values (no R needed).

tests/r_reference/: small datasets (CSV) and R's results for each (r_results.csv, written by
make_reference.R via run.py). Every number below is compared to 1e-8 (absolute, or relative to the
value where it is large): Cox coefficients, model and robust variances, p-values and CIs, score
residuals and tests, with Efron and Breslow ties, strata, clusters and case weights; cox.zph (>= 3.0
and the pre-3.0 test) with km, rank and identity transforms; Kaplan-Meier medians and log-log limits
at the edges (a curve resting on 0.5, a curve reaching 0, no events); log-rank with a group without
events; and the Study B matched cohort of the default run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nenbone.analysis import cox as engine
from nenbone.analysis import survival as sv

REF = Path(__file__).resolve().parent / "r_reference"
TOL = 1e-8
R = pd.read_csv(REF / "r_results.csv")
COX = pd.read_csv(REF / "cox_ties.csv")
KM = pd.read_csv(REF / "km_edges.csv")


def r(case: str, quantity: str) -> np.ndarray:
    rows = R[(R["case"] == case) & (R["quantity"] == quantity)].sort_values("index")
    assert len(rows), f"no R value {case}/{quantity}"
    return rows["value"].to_numpy(dtype=float)


def close(ours, theirs, tol: float = TOL) -> None:
    np.testing.assert_allclose(np.asarray(ours, dtype=float).ravel(), theirs, rtol=tol, atol=tol)


SPECS = {
    "plain": {}, "robust": {"robust": True}, "cluster": {"cluster": "cluster"}, "strata": {"strata": "stratum"},
    "strata_cluster": {"strata": "stratum", "cluster": "cluster"}, "weights": {"weights": "w"},
    "weights_cluster": {"weights": "w", "cluster": "cluster"},
}


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("spec", list(SPECS))
def test_cox_engine_equals_r(ties, spec):
    kw = {k: (COX[v] if isinstance(v, str) else v) for k, v in SPECS[spec].items()}
    fit = engine.fit_cox(COX["time"], COX["event"], COX[["x1", "x2"]], names=["x1", "x2"], ties=ties, **kw)
    case = f"{ties}_{spec}"
    close(fit.coef, r(case, "coef"))
    close(fit.var, r(case, "var_model"))
    close(fit.se, r(case, "se"))
    close([fit.loglik_null, fit.loglik], r(case, "loglik"))
    close(fit.score_test, r(case, "score_test"))
    close(fit.wald_test, r(case, "wald_test"))
    close(fit.lr_test, r(case, "lr_test"))
    if fit.robust_var is not None:
        close(fit.robust_var, r(case, "var_robust"))
        close(fit.robust_score_test, r(case, "robust_score_test"))
    else:
        assert "robust" not in spec and "cluster" not in spec
    rs, steps, _ = engine._setup(COX["time"], COX["event"], COX[["x1", "x2"]], None,
                                 kw.get("weights"), kw.get("strata"), ties, True)
    resid = np.empty((len(COX), 2))
    resid[rs.order] = engine.score_residuals(rs, steps, fit.coef)
    close(resid.T, r(case, "score_residuals"))  # R's residuals(fit, "score"), column by column


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_wrapper_p_values_and_cis_equal_r(ties):
    res = sv.cox(COX, "time", "event", ["x1", "x2"], ties=ties, robust=True, cluster_col="cluster")
    case = f"{ties}_cluster"
    close(res.terms["p"], r(case, "p"))
    close(res.terms["hr_lower"], r(case, "hr_lower"))
    close(res.terms["hr_upper"], r(case, "hr_upper"))
    close(res.terms["se_model"] ** 2, np.diag(r(case, "var_model").reshape(2, 2)))
    assert res.tests["wald"]["statistic"] == pytest.approx(r(case, "wald_test")[0], rel=TOL)


def test_group_without_events_is_refused_where_r_only_warns():
    data = pd.read_csv(REF / "separation.csv")
    assert r("separation", "r_warned_infinite")[0] == 1
    with pytest.raises(engine.CoxSeparationError, match=r"\['x1'\]"):
        engine.fit_cox(data["time"], data["event"], data[["x1"]], names=["x1"])


ZPH = {"efron": {}, "breslow": {"ties": "breslow"}, "efron_strata": {"strata": "stratum"},
       "efron_weights": {"weights": "w"}}


@pytest.mark.parametrize("transform", ["km", "rank", "identity"])
@pytest.mark.parametrize("model", list(ZPH))
def test_zph_equals_r(model, transform):
    kw = {k: (COX[v] if k in ("strata", "weights") else v) for k, v in ZPH[model].items()}
    z = engine.zph(COX["time"], COX["event"], COX[["x1", "x2"]], names=["x1", "x2"], transform=transform, **kw)
    case = f"zph_{model}_{transform}"
    close(z.chisq, r(case, "chisq"))
    close(z.df, r(case, "df"))
    close(z.p, r(case, "p"))
    close(z.x, r(case, "x"))
    close(z.scaled_residuals.T, r(case, "y"))
    if model in ("efron", "breslow"):
        pre3 = engine.zph(COX["time"], COX["event"], COX[["x1", "x2"]], names=["x1", "x2"], transform=transform,
                          method="pre3", **kw)
        close(pre3.chisq, r(case, "pre3_chisq"))


@pytest.mark.parametrize("curve", KM["curve"].unique().tolist())
def test_km_edges_equal_r(curve):
    part = KM[KM["curve"] == curve]
    km = sv.kaplan_meier(part["time"], part["event"])
    nan_none = lambda x: np.nan if x is None else x  # noqa: E731
    case = f"km_{curve}"
    close(km.table["S"], r(case, "surv"))
    # R's printed median (print.survfit) and quantile(fit, 0.5) differ only for a curve resting on 0.5
    close(nan_none(km.median_midpoint), r(case, "median"))
    lower, upper = km.median_ci_loglog
    close(nan_none(lower), r(case, "lower"))
    close(nan_none(upper), r(case, "upper"))


def test_km_median_rules_at_a_curve_resting_on_half():
    """S = 0.5 from t = 3, then only censorings to t = 6: SPSS/lifelines 3, R print.survfit 3,
    R quantile.survfit 4.5 (midpoint to the last follow-up); upper log-log limit not reached (R: NA)."""
    part = KM[KM["curve"] == "half_then_censored"]
    km = sv.kaplan_meier(part["time"], part["event"])
    assert (km.median, km.median_midpoint, km.median_r_quantile) == (3.0, 3.0, 4.5)
    assert km.median_ci_loglog[1] is None and np.isnan(r("km_half_then_censored", "upper")[0])
    ev = KM[KM["curve"] == "half_then_event"]
    km = sv.kaplan_meier(ev["time"], ev["event"])
    assert (km.median, km.median_midpoint, km.median_r_quantile) == (4.0, 5.0, 5.0)
    zero = KM[KM["curve"] == "reaches_zero"]
    km = sv.kaplan_meier(zero["time"], zero["event"])
    assert km.median_ci_loglog == (2.0, None)  # lifelines: (2.0, 12.0), the time S reaches 0


@pytest.mark.parametrize("curves", [("mixed", "reaches_zero"), ("mixed", "no_events"),
                                    ("mixed", "reaches_zero", "no_events")])
def test_logrank_with_a_group_without_events_equals_r(curves):
    part = KM[KM["curve"].isin(curves)]
    res = sv.logrank(part["time"], part["event"], part["curve"])
    close(res.chi2, r("logrank_" + "_".join(curves), "chisq"))


# ------------------------------------------------------------------ the matched cohort of the default run

MATCHED = pd.read_csv(REF / "matched_cohort.csv")


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_matched_cohort_cox_equals_r(ties):
    """Study B's unadjusted Cox model (LB vs L), robust SE clustered on the matched set; the issue's R
    values for Efron: HR 1.777967 (1.155793-2.735063), p 0.008822."""
    res = sv.cox(MATCHED, "os_months", "os_event", ["group"], ties=ties, categorical=["group"],
                 reference={"group": "L"}, robust=True, cluster_col="match_id")
    case = f"matched_{ties}_cluster"
    row = res.terms.iloc[0]
    close(row["coef"], r(case, "coef"))
    close(row["se"], r(case, "se"))
    close(row["se_model"] ** 2, r(case, "var_model"))
    close(row["p"], r(case, "p"))
    close([row["hr_lower"], row["hr_upper"]], np.concatenate([r(case, "hr_lower"), r(case, "hr_upper")]))
    if ties == "efron":
        assert (round(row["hr"], 6), round(row["hr_lower"], 6), round(row["hr_upper"], 6), round(row["p"], 6)) == (
            1.777967, 1.155793, 2.735063, 0.008822)


def test_matched_cohort_ph_test_equals_cox_zph():
    res = sv.ph_test(MATCHED, "os_months", "os_event", ["group"], categorical=["group"], reference={"group": "L"})
    close(res.global_statistic, r("matched_zph_km", "chisq")[-1])
    close(res.global_p, r("matched_zph_km", "p")[-1])
    assert round(res.global_p, 3) == 0.438
    old = sv.ph_test(MATCHED, "os_months", "os_event", ["group"], categorical=["group"], reference={"group": "L"},
                     method="pre3")
    close(old.global_statistic, r("matched_zph_km", "pre3_chisq")[-1])
    assert round(old.global_p, 3) == 0.515


def test_matched_cohort_file_is_the_default_twins_matched_cohort():
    """The committed CSV is what the default Study B twin gives (derive -> match), rows and values."""
    from test_synthetic_mayo import pipeline

    from nenbone.analysis.effects import matched_cohort

    _, derived, result = pipeline()
    cohort = matched_cohort(derived, result.matched)[["os_months", "os_event", "group", "match_id"]]
    cohort = cohort.assign(os_event=cohort["os_event"].astype(int), group=cohort["group"].astype(str))
    cohort = cohort.sort_values(["match_id", "group", "os_months"], ignore_index=True)
    pd.testing.assert_frame_equal(cohort, MATCHED.assign(group=MATCHED["group"].astype(str)), check_dtype=False,
                                  rtol=0, atol=1e-12)


@pytest.mark.parametrize("transform", ["km", "identity"])
@pytest.mark.parametrize("model", ["efron", "efron_strata"])
def test_zph_smoothed_curve_and_band_equal_r_plot(model, transform):
    """R's plot.cox.zph curve (natural spline, 4 df, 40 grid points) and its +-2 SE band, recorded from R's
    own plotting code (make_reference.R), for each covariate; and cox.zph()$var."""
    kw = {k: (COX[v] if k in ("strata", "weights") else v) for k, v in ZPH[model].items()}
    z = engine.zph(COX["time"], COX["event"], COX[["x1", "x2"]], names=["x1", "x2"], transform=transform, **kw)
    case = f"zph_{model}_{transform}"
    close(z.var, r(case, "var"))
    for j in range(2):
        curve = engine.zph_smooth(z, j)
        close(curve.x, r(case, f"smooth_x_{j + 1}"))
        close(curve.fit, r(case, f"smooth_fit_{j + 1}"))
        close(curve.upper, r(case, f"smooth_upper_{j + 1}"))
        close(curve.lower, r(case, f"smooth_lower_{j + 1}"))


def test_ph_curves_document_equals_r_and_holds_no_residuals():
    """What the analysis writes (survival.ph_curves): R's plot.cox.zph curve and band per covariate, R's
    cox.zph tests, time ticks at 1 - S(t-) of the Kaplan-Meier curve, and no per-event residual."""
    doc = sv.ph_curves(COX, "time", "event", ["x1", "x2"], tick_every=6.0)
    case = "zph_efron_km"
    close([doc["global"]["chi2"]], r(case, "chisq")[2:])
    for j, col in enumerate(doc["columns"]):
        close(col["x"], r(case, f"smooth_x_{j + 1}"))
        close(col["fit"], r(case, f"smooth_fit_{j + 1}"))
        close(col["lower"], r(case, f"smooth_lower_{j + 1}"))
        close(col["upper"], r(case, f"smooth_upper_{j + 1}"))
        close(col["coef"], r("efron_plain", "coef")[j])
        close([col["test"]["chi2"], col["test"]["p"]], [r(case, "chisq")[j], r(case, "p")[j]])
    assert doc["events"] == int(COX["event"].sum()) and doc["n"] == len(COX)
    assert (doc["smoother"]["df"], doc["smoother"]["band_se"], doc["smoother"]["n_grid"]) == (4, 2.0, 40)
    # ticks every 6 months at g(t) = 1 - S(t-) (S from survival.kaplan_meier), interpolated linearly between
    # the event times around t, as R's plot labels its axis
    km = sv.kaplan_meier(COX["time"], COX["event"])
    surv = dict(zip(km.table["time"], km.table["S"], strict=True))
    event_times = sorted(COX.loc[COX["event"] == 1, "time"].unique())

    def g(t):  # 1 - S just before t
        before = [u for u in surv if u < t]
        return 1 - (surv[max(before)] if before else 1.0)

    assert [t["time"] for t in doc["time_ticks"]] == [v for v in (6.0, 12.0, 18.0, 24.0, 30.0)
                                                      if event_times[0] <= v <= event_times[-1]]
    assert len(doc["time_ticks"]) >= 3
    for tick in doc["time_ticks"]:
        t = tick["time"]
        a = max(u for u in event_times if u <= t)
        b = min(u for u in event_times if u >= t)
        expected = g(a) if a == b else g(a) + (t - a) / (b - a) * (g(b) - g(a))
        assert tick["x"] == pytest.approx(expected, abs=1e-12)
    n_events = doc["events"]
    sizes = {len(v) for c in doc["columns"] for v in c.values() if isinstance(v, list)}
    assert n_events not in sizes and sizes == {40}  # grid values only: nothing with one entry per event


def test_ph_curves_band_and_spline_df_follow_the_config_choice():
    """analysis.ph_plot (spline_df, band_se): the band is the spline +- band_se pointwise SEs, so halving
    band_se halves the band about the same curve; another df gives another spline (R's df = 4 above)."""
    wide = sv.ph_curves(COX, "time", "event", ["x1", "x2"], smooth_df=4, band_se=2.0)
    narrow = sv.ph_curves(COX, "time", "event", ["x1", "x2"], smooth_df=4, band_se=1.0)
    stiff = sv.ph_curves(COX, "time", "event", ["x1", "x2"], smooth_df=2, band_se=2.0)
    assert (narrow["smoother"]["df"], narrow["smoother"]["band_se"], stiff["smoother"]["df"]) == (4, 1.0, 2)
    for w, n, s in zip(wide["columns"], narrow["columns"], stiff["columns"], strict=True):
        close(n["fit"], w["fit"])
        close([a - f for a, f in zip(n["upper"], n["fit"], strict=True)],
              [(a - f) / 2 for a, f in zip(w["upper"], w["fit"], strict=True)])
        assert max(abs(a - b) for a, b in zip(s["fit"], w["fit"], strict=True)) > 1e-6
