"""Figures: every plotting function draws what its data say, writes PNG + PDF, and reruns byte-identically.

Expected values are computed by hand in the tests (Kaplan-Meier product-limit products, counts at
risk, percentages), never read back from the code under test.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nenbone.analysis.plans import SelectionError
from nenbone.analysis.summaries import BarItem, bar_counts
from nenbone.formatting import p_label
from nenbone.presentation import figures as F
from nenbone.presentation.style import OKABE_ITO, style_from_config

STYLE = style_from_config({"dpi": 100, "palette": "okabe_ito"})
TIMES = [0, 2, 4, 6, 8]

# Six patients, by hand (times in months; 1 = death, 0 = censored):
#   t=2: 6 at risk, 1 death      S = 5/6
#   t=3: 5 at risk, 1 death (+1 censored at 3)  S = 5/6 * 4/5 = 2/3
#   t=5: 3 at risk, 1 death      S = 2/3 * 2/3 = 4/9   (first S <= 1/2: median = 5)
#   t=7: 2 at risk, censored     S = 4/9
#   t=8: 1 at risk, 1 death      S = 0
SIX = pd.DataFrame({
    "patient_id": [f"T{i}" for i in range(1, 7)],
    "months": [2.0, 3.0, 3.0, 5.0, 7.0, 8.0],
    "dead": [1, 1, 0, 1, 0, 1],
})
SIX_X = [0, 2, 3, 5, 7, 8]
SIX_S = [Fraction(1), Fraction(5, 6), Fraction(2, 3), Fraction(4, 9), Fraction(4, 9), Fraction(0)]
# durations >= t for t = 0, 2, 4, 6, 8: all 6; all 6; {5, 7, 8}; {7, 8}; {8}
SIX_AT_RISK = [6, 6, 3, 2, 1]


def km_curves(frame, time_col, event_col, *, label="All", group_col=None, groups=None, at_risk_times=TIMES,
              where=None):
    """A figure's input as the workflow makes it: the analysis' survival plan, through its JSON document."""
    import json

    from nenbone.analysis.plans import curves_document, run_survival_plan
    from nenbone.presentation.numbers import to_plain

    plan = {"name": "p", "label": label, "duration": time_col, "event": event_col, "where": where}
    if group_col:
        plan.update(group=group_col, groups=[v for v, _ in groups])
    numbers, curves = run_survival_plan(frame, plan, 0.95, [float(t) for t in at_risk_times])
    doc = json.loads(json.dumps(to_plain(curves_document({"p": numbers}, {"p": curves}))))
    display = {str(v): name for v, name in groups} if group_col else {"all": label}
    return F.km_input(doc["p"], display)


def _km_six(**kw):
    km = km_curves(SIX, "months", "dead", label="All", at_risk_times=TIMES)
    return km, F.plot_km(km, STYLE, at_risk_times=TIMES, xlabel="Time (months)", ylabel="Survival (probability)", **kw)


def _lines(fig, gid):
    return [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == gid]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _texts(fig) -> list[str]:
    import matplotlib.text

    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text()]


# ----------------------------------------------------------------------------------------------
# Kaplan-Meier
# ----------------------------------------------------------------------------------------------


def test_km_step_coordinates_equal_hand_computed_product_limit():
    _, fig = _km_six()
    (curve,) = _lines(fig, F.GID_CURVE)
    assert curve.get_drawstyle() == "steps-post"
    np.testing.assert_allclose(curve.get_xdata(), SIX_X)
    np.testing.assert_allclose(curve.get_ydata(), [float(s) for s in SIX_S], rtol=0, atol=1e-12)


def test_km_censor_ticks_sit_on_the_curve_at_censoring_times():
    _, fig = _km_six()
    (ticks,) = _lines(fig, F.GID_CENSOR)
    np.testing.assert_allclose(ticks.get_xdata(), [3.0, 7.0])  # censored at 3 (after the death at 3) and 7
    np.testing.assert_allclose(ticks.get_ydata(), [2 / 3, 4 / 9], atol=1e-12)


def test_km_at_risk_numbers_shown_equal_hand_count():
    _, fig = _km_six()
    shown = sorted(F.at_risk_shown(fig))
    assert [(t, int(n)) for t, _, n in shown] == list(zip([float(t) for t in TIMES], SIX_AT_RISK, strict=True))
    # also what a reader sees: the table's texts, left to right
    table_texts = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == F.GID_AT_RISK]
    assert table_texts == [str(n) for n in SIX_AT_RISK]


def test_km_median_line_drawn_at_hand_median():
    _, fig = _km_six()
    (median,) = _lines(fig, F.GID_MEDIAN)
    assert list(median.get_xdata()) == [0, 5.0, 5.0]
    assert list(median.get_ydata()) == [0.5, 0.5, 0]
    assert any("median 5.0 months" in t for t in _texts(fig))


def test_km_median_line_absent_when_not_reached():
    frame = pd.DataFrame({"patient_id": list("abcd"), "months": [1.0, 2.0, 3.0, 4.0], "dead": [1, 0, 0, 0]})
    km = km_curves(frame, "months", "dead", label="All", at_risk_times=[0, 2, 4])
    assert km.curves[0].S.min() == pytest.approx(0.75)  # by hand: 3/4, never <= 1/2
    fig = F.plot_km(km, STYLE, at_risk_times=[0, 2, 4], xlabel="Time (months)", ylabel="Survival")
    assert _lines(fig, F.GID_MEDIAN) == []
    assert any("median not reached" in t for t in _texts(fig))


def test_km_two_groups_legend_shows_hand_logrank_p_and_one_median_line_per_reached_median():
    # group A: deaths at 1, 2, 3 (median 2); group B: death at 4, censored at 5, 6 (S = 2/3, not reached)
    frame = pd.DataFrame({
        "patient_id": [f"p{i}" for i in range(6)], "months": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "dead": [1, 1, 1, 1, 0, 0], "arm": ["A", "A", "A", "B", "B", "B"],
    })
    km = km_curves(frame, "months", "dead", group_col="arm", groups=[("A", "Arm A"), ("B", "Arm B")],
                     at_risk_times=[0, 3, 6])
    fig = F.plot_km(km, STYLE, at_risk_times=[0, 3, 6], xlabel="Time (months)", ylabel="Survival")
    medians = _lines(fig, F.GID_MEDIAN)
    assert len(medians) == 1 and medians[0].get_xdata()[1] == 2.0
    # log-rank by hand: at t=1,2,3,4 the risk sets (A, B) are (3,3), (2,3), (1,3), (0,3)
    # (at risk in A, at risk in B, deaths in A, all deaths) at each death time
    o_minus_e, var = 0.0, 0.0
    for n_a, n_b, d_a, d in [(3, 3, 1, 1), (2, 3, 1, 1), (1, 3, 1, 1), (0, 3, 0, 1)]:
        n = n_a + n_b
        o_minus_e += d_a - d * n_a / n
        var += d * (n_a / n) * (n_b / n) * (n - d) / (n - 1)
    from scipy.stats import chi2

    p = float(chi2.sf(o_minus_e**2 / var, 1))
    assert km.logrank_p == pytest.approx(p, rel=1e-9)
    assert f"Log-rank {p_label(p)}" in _texts(fig)
    # at-risk rows: A has 3, 1, 0 and B has 3, 3, 1 at t = 0, 3, 6
    shown = {(t, row): int(n) for t, row, n in F.at_risk_shown(fig)}
    assert shown == {(0.0, 0): 3, (3.0, 0): 1, (6.0, 0): 0, (0.0, 1): 3, (3.0, 1): 3, (6.0, 1): 1}


def test_small_counts_are_suppressed_when_disclosure_control_is_on():
    km = km_curves(SIX, "months", "dead", label="All", at_risk_times=TIMES)
    fig = F.plot_km(km, STYLE, at_risk_times=TIMES, xlabel="t (months)", ylabel="S", min_cell_count=3)
    # hand counts 6, 6, 3, 2, 1 -> 2 and 1 are below 3
    assert [n for _, _, n in sorted(F.at_risk_shown(fig))] == ["6", "6", "3", "<3", "<3"]
    counts = pd.DataFrame({"label": ["Surgery", "Radiotherapy"], "section": ["M", "M"], "n": [2, 29],
                           "denominator": [85, 85], "denominator_kind": ["all", "all"],
                           "percent": [200 / 85, 2900 / 85]})
    fig = F.plot_bars(counts, STYLE, xlabel="Patients (%)", min_cell_count=5)
    assert "<5/85" in _texts(fig) and "29/85 (34%)" in _texts(fig)
    assert [p.get_width() for p in fig.axes[0].patches if p.get_gid() == "bars"] == pytest.approx([0.0, 2900 / 85])
    assert F.count_text(0, 5) == "0" and F.count_text(5, 5) == "5"


def test_km_confidence_band_equals_lifelines_pointwise_interval():
    from lifelines import KaplanMeierFitter

    km, fig = _km_six(show_ci=True)
    x, lower, upper = F.band_coordinates(km.curves[0])
    kmf = KaplanMeierFitter(alpha=0.05).fit(SIX["months"], SIX["dead"])
    ci = kmf.confidence_interval_.loc[x[1:4]]  # times 2, 3, 5 (before S reaches 0 and the variance is undefined)
    np.testing.assert_allclose(lower[1:4], ci.iloc[:, 0].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(upper[1:4], ci.iloc[:, 1].to_numpy(), rtol=1e-9)
    assert any(c.get_gid() == F.GID_CI for c in fig.axes[0].collections)


def test_km_axis_stops_at_first_at_risk_time_beyond_follow_up():
    _, fig = _km_six()
    assert fig.axes[0].get_xlim() == (0.0, 8.0)
    km = km_curves(SIX, "months", "dead", at_risk_times=[0, 4, 10, 20])
    fig = F.plot_km(km, STYLE, at_risk_times=[0, 4, 10, 20], xlabel="t (months)", ylabel="S")
    assert fig.axes[0].get_xlim() == (0.0, 10.0)
    assert [t for t, _, _ in F.at_risk_shown(fig)] == [0.0, 4.0, 10.0]


def test_km_from_plan_draws_the_analysis_selection(tmp_path):
    frame = SIX.assign(keep=[True, True, True, True, True, False])
    plan = {"name": "demo", "label": "Demo", "duration": "months", "event": "dead", "where": {"keep": True}}
    km = km_curves(frame, "months", "dead", label="Shown", where=plan["where"])
    assert km.curves[0].label == "Shown" and km.curves[0].n == 5
    # by hand without the patient dying at 8: 4/5, then 4/5 * 3/4 = 3/5, then 3/5 * 1/2 = 3/10, censored at 7
    np.testing.assert_allclose(F.step_coordinates(km.curves[0])[1], [1, 4 / 5, 3 / 5, 3 / 10, 3 / 10])


# ----------------------------------------------------------------------------------------------
# Files and determinism
# ----------------------------------------------------------------------------------------------


def _all_figures():
    """One figure of every kind, from small synthetic frames."""
    _, km = _km_six(show_ci=True)
    flow_a = F.plot_flow(F.flow_diagram(_attrition(20, [("outside the study period", 6), ("lung G3", 2)], [5, 7])),
                         STYLE)
    flow_b = F.plot_flow(F.flow_diagram(_attrition(30, [("other extrahepatic disease", 3), ("outside", 2)], [5, 20],
                                                   ["LB", "L"]), _match(5, 5, 5, 20, 19, 10)), STYLE)
    items = [BarItem("a", "Item a", "Symptoms"), BarItem("b", "Item b", "Management")]
    bars = F.plot_bars(bar_counts(pd.DataFrame({"a": [True, False, True], "b": [False, False, True]}), items),
                       STYLE, xlabel="Patients (%)", note="Denominator: all 3")
    ps = F.plot_ps_distribution(_scores(), STYLE, treated=("LB", "LB"), control=("L", "L"))
    love = F.plot_love(_balance(), STYLE)
    forest = F.plot_forest(_effects(), STYLE, favours=("lower in LB", "higher in LB"))
    return {"km": km, "flow_a": flow_a, "flow_b": flow_b, "bars": bars, "ps": ps, "love": love, "forest": forest}


def _scores():
    return pd.DataFrame({
        "patient_id": [f"S{i}" for i in range(8)],
        "group": ["LB", "LB", "L", "L", "L", "L", "L", "L"],
        "ps": [0.6, 0.4, 0.5, 0.3, 0.2, 0.1, 0.05, 0.45],
        "logit_ps": [0.5, -0.5, 0.0, -1.0, -1.5, -2.0, -3.0, -0.2],
        "matched": [True, True, True, True, False, False, False, True],
    })


def _balance():
    return pd.DataFrame({"covariate": ["age_years", "sex", "year_of_resection"],
                         "smd_before": [0.35, -0.05, -0.42], "smd_after": [0.04, 0.02, -0.08]})


def _effects():
    return pd.DataFrame({
        "analysis": ["cox_unadjusted", "cox_adjusted", "ipw"],
        "label": ["Cox, unadjusted", "Cox, adjusted", "Inverse probability weighting"],
        "hr": [1.9, 2.2, 1.5], "lower": [1.1, 1.2, 0.7], "upper": [3.3, 4.1, 3.2], "p": [0.02, 0.011, 0.3],
        "n": [125, 125, 425], "events": [70, 70, 200], "method": ["cox", "cox", "ipw"],
    })


@pytest.mark.slow
def test_every_figure_writes_png_and_pdf_and_reruns_byte_identically(tmp_path):
    first = _all_figures()
    second = _all_figures()
    for name, fig in first.items():
        png, pdf = tmp_path / f"{name}.png", tmp_path / f"{name}.pdf"
        F.save_figure(fig, png, pdf, dpi=60)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert pdf.read_bytes()[:5] == b"%PDF-", name
        png2, pdf2 = tmp_path / f"{name}-2.png", tmp_path / f"{name}-2.pdf"
        F.save_figure(second[name], png2, pdf2, dpi=60)
        assert _sha(png) == _sha(png2), f"{name}.png differs on rerun"
        assert _sha(pdf) == _sha(pdf2), f"{name}.pdf differs on rerun"
        raw = pdf.read_bytes()
        assert b"CreationDate" not in raw and b"Matplotlib" not in raw, name
        assert b"Software" not in png.read_bytes() and b"matplotlib" not in png.read_bytes().lower(), name


@pytest.mark.slow
def test_rerun_in_a_fresh_process_gives_identical_bytes(tmp_path):
    here = tmp_path / "here"
    F.save_figure(_km_six(show_ci=True)[1], here.with_suffix(".png"), here.with_suffix(".pdf"), dpi=100)
    code = (
        "import sys; sys.path.insert(0, %r); import test_figures as T; from nenbone.presentation import figures as F; "
        "F.save_figure(T._km_six(show_ci=True)[1], %r, %r, dpi=100)"
        % (str(Path(__file__).parent), str(tmp_path / "there.png"), str(tmp_path / "there.pdf"))
    )
    env = dict(os.environ, PYTHONHASHSEED="12345", SOURCE_DATE_EPOCH="1")
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path)
    assert _sha(here.with_suffix(".png")) == _sha(tmp_path / "there.png")
    assert _sha(here.with_suffix(".pdf")) == _sha(tmp_path / "there.pdf")


def test_png_has_the_requested_resolution(tmp_path):
    from PIL import Image

    fig = _km_six()[1]
    F.save_figure(fig, tmp_path / "a.png", tmp_path / "a.pdf", dpi=150)
    image = Image.open(tmp_path / "a.png")
    fw, fh = fig.get_size_inches()
    assert abs(image.size[0] - fw * 150) < 1 and abs(image.size[1] - fh * 150) < 1
    assert image.info["dpi"] == pytest.approx((150, 150), abs=0.05)  # stored as pixels per metre


@pytest.fixture(scope="module")
def all_figures():
    return _all_figures()


def test_no_text_overlaps_or_leaves_the_canvas(all_figures):
    for name, fig in all_figures.items():
        assert F.layout_problems(fig) == [], name


def _attrition(n: int, exclusions: list[tuple[str, int]], groups: list[int],
               labels: tuple[str, ...] | list[str] = ("With BMs", "Without BMs")) -> dict:
    """An attrition document (results/derived/<study>.attrition.json) of two stages."""
    return {"stages": [{"label": "Screened", "n": n, "excluded": []},
                       {"label": "Eligible", "n": n - sum(k for _, k in exclusions),
                        "excluded": [{"reason": r, "n": k} for r, k in exclusions]}],
            "groups": [{"label": lab, "n": k} for lab, k in zip(labels, groups)]}


def _match(n_t: int, model_t: int, matched_t: int, n_c: int, model_c: int, matched_c: int) -> dict:
    """A match attrition document (results/matched/<study>_attrition.json); missing age explains the rest."""
    def one(group, n, model, matched):
        missing = [{"variable": "age_years", "label": "Age at hepatic resection", "n": n - model}] if n - model else []
        return {"group": group, "n": n, "n_in_model": model, "excluded_missing": missing,
                "n_missing_any": n - model, "n_matched": matched, "n_unmatched": model - matched}
    return {"groups": [one("LB", n_t, model_t, matched_t), one("L", n_c, model_c, matched_c)]}


def test_flow_diagrams_with_long_labels_and_large_counts_keep_boxes_apart():
    # the size of the real cohorts, with the longest labels the rules use
    a = F.flow_diagram(_attrition(14590, [("diagnosed outside the study period", 1400), ("G3 lung NEN", 1070)],
                                  [850, 12120 - 850], ["With bone metastases (BMs)", "Without BMs"]))
    b = F.flow_diagram(_attrition(4550, [("other extrahepatic disease", 300), ("outside the study period", 10)],
                                  [250, 3990], ["LB", "L"]), _match(250, 250, 250, 3990, 3720, 1000),
                       {"LB": "HRmNET/LB (liver + bone)", "L": "HRmNET/L (liver only)"})
    for diagram in (a, b):
        assert F.layout_problems(F.plot_flow(diagram, STYLE)) == []
    crowded = F.FlowDiagram([F.FlowBox(b.key, b.text, 0.5, 0.0) for b in a.boxes[:2]], [])
    assert F.overlapping_boxes(F.plot_flow(crowded, STYLE)) != []  # the check itself can fail


def test_figures_fit_the_figure_column_and_use_only_the_palette_for_data(all_figures):
    figs = all_figures
    for name, fig in figs.items():  # drawn at the width the PDF places them: 120 mm of 164 mm
        assert fig.get_size_inches()[0] <= 120 / 25.4 + 1e-9, name
    (curve,) = _lines(figs["km"], F.GID_CURVE)
    assert curve.get_color().upper() == OKABE_ITO["blue"].upper()


def test_no_patient_identifier_is_drawn(all_figures):
    ids = set(SIX["patient_id"]) | set(_scores()["patient_id"])
    for name, fig in all_figures.items():
        assert not any(pid in text for text in _texts(fig) for pid in ids), name


# ----------------------------------------------------------------------------------------------
# Flow diagrams
# ----------------------------------------------------------------------------------------------


def test_flow_diagram_draws_the_attrition_it_is_given():
    d = F.flow_diagram(_attrition(1459, [("outside the study period", 140), ("lung G3", 107)], [85, 1127]))
    text = {b.key: b.text for b in d.boxes}
    assert text["stage0"] == "Screened\nn = 1459"
    assert text["stage1"] == "Eligible\nn = 1212"  # 1459 - 140 - 107
    assert "Excluded: n = 247" in text["out1"]
    excluded = " ".join(text["out1"].split())  # wrapped to the box
    assert "\u2022 outside the study period: 140" in excluded and "\u2022 lung G3: 107" in excluded
    assert text["group0"] == "With BMs\nn = 85" and text["group1"] == "Without BMs\nn = 1127"
    assert d.footer == "" and not any(b.key.startswith("matched") for b in d.boxes)


def test_flow_diagram_refuses_counts_that_do_not_add_up():
    doc = _attrition(1459, [("outside the study period", 140)], [85, 1234])
    doc["stages"][1]["n"] = 1212  # 1459 - 140 = 1319, not 1212
    with pytest.raises(F.FigureInputError, match="less 140 excluded is not 'Eligible' \\(1212\\)"):
        F.flow_diagram(doc)
    with pytest.raises(F.FigureInputError, match="groups \\(1085\\) do not add up to 'Eligible' \\(1319\\)"):
        F.flow_diagram(_attrition(1459, [("outside the study period", 140)], [85, 1000]))


def test_flow_diagram_of_a_matched_design_shows_who_was_matched():
    d = F.flow_diagram(_attrition(30, [("other extrahepatic disease", 3), ("outside", 2)], [5, 20], ["LB", "L"]),
                       _match(5, 5, 5, 20, 19, 10), {"LB": "Bone"})
    text = {b.key: b.text for b in d.boxes}
    assert text["group0"] == "Bone\nn = 5" and text["group1"] == "L\nn = 20"
    assert text["matched0"] == "Matched\nn = 5" and text["matched1"] == "Matched\nn = 10"
    # who is not matched stands outside the Matched box, in a side box on the group's trunk
    assert "notmatched0" not in text
    # the covariate by its codebook label, never by the variable's name
    assert " ".join(text["notmatched1"].split()) == \
        "Excluded: n = 10 \u2022 not matched: 9 \u2022 age at hepatic resection missing: 1"
    side = next(b for b in d.boxes if b.key == "notmatched1")
    assert side.side and side.x < 0.75 and d.trunk["notmatched1"] == 0.75
    assert d.footer == "Matched cohort: n = 15"


def test_flow_diagram_refuses_a_missing_covariate_without_its_label():
    match = _match(5, 5, 5, 20, 19, 10)
    del match["groups"][1]["excluded_missing"][0]["label"]
    with pytest.raises(F.FigureInputError, match="no label for age_years"):
        F.flow_diagram(_attrition(30, [("other extrahepatic disease", 3), ("outside", 2)], [5, 20], ["LB", "L"]), match)


# ----------------------------------------------------------------------------------------------
# Bars (Study A management)
# ----------------------------------------------------------------------------------------------


def test_bar_counts_by_hand_with_both_denominators():
    frame = pd.DataFrame({
        "patient_id": list("abcde"),
        "ever": [True, True, True, False, False],
        "pain": pd.array([True, True, False, pd.NA, pd.NA], dtype="boolean"),  # NA outside the ever symptomatic
        "rt": [True, False, False, False, True],
    })
    items = [BarItem("pain", "Pain", "Symptoms", "ever"), BarItem("rt", "Radiotherapy", "Management")]
    counts = bar_counts(frame, items)
    assert counts[["n", "denominator"]].values.tolist() == [[2, 3], [2, 5]]
    assert counts["percent"].tolist() == pytest.approx([200 / 3, 40.0])
    note = F.denominator_note(counts, {"all": "patients with BMs", "ever": "ever symptomatic"})
    assert "5 patients with BMs" in note and "pain: 3 ever symptomatic" in note
    fig = F.plot_bars(counts, STYLE, xlabel="Patients (%)", note=note)
    widths = [p.get_width() for p in fig.axes[0].patches if p.get_gid() == "bars"]
    assert widths == pytest.approx([200 / 3, 40.0])
    assert "2/3 (67%)" in _texts(fig) and "2/5 (40%)" in _texts(fig)
    with pytest.raises(SelectionError, match="'pain' missing for patient\\(s\\) d, e"):
        bar_counts(frame, [BarItem("pain", "Pain", "Symptoms")])


# ----------------------------------------------------------------------------------------------
# Propensity scores, Love plot, forest plot
# ----------------------------------------------------------------------------------------------


def test_ps_distribution_bars_are_percent_of_each_group_by_hand():
    scores = _scores()
    fig = F.plot_ps_distribution(scores, STYLE, treated=("LB", "LB"), control=("L", "L"), bins=2)
    before, after = fig.axes[0], fig.axes[1]
    # bins over [-3, 0.5]: edges -3, -1.25, 0.5. Before: LB 0 / 2 and L {-3, -1.5, -2} / 6 in the first bin.
    heights = lambda ax, gid: [p.get_height() for p in ax.patches if p.get_gid() == gid]  # noqa: E731
    assert heights(before, "ps-LB") == pytest.approx([0.0, 100.0])
    assert heights(before, "ps-L") == pytest.approx([-50.0, -50.0])
    # after matching: L matched are 0.0, -1.0, -0.2 (all in the second bin)
    assert heights(after, "ps-L") == pytest.approx([0.0, -100.0])
    assert "After matching (LB n = 2; L n = 3)" in _texts(fig) and "Before matching (LB n = 2; L n = 6)" in _texts(fig)


def test_love_plot_points_equal_input_smds():
    bal = _balance()
    fig = F.plot_love(bal, STYLE, labels=["Age (years)", "Sex", "Year of resection"])
    ax = fig.axes[0]
    before, after = _lines(fig, "smd-before")[0], _lines(fig, "smd-after")[0]
    names = [t.get_text() for t in ax.get_yticklabels()]
    by_label = {"Age (years)": "age_years", "Sex": "sex", "Year of resection": "year_of_resection"}
    assert names[0] == "Year of resection"  # largest |SMD| before matching (0.42) first
    for i, name in enumerate(names):
        row = bal.loc[bal["covariate"] == by_label[name]].iloc[0]
        assert before.get_xdata()[i] == row["smd_before"]
        assert after.get_xdata()[i] == row["smd_after"]
        assert before.get_ydata()[i] == after.get_ydata()[i] == i
    refs = sorted(ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() == "--")
    assert refs == [-0.1, 0.1]


def test_love_plot_uses_label_column_per_row_and_marks_infinite_smd():
    bal = pd.DataFrame({
        "label": ["Sex: female", "Sex: male", "Grade 1-2"], "covariate": ["sex", "sex", "grade_g12"],
        "level": ["female", "male", "1"], "smd_before": [0.3, -0.3, float("inf")], "smd_after": [0.05, -0.05, 0.0],
    })
    fig = F.plot_love(bal, STYLE)
    names = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert names == ["Grade 1-2", "Sex: female", "Sex: male"]
    (inf_marker,) = _lines(fig, "smd-infinite")
    assert inf_marker.get_marker() == ">" and inf_marker.get_xdata()[0] == fig.axes[0].get_xlim()[1]


def test_covariate_labels_from_codebook_including_levels():
    class V:
        def __init__(self, label, unit=None):
            self.label, self.unit = label, unit

    class CB:
        variables = {"sex": V("Sex")}
        derived = {"age_years": V("Age at hepatic resection", "years"), "primary_group": V("Primary tumour group"),
                   "grade_g12": V("Grade 1-2")}

    bal = pd.DataFrame({"covariate": ["age_years", "primary_group", "sex", "mystery", "grade_g12"],
                        "level": ["", "pancreas", "female", None, "1"]})
    assert F.covariate_labels(bal, CB()) == [
        "Age at hepatic resection (years)", "Primary tumour group: pancreas", "Sex: female", "mystery", "Grade 1-2",
    ]
    bal2 = pd.DataFrame({"covariate": ["primary_group", "primary_group"], "level": ["GI", "pancreas"]})
    assert F.covariate_labels(bal2, CB()) == ["Primary tumour group: GI", "Primary tumour group: pancreas"]
    assert F.covariate_labels(bal2.assign(label=["a", "b"]), CB()) == ["a", "b"]


def test_forest_plot_points_text_and_log_axis():
    eff = _effects()
    fig = F.plot_forest(eff, STYLE)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    (points,) = _lines(fig, "forest-hr")
    assert list(points.get_xdata()) == [1.9, 2.2, 1.5]
    texts = [t.get_text() for t in fig.axes[1].texts if t.get_gid() == "forest-text"]
    assert texts == ["1.90 (1.10\u20133.30)", "2.20 (1.20\u20134.10)", "1.50 (0.70\u20133.20)"]
    assert any(ln.get_xdata()[0] == 1.0 for ln in ax.get_lines())  # HR = 1 reference line
    lo, hi = ax.get_xlim()
    assert lo <= 0.7 and hi >= 4.1
    bad = eff.assign(lower=[1.1, 0.0, 0.7])
    with pytest.raises(F.FigureInputError, match="Cox, adjusted"):
        F.plot_forest(bad, STYLE)


def test_forest_plot_sections_put_headers_above_their_rows():
    eff = _effects().assign(analysis=["cox_unadjusted", "cox_adjusted", "sensitivity"])
    fig = F.plot_forest(eff, STYLE, sections={"sensitivity": "Sensitivity", "*": "Main"})
    ax = fig.axes[0]
    headers = [(t.get_text(), t.xy[1]) for t in ax.texts if t.get_gid() == "forest-section"]
    assert [h for h, _ in headers] == ["Main", "Sensitivity"]
    (points,) = _lines(fig, "forest-hr")
    rows = list(points.get_ydata())
    assert headers[0][1] < rows[0] < rows[1] < headers[1][1] < rows[2]  # top to bottom: header, its rows, ...
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Cox, unadjusted", "Cox, adjusted",
                                                            "Inverse probability\nweighting"]
    assert F.overlapping_texts(fig) == [] and F.outside_figure(fig) == []


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("p", "text"), [
    (0.03, "p = 0.030"), (0.0004, "p < 0.001"), (0.0049, "p = 0.0049"), (0.049, "p = 0.049"),
    (0.0496, "p = 0.0496"), (0.42, "p = 0.42"), (0.125, "p = 0.13"), (None, "p not available"),
])
def test_format_p_matches_the_text_rule(p, text):
    assert p_label(p) == text


def test_format_number_rounds_half_up_and_marks_not_reached():
    assert F.format_number(14.05) == "14.1"  # binary 14.05 is 14.0500000000000007
    assert F.format_number(2.25) == "2.3"
    assert F.format_number(None) == "NR"


def test_flow_diagrams_hide_small_counts_and_their_complements():
    import re

    # screened 20: excluded 6 + 2 (2 small, and 6 hidden with it), 12 eligible, 5 with BMs, 7 without
    d = F.flow_diagram(_attrition(20, [("outside the study period", 6), ("lung G3", 2)], [5, 7]), min_cell_count=5)
    a = {b.key: b.text for b in d.boxes}
    assert "period: suppressed" in a["out1"] and "lung G3: <5" in a["out1"]  # (wrapped)
    assert "n = 8" in a["out1"] and a["stage1"].endswith("n = 12") and a["group0"].endswith("n = 5")
    # BMs 3 of 12: 3 hidden, and the 9 without (12 - 9 = 3) with it
    a = {b.key: b.text for b in F.flow_diagram(_attrition(20, [("x", 8)], [3, 9]), min_cell_count=5).boxes}
    assert a["group0"].endswith("n = <5") and a["group1"].endswith("n = suppressed")
    # matched design: LB 5 = 4 matched + 1 unmatched, both hidden; L 24 = 10 matched + 14 unmatched
    d = F.flow_diagram(_attrition(35, [("x", 6)], [5, 24], ["LB", "L"]), _match(5, 5, 4, 24, 24, 10),
                       min_cell_count=5)
    b = {t.key: t.text for t in d.boxes}
    assert b["matched0"] == "Matched\nn = <5" and b["matched1"] == "Matched\nn = 10"
    assert b["notmatched0"] == "Excluded: n = <5" and "n = 14" in b["notmatched1"]
    assert d.footer == "Matched cohort: n = suppressed"  # 14 = total - 10 would give the hidden 4 away
    texts = " ".join([*b.values(), d.footer])
    assert "n = 5" in b["group0"] and not re.search(r"\b4\b", texts)
    # no threshold: every count
    d = F.flow_diagram(_attrition(35, [("x", 6)], [5, 24], ["LB", "L"]), _match(5, 5, 4, 24, 24, 10))
    assert {t.key: t.text for t in d.boxes}["matched0"] == "Matched\nn = 4"
    assert {t.key: t.text for t in d.boxes}["notmatched0"] == "Excluded: n = 1\n(not matched)"


def test_km_legend_hides_events_whose_censored_remainder_is_small():
    # six patients, four deaths: 6 - 4 = 2 censored, a count below 3
    _, fig = _km_six(min_cell_count=3)
    assert any(t.startswith("All (n = 6; suppressed events)") for t in _texts(fig))
    _, fig = _km_six()
    assert any(t.startswith("All (n = 6; 4 events)") for t in _texts(fig))


def test_km_curve_size_hidden_when_the_left_out_remainder_is_small():
    km = km_curves(SIX, "months", "dead", label="All", at_risk_times=TIMES)
    split = F.KMInput(km.curves, km.logrank_p, km.row_labels, n_selected=8)  # 8 - 6 = 2 left out
    fig = F.plot_km(split, STYLE, at_risk_times=TIMES, xlabel="t", ylabel="S", min_cell_count=3)
    assert any(t.startswith("All (n = suppressed; suppressed events)") for t in _texts(fig))
    assert [n for _, _, n in sorted(F.at_risk_shown(fig))] == ["–", "–", "3", "<3", "<3"]  # 6 at t = 0 and 2
    fig = F.plot_km(F.KMInput(km.curves, km.logrank_p, km.row_labels, n_selected=20), STYLE, at_risk_times=TIMES,
                    xlabel="t", ylabel="S", min_cell_count=3)
    assert [n for _, _, n in sorted(F.at_risk_shown(fig))] == ["6", "6", "3", "<3", "<3"]


def test_bars_hide_a_count_whose_complement_is_small():
    counts = pd.DataFrame({"label": ["Analgesia", "Any symptom"], "section": ["M", "M"], "n": [37, 83],
                           "denominator": [85, 85], "denominator_kind": ["all", "all"],
                           "percent": [3700 / 85, 8300 / 85]})
    fig = F.plot_bars(counts, STYLE, xlabel="Patients (%)", min_cell_count=5)
    assert "suppressed/85" in _texts(fig) and "37/85 (44%)" in _texts(fig)  # 85 - 83 = 2 would follow
    assert "83/85 (98%)" in _texts(F.plot_bars(counts, STYLE, xlabel="Patients (%)"))


# ----------------------------------------------------------------------------------------------
# Scaled-Schoenfeld plot
# ----------------------------------------------------------------------------------------------


def _schoenfeld_document():
    """Two models as the analysis writes them (survival.ph_curves): 1 and 3 covariate columns, both ties."""
    x = np.linspace(0.0, 0.8, 5)

    def column(term, covariate, level, coef, chi2, df, p):
        fit = coef + 0.5 * (x - 0.4)
        reference = {"LB": "L", "male": "female"}.get(level)
        return {"term": term, "covariate": covariate, "level": level, "reference": reference,
                "coef": coef, "test": {"term": covariate, "chi2": chi2, "df": df, "p": p},
                "x": x.tolist(), "fit": fit.tolist(), "lower": (fit - 0.8).tolist(), "upper": (fit + 0.8).tolist()}

    ticks = [{"time": 12.0, "x": 0.1}, {"time": 24.0, "x": 0.3}, {"time": 36.0, "x": 0.33}, {"time": 60.0, "x": 0.7}]
    smoother = {"method": "natural spline", "df": 4, "band_se": 2.0, "n_grid": 5}
    models = []
    for ties in ("efron", "breslow"):
        models.append({"analysis": f"cox_unadjusted_{ties}", "label": f"Unadjusted ({ties})", "ties": ties,
                       "transform": "km", "n": 125, "events": 79, "time_ticks": ticks, "smoother": smoother,
                       "global": {"chi2": 0.6022, "df": 1, "p": 0.4377},
                       "columns": [column("group[T.LB]", "group", "LB", 0.575, 0.6022, 1, 0.4377)]})
        models.append({"analysis": f"cox_adjusted_{ties}", "label": f"Adjusted ({ties})", "ties": ties,
                       "transform": "km", "n": 125, "events": 79, "time_ticks": ticks, "smoother": smoother,
                       "global": {"chi2": 4.07, "df": 3, "p": 0.254},
                       "columns": [column("group[T.LB]", "group", "LB", 0.613, 1.41, 1, 0.234),
                                   column("age_years", "age_years", None, -0.005, 0.55, 1, 0.457),
                                   column("sex[T.male]", "sex", "male", 0.046, 0.0101, 1, 0.92)]})
    return {"exposure": "group", "duration": "os_months", "models": models}


def test_schoenfeld_plot_one_panel_per_covariate_per_model_with_its_test(tmp_path):
    doc = _schoenfeld_document()
    models = F.schoenfeld_models(doc, "efron")
    assert [m["analysis"] for m in models] == ["cox_unadjusted_efron", "cox_adjusted_efron"]
    labels = {"group[T.LB]": "Study group: LB vs L", "age_years": "Age (years)", "sex[T.male]": "Sex: male vs female"}
    fig = F.plot_schoenfeld(models, STYLE, labels=labels, time_label="Time (months)\nKaplan-Meier scale")
    panels = [ax for ax in fig.axes if ax.get_gid() == F.GID_PANEL]
    assert len(panels) == 1 + 3
    titles = [ax.get_title(loc="left") for ax in panels]
    assert titles == ["Study group: LB vs L\n\u03c7\u00b2 = 0.60, df = 1, p = 0.44",
                      "Study group: LB vs L\n\u03c7\u00b2 = 1.41, df = 1, p = 0.23",
                      "Age (years)\n\u03c7\u00b2 = 0.55, df = 1, p = 0.46",
                      "Sex: male vs female\n\u03c7\u00b2 = 0.01, df = 1, p = 0.92"]
    assert [ax.get_ylabel() for ax in panels] == ["\u03b2(t)"] * 4
    cols = [c for m in models for c in m["columns"]]
    for ax, col in zip(panels, cols, strict=True):
        (curve,) = [ln for ln in ax.get_lines() if ln.get_gid() == F.GID_BETA_T]
        assert curve.get_xydata().tolist() == [[a, b] for a, b in zip(col["x"], col["fit"], strict=True)]
        (coef,) = [ln for ln in ax.get_lines() if ln.get_gid() == F.GID_COEF]
        (zero,) = [ln for ln in ax.get_lines() if ln.get_gid() == F.GID_ZERO]
        assert coef.get_ydata()[0] == col["coef"] and zero.get_ydata()[0] == 0
        band = [c for c in ax.collections if c.get_gid() == F.GID_BAND]
        assert len(band) == 1
        # time ticks: 60 (a multiple of 5 steps) first, then 24, then 12; 36 is too close to 24 (0.03 < 0.104)
        assert [t.get_text() for t in ax.get_xticklabels()] == ["12", "24", "60"]
    texts = _texts(fig)
    assert "\u03b2(t), natural spline (4 df)" in texts and "\u00b12 SE band" in texts
    assert any("Adjusted (efron): 79 events in 125 patients; global test \u03c7\u00b2 = 4.07, df = 3, p = 0.25" in
               t.replace("\n", " ") for t in texts)
    assert F.layout_problems(fig) == []
    assert fig.get_size_inches()[0] <= 180 / 25.4
    F.save_figure(fig, tmp_path / "a.png", tmp_path / "a.pdf", dpi=60)
    again = F.plot_schoenfeld(models, STYLE, labels=labels, time_label="Time (months)\nKaplan-Meier scale")
    F.save_figure(again, tmp_path / "b.png", tmp_path / "b.pdf", dpi=60)
    assert _sha(tmp_path / "a.png") == _sha(tmp_path / "b.png") and _sha(tmp_path / "a.pdf") == _sha(tmp_path / "b.pdf")
    with pytest.raises(F.FigureInputError, match="no Cox model with 'exact' ties"):
        F.schoenfeld_models(doc, "exact")
    broken = _schoenfeld_document()
    broken["models"][0]["columns"][0]["upper"] = broken["models"][0]["columns"][0]["upper"][:-1]
    with pytest.raises(F.FigureInputError, match="unequal length"):
        F.schoenfeld_models(broken, "efron")


def test_schoenfeld_labels_and_time_axis_from_the_codebook():
    from types import SimpleNamespace

    codebook = SimpleNamespace(variables={}, derived={
        "group": SimpleNamespace(label="Study group", unit=None), "sex": SimpleNamespace(label="Sex", unit=None),
        "age_years": SimpleNamespace(label="Age at resection", unit="years"),
        "os_months": SimpleNamespace(label="Overall survival", unit="months")})
    doc = _schoenfeld_document()
    models = F.schoenfeld_models(doc, "efron")
    assert F.column_labels(models, codebook) == {"group[T.LB]": "Study group: LB vs L",
                                                 "age_years": "Age at resection (years)",
                                                 "sex[T.male]": "Sex: male vs female"}
    assert F.time_axis_label(doc, codebook) == "Time (months)\nKaplan-Meier scale"


def test_km_numbers_at_risk_one_to_k_minus_1_apart_are_hidden_and_the_curve_ends_below_k():
    # SIX at t = 0, 3, 4, 6, 8: durations >= t are 6, 5 ({3, 3, 5, 7, 8}), 3, 2, 1 (by hand)
    times = [0, 3, 4, 6, 8]
    km = km_curves(SIX, "months", "dead", label="All", at_risk_times=times)
    fig = F.plot_km(km, STYLE, at_risk_times=times, xlabel="t", ylabel="S", min_cell_count=2)
    # k = 2: 6; 5 is 1 below 6 (the death and the censoring at 3 would be read off): '–'; 3 (3 below 6);
    # 2 is 1 below 3: '–'; 1 is '<2'
    assert [n for _, _, n in sorted(F.at_risk_shown(fig))] == ["6", "–", "3", "–", "<2"]
    # the curve stops at 7 months, the last step with 2 at risk (the death at 8 of the last patient is not drawn)
    (curve,) = _lines(fig, F.GID_CURVE)
    np.testing.assert_allclose(curve.get_xdata(), [0, 2, 3, 5, 7])
    np.testing.assert_allclose(curve.get_ydata(), [float(s) for s in SIX_S[:-1]], rtol=0, atol=1e-12)
    (ticks,) = _lines(fig, F.GID_CENSOR)
    np.testing.assert_allclose(ticks.get_xdata(), [3.0, 7.0])
    # k = 4: cut after 3 months (5 at risk; 3 at the death at 5); the median (5) lies beyond: no dashed line
    fig = F.plot_km(km, STYLE, at_risk_times=times, xlabel="t", ylabel="S", min_cell_count=4)
    (curve,) = _lines(fig, F.GID_CURVE)
    np.testing.assert_allclose(curve.get_xdata(), [0, 2, 3])
    assert _lines(fig, F.GID_MEDIAN) == []
    # without control: every number and the whole curve
    fig = F.plot_km(km, STYLE, at_risk_times=times, xlabel="t", ylabel="S")
    assert [n for _, _, n in sorted(F.at_risk_shown(fig))] == ["6", "5", "3", "2", "1"]
    np.testing.assert_allclose(_lines(fig, F.GID_CURVE)[0].get_xdata(), SIX_X)


def test_km_median_of_a_curve_smaller_than_k_is_hidden():
    km = km_curves(SIX, "months", "dead", label="All", at_risk_times=TIMES)
    fig = F.plot_km(km, STYLE, at_risk_times=TIMES, xlabel="t", ylabel="S", min_cell_count=7)  # 6 patients
    assert any("median suppressed" in t for t in _texts(fig)) and not any("median 5" in t for t in _texts(fig))
    (curve,) = _lines(fig, F.GID_CURVE)
    np.testing.assert_allclose(curve.get_xdata(), [0])  # nothing drawn past time 0
    assert any("median 5" in t for t in _texts(_km_six()[1]))


def test_km_single_curve_hides_its_n_when_the_patients_left_out_for_missing_values_are_few():
    # SIX plus one patient without a time: the plan selected 7, the curve has 6, 7 - 6 = 1 left out
    frame = pd.concat([SIX, pd.DataFrame({"patient_id": ["T7"], "months": [float("nan")], "dead": [1]})], ignore_index=True)
    km = km_curves(frame, "months", "dead", label="All", at_risk_times=TIMES)
    assert km.n_selected == 7 and km.curves[0].n == 6
    fig = F.plot_km(km, STYLE, at_risk_times=TIMES, xlabel="t", ylabel="S", min_cell_count=3)
    assert any(t.startswith("All (n = suppressed; suppressed events)") for t in _texts(fig))
    assert [n for _, _, n in sorted(F.at_risk_shown(fig))] == ["–", "–", "3", "<3", "<3"]
    assert any(t.startswith("All (n = 6; 4 events)") for t in _texts(F.plot_km(km, STYLE, at_risk_times=TIMES,
                                                                                 xlabel="t", ylabel="S")))
