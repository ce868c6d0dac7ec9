"""Formatting of the supplement's numbers follows the key's name."""

import numpy as np

from nenbone.formatting import p_text
from nenbone.presentation.numbers import build_numbers, format_value


def test_counts_percentages_medians():
    assert format_value("n", 85) == "85"
    assert format_value("n_screened", np.int64(1459)) == "1459"
    assert format_value("pct", 85 / 1212 * 100) == "7%"
    assert format_value("pct", 37 / 85 * 100) == "44%"  # 43.53 -> 44
    assert format_value("pct", 2.5) == "3%"  # half up, as printed in journals
    assert format_value("median", 14.0) == "14.0"
    assert format_value("ci_spss_lower", 3.0999) == "3.1"
    assert format_value("median", None) == "not reached"


def test_p_values_and_ratios():
    assert p_text(0.0349) == "0.035"  # two significant digits
    assert p_text(0.00449) == "0.0045"
    assert p_text(0.0004) == "< 0.001" and p_text(0.000999) == "< 0.001" and p_text(0.001) == "0.0010"
    assert p_text(0.046) == "0.046"  # never "0.05"
    assert p_text(0.0496) == "0.0496" and p_text(0.04996) == "0.04996"  # not rounded up across 0.05
    assert p_text(0.0504) == "0.050" and p_text(0.417) == "0.42" and p_text(0.99999) == "1.0"
    assert format_value("logrank_p", 0.65) == "0.65"
    assert format_value("hr", 1.8449) == "1.84"
    assert format_value("smd_after", -0.0549) == "-0.05"


def test_build_numbers_has_no_raw_section():
    doc = build_numbers({"s": {"bm": {"n": np.int64(85), "pct": np.float64(7.01)}, "os": {"median": float("nan")}}})
    assert doc["s"]["bm"] == {"n": "85", "pct": "7%"}
    assert doc["s"]["os"]["median"] == "not reached"
    assert set(doc) == {"s"}  # unsuppressed values never reach numbers.yml


def test_small_counts_are_suppressed_with_their_percentages():
    # flags (not levels of one variable): each has its own denominator
    doc = build_numbers({"s": {"surgery": {"n": 2, "pct": 2.35, "denominator_n": 85},
                               "rt": {"n": 29, "pct": 34.1, "denominator_n": 85}, "n_eligible": 1212}},
                        min_cell_count=5)
    assert doc["s"]["surgery"] == {"n": "<5", "pct": "–", "denominator_n": "85"}
    assert doc["s"]["rt"] == {"n": "29", "pct": "34%", "denominator_n": "85"} and doc["s"]["n_eligible"] == "1212"
    assert "raw" not in doc


def test_a_count_recoverable_from_its_denominator_is_hidden():
    # 23 of 25: the 2 without would follow by subtraction
    doc = build_numbers({"s": {"x": {"n": 23, "pct": 92.0, "denominator_n": 25},
                               "y": {"n": 20, "pct": 80.0, "denominator_n": 25}}}, min_cell_count=5)
    assert doc["s"]["x"] == {"n": "suppressed", "pct": "–", "denominator_n": "25"}
    assert doc["s"]["y"] == {"n": "20", "pct": "80%", "denominator_n": "25"}


def test_events_whose_censored_remainder_is_small_are_hidden():
    doc = build_numbers({"s": {"os": {"n": 25, "events": 22, "median": 54.0}}}, min_cell_count=5)
    assert doc["s"]["os"] == {"n": "25", "events": "suppressed", "median": "54.0"}


def test_levels_of_one_variable_get_complementary_suppression():
    # 14 + 9 + 2 = 25: hiding 2 alone leaves it as 25 - 14 - 9
    tree = {"s": {"site": {"spine": {"n": 14, "pct": 56.0}, "pelvis": {"n": 9, "pct": 36.0},
                           "other": {"n": 2, "pct": 8.0}}}}
    site = build_numbers(tree, min_cell_count=5)["s"]["site"]
    assert site == {"spine": {"n": "14", "pct": "56%"}, "pelvis": {"n": "suppressed", "pct": "–"},
                    "other": {"n": "<5", "pct": "–"}}
    assert build_numbers(tree)["s"]["site"]["other"] == {"n": "2", "pct": "8%"}


def test_minima_and_maxima_are_hidden_under_control():
    tree = {"s": {"count": {"median": 2.0, "min": 1.0, "max": 10.0, "n": 25}, "age_min": 18.0}}
    assert build_numbers(tree, min_cell_count=5)["s"] == {
        "count": {"median": "2.0", "min": "suppressed", "max": "suppressed", "n": "25", "range": "suppressed"},
        "age_min": "suppressed"}
    assert build_numbers(tree)["s"]["count"]["range"] == "1.0–10.0"


def test_curves_of_a_split_selection_hide_a_size_that_gives_the_remainder_away():
    # LB 25 split by primary: GI 14 and pancreas 9 drawn, 2 'other' left out: 25 - 14 - 9 = 2
    tree = {"s": {"by": {"gi": {"n": 14, "events": 8, "median": 73.3}, "pancreas": {"n": 9, "events": 3, "median": 42.7},
                         "n": 23, "n_selected": 25}}}
    by = build_numbers(tree, min_cell_count=5)["s"]["by"]
    assert by["pancreas"] == {"n": "suppressed", "events": "<5", "median": "42.7"}
    assert by["gi"] == {"n": "14", "events": "8", "median": "73.3"}
    assert by["n"] == "suppressed" and by["n_selected"] == "25"  # 25 - 23 = 2


def test_numbers_at_risk_are_counts():
    tree = {"s": {"os": {"n": 85, "events": 59, "at_risk": {"t0": 85, "t12": 56, "t84": 5, "t120": 1}}}}
    assert build_numbers(tree, min_cell_count=5)["s"]["os"]["at_risk"] == {"t0": "85", "t12": "56", "t84": "5", "t120": "<5"}
    assert build_numbers(tree)["s"]["os"]["at_risk"]["t120"] == "1"
    # a curve whose n is hidden (25 - 14 - 9 = 2 left out) shows no number at risk equal to its n
    split = {"s": {"by": {"gi": {"n": 14, "events": 8, "at_risk": {"t0": 14, "t12": 11}},
                          "pan": {"n": 9, "events": 6, "at_risk": {"t0": 9, "t12": 7}}, "n": 23, "n_selected": 25}}}
    by = build_numbers(split, min_cell_count=5)["s"]["by"]
    # gi: 14 - 11 = 3 died or were censored in the first year: 11 is not printed beside 14
    assert by["pan"]["at_risk"] == {"t0": "–", "t12": "7"} and by["gi"]["at_risk"] == {"t0": "14", "t12": "–"}



def test_interval_carries_its_estimate_decimals_and_counts_are_whole():
    doc = build_numbers({"s": {"cox": {"hr": 1.7849, "lower": 1.1649, "upper": 2.7349, "p": 0.0092, "lower_model": 1.0512},
                               "count": {"median": 2.0, "min": 1.0, "max": 10.0, "q1": 1.5, "integer_valued": True},
                               "age": {"median": 58.0, "integer_valued": False}}})
    assert doc["s"]["cox"] == {"hr": "1.78", "lower": "1.16", "upper": "2.73", "p": "0.0092", "lower_model": "1.05"}
    assert (doc["s"]["count"]["median"], doc["s"]["count"]["min"], doc["s"]["count"]["max"]) == ("2", "1", "10")
    assert doc["s"]["count"]["q1"] == "1.5" and doc["s"]["age"]["median"] == "58.0"


def test_data_origin_text_says_synthetic_only_of_an_embedded_twin():
    from nenbone.presentation.numbers import data_origin_numbers

    twin = {"embedded_twin": True, "embedded_twin_of": "christie"}
    export = {"embedded_twin": False}
    both = data_origin_numbers({"a": twin, "b": twin}, {"a": "Study A", "b": "Study B"})
    assert both["summary"] == "every input was an embedded synthetic twin"
    assert both["studies"]["a"] == {"synthetic": "yes", "input": "the embedded synthetic twin (no real patient)"}
    mixed = data_origin_numbers({"a": export, "b": twin}, {"a": "Study A", "b": "Study B"})
    assert mixed["summary"] == "the inputs mixed embedded synthetic twins and users' exports"
    assert mixed["inputs"].startswith("Study A: a user's export, not an embedded twin: real data; Study B: the embedded")
    real = data_origin_numbers({"a": export}, {})
    assert real["summary"] == "no input was an embedded synthetic twin" and "synthetic twin (" not in real["inputs"]


def test_methods_name_the_sd_the_caliper_is_a_multiple_of():
    from nenbone.presentation.numbers import mayo_methods

    settings = {"period": {"from": "1989-01-01", "to": "2015-08-31"}, "major_resection_min_segments": 3,
                "matching": {"treated_group": "LB", "control_group": "L", "covariates": ["age_years"], "ratio": 4,
                             "caliper_sd_logit": 0.2, "treated_order": "descending_ps", "seed": 1}}
    default = mayo_methods(settings, {})["caliper_sd_text"]
    assert "over every patient in the model (LB and L together, as MatchIt)" in default
    settings["matching"]["caliper_sd_convention"] = "all_units"
    assert mayo_methods(settings, {})["caliper_sd_text"] == default
    settings["matching"]["caliper_sd_convention"] = "pooled_within"
    pooled = mayo_methods(settings, {})["caliper_sd_text"]
    assert pooled.startswith("Austin's pooled standard deviation") and "LB and the L variances" in pooled


def _missing_raw():
    variables = [
        {"table": "baseline", "variable": "grade_g12", "label": "Grade 1-2", "n": 137, "denominator_n": 1212,
         "pct": 100 * 137 / 1212, "n_smallest_group": 12},
        {"table": "baseline", "variable": "functional", "label": "Functional tumour", "n": 3, "denominator_n": 1212,
         "pct": 100 * 3 / 1212, "n_smallest_group": 1},
        {"table": "baseline", "variable": "age_years", "label": "Age, years", "n": 40, "denominator_n": 1212,
         "pct": 100 * 40 / 1212, "n_smallest_group": 2},  # 2 in one group: the total would give it away
    ]
    survival = [{"plan": "os", "label": "Overall survival from BMs", "n": 85, "n_selected": 85},
                {"plan": "onset", "label": "Overall survival from onset", "n": 83, "n_selected": 85}]
    kept = [{"reason": "G3 lung NEN", "primary_group": "lung", "grade": "G3", "n": 23},
            {"reason": "G3 other NEN", "primary_group": "other", "grade": "G3", "n": 0}]
    return {"christie": {"missing_data": {"variables": variables, "survival": survival, "kept_unknown_grade": kept}}}


def test_missing_data_texts_list_each_row_and_plan_with_its_denominator():
    node = build_numbers(_missing_raw())["christie"]["missing_data"]
    # 137/1212 = 11.3%, 3/1212 = 0.25%, 40/1212 = 3.3%
    assert node["variables_text"] == ("Grade 1-2, 137 of 1212 (11%); Functional tumour, 3 of 1212 (0%); "
                                      "Age, years, 40 of 1212 (3%)")
    assert node["survival_text"] == "overall survival from BMs, 85 of 85; overall survival from onset, 83 of 85"
    assert "grade_g12" not in node["variables_text"] + node["survival_text"]
    assert node["eligibility_text"] == ("The exclusion of G3 lung NENs needs a known grade, so 23 eligible patients "
                                        "of the lung primary group without one were kept.")  # none of 'other'
    empty = build_numbers({"s": {"missing_data": {"variables": [], "survival": []}}})["s"]["missing_data"]
    assert (empty["variables_text"], empty["survival_text"]) == ("none", "none")
    assert empty["eligibility_text"] == "No eligibility rule depends on the grade."
    raw = _missing_raw()
    raw["christie"]["missing_data"]["kept_unknown_grade"][0]["n"] = 0
    assert build_numbers(raw)["christie"]["missing_data"]["eligibility_text"] == \
        "Every patient of a primary group with a grade exclusion had a known grade."


def test_missing_data_texts_hide_small_counts_and_what_gives_them_away():
    node = build_numbers(_missing_raw(), min_cell_count=5)["christie"]["missing_data"]
    # 3 is small; 40 is not, but one group's 2 is (the table hides it, the total would give it away);
    # 83 of 85 leaves 2 out: hidden with them
    assert node["variables_text"] == ("Grade 1-2, 137 of 1212 (11%); Functional tumour, <5 of 1212; "
                                      "Age, years, suppressed of 1212")
    assert node["survival_text"] == "overall survival from BMs, 85 of 85; overall survival from onset, suppressed of 85"
    raw = _missing_raw()
    raw["christie"]["missing_data"]["kept_unknown_grade"][0]["n"] = 3
    assert build_numbers(raw, min_cell_count=5)["christie"]["missing_data"]["eligibility_text"].startswith(
        "The exclusion of G3 lung NENs needs a known grade, so <5 eligible patients")


def test_follow_up_text_states_the_codebook_cut_off_or_that_none_is_applied():
    from nenbone.presentation.numbers import follow_up_numbers

    with_cutoff = follow_up_numbers("2018-09-30")
    assert with_cutoff["data_cutoff"] == "30 September 2018"
    assert with_cutoff["cutoff_text"].startswith("Follow-up closed at the data cut-off of 30 September 2018, declared")
    assert "synthetic" not in with_cutoff["cutoff_text"]
    none = follow_up_numbers(None)
    assert none["data_cutoff"] == "none declared"
    assert "declares no data cut-off, and the workflow applies none" in none["cutoff_text"]
    twin = follow_up_numbers(None, "2016-01-31")["cutoff_text"]
    assert twin.endswith("The synthetic twin analysed here was generated with follow-up up to 31 January 2016, "
                         "the cut-off configured for it.")


def test_covariates_missing_for_the_propensity_model_are_worded_by_label_and_suppressed():
    raw = {"mayo": {"ps_missing": {"n_pool": 525, "by_variable": [
        {"label": "Low or intermediate grade (G1/G2)", "n": 69, "denominator_n": 525},
        {"label": "Age at hepatic resection", "n": 3, "denominator_n": 525}]}}}
    assert build_numbers(raw)["mayo"]["ps_missing"]["by_variable_text"] == \
        "low or intermediate grade (G1/G2), 69; age at hepatic resection, 3"
    assert build_numbers(raw, min_cell_count=5)["mayo"]["ps_missing"]["by_variable_text"] == \
        "low or intermediate grade (G1/G2), 69; age at hepatic resection, <5"
    raw["mayo"]["ps_missing"]["by_variable"] = []
    assert build_numbers(raw)["mayo"]["ps_missing"]["by_variable_text"] == "none"


def test_numbers_at_risk_and_survival_at_follow_the_figures_rule():
    # 85, 56 (29 below), 53 (3 below 56: hidden), 50 (6 below 56), 5, 1 ('<5'); time order, not key order
    tree = {"s": {"os": {"n": 85, "events": 59, "median": 31.0,
                         "at_risk": {"t0": 85, "t12": 56, "t120": 1, "t24": 53, "t36": 50, "t84": 5},
                         "survival_at": {"m12": {"pct": 66.0, "n_at_risk": 56}, "m24": {"pct": 62.0, "n_at_risk": 53},
                                         "m30": {"pct": 61.0, "n_at_risk": 51}}}}}
    os_ = build_numbers(tree, min_cell_count=5)["s"]["os"]
    assert os_["at_risk"] == {"t0": "85", "t12": "56", "t24": "–", "t36": "50", "t84": "5", "t120": "<5"}
    # survival at a grid time prints the grid's text; at a time off the grid, no number at risk
    assert [os_["survival_at"][m]["n_at_risk"] for m in ("m12", "m24", "m30")] == ["56", "–", "–"]
    assert os_["survival_at"]["m24"]["pct"] == "62%" and os_["median"] == "31.0"
    plain = build_numbers(tree)["s"]["os"]
    assert plain["at_risk"]["t24"] == "53" and plain["survival_at"]["m30"]["n_at_risk"] == "51"


def test_a_median_of_fewer_than_k_patients_is_suppressed_in_numbers():
    tree = {"s": {"age": {"n": 4, "n_missing": 0, "median": 55.0, "q1": 42.5, "q3": 67.5, "min": 40, "max": 70},
                  "os": {"n": 4, "events": 3, "median": 20.0, "ci_lower": 10.0, "ci_upper": None,
                         "followup": {"months": 30.0, "lower": 12.0, "upper": None},
                         "survival_at": {"m12": {"pct": 75.0, "n_at_risk": 3}}},
                  "big": {"n": 5, "median": 55.0, "q1": 42.5, "q3": 67.5}}}
    s = build_numbers(tree, min_cell_count=5)["s"]
    assert {s["age"][key] for key in ("median", "q1", "q3", "min", "max", "range")} == {"suppressed"}
    assert {s["os"][key] for key in ("median", "ci_lower", "ci_upper")} == {"suppressed"}
    assert set(s["os"]["followup"].values()) == {"suppressed"} and s["os"]["survival_at"]["m12"] == {
        "pct": "suppressed", "n_at_risk": "suppressed"}
    assert (s["big"]["median"], s["big"]["q1"]) == ("55.0", "42.5")
    assert build_numbers(tree)["s"]["age"]["median"] == "55.0"


def test_a_small_number_missing_hides_the_number_known():
    # 82 with a value + 3 missing = the cohort's 85 (printed elsewhere): 82 would give the 3 away
    tree = {"s": {"age": {"n": 82, "n_missing": 3, "median": 60.0}, "bmi": {"n": 80, "n_missing": 5, "median": 25.0}}}
    s = build_numbers(tree, min_cell_count=5)["s"]
    assert (s["age"]["n"], s["age"]["n_missing"]) == ("suppressed", "<5")
    assert (s["bmi"]["n"], s["bmi"]["n_missing"]) == ("80", "5")


def test_a_plan_whose_few_excluded_patients_would_follow_hides_its_n():
    # 85 selected, 82 with a time and an event: 85 - 82 = 3 left out for missing values
    tree = {"s": {"os": {"n": 82, "n_selected": 85, "n_excluded_missing": 3, "events": 50,
                         "at_risk": {"t0": 82, "t12": 70}}}}
    os_ = build_numbers(tree, min_cell_count=5)["s"]["os"]
    assert (os_["n"], os_["n_excluded_missing"], os_["n_selected"]) == ("suppressed", "<5", "85")
    assert os_["events"] == "suppressed"  # as the figure's legend and the survival table print it
    assert os_["at_risk"] == {"t0": "–", "t12": "70"}  # t0 equals the hidden n; 70 is the first printed
    assert build_numbers(tree)["s"]["os"]["n"] == "82"
