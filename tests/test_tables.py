"""Descriptive tables: cells and tests computed by hand on a small frame."""

import math

import pandas as pd

from nenbone.analysis import descriptive as ds
from nenbone.presentation.tables import TableSettings, describe_table, to_markdown


def describe(frame, rows, settings, group=None, group_labels=None):
    """The table as the workflow makes it: the analysis' numbers, printed."""
    return describe_table(ds.describe(frame, rows, settings.chi_square_correction, group, group_labels), settings)

FRAME = pd.DataFrame({
    "grp": ["a", "a", "a", "a", "b", "b", "b", "b", "b", "b"],
    "age": [40, 50, 60, 70, 30, 35, 45, 55, 65, 75],
    "flag": [True, True, False, None, True, False, False, False, True, False],
    "site": ["x", "y", "x", "x", "y", "y", "z", "x", "y", "z"],
})
ROWS = [
    {"variable": "age", "label": "Age", "kind": "continuous"},
    {"variable": "flag", "label": "Flag", "kind": "binary"},
    {"variable": "site", "label": "Site", "kind": "categorical", "levels": ["x", "y", "z"]},
]


def test_cells_follow_spss_conventions():
    t = describe(FRAME, ROWS, TableSettings(), group="grp", group_labels={"a": "A", "b": "B"})
    assert list(t.columns) == ["Characteristic", "Level", "A (n = 4)", "B (n = 6)", "p", "Test"]
    # (n+1)p rule: group a ages 40,50,60,70 -> Q1 at 1.25 -> 42.5, median 55, Q3 at 3.75 -> 67.5
    assert t.iloc[0]["A (n = 4)"] == "55 (42.5–67.5)"
    # flag: a has 2 of 3 known (one missing is out of the denominator, so it is printed), b has 2 of 6
    assert t.iloc[1]["A (n = 4)"] == "2/3 (67%)" and t.iloc[1]["B (n = 6)"] == "2 (33%)"
    # the missing value is a line of its own, a count per group
    assert t.iloc[2]["Level"] == "Missing" and t.iloc[2]["A (n = 4)"] == "1" and t.iloc[2]["B (n = 6)"] == "0"
    # uncorrected Pearson chi-square for [[2, 2], [1, 4]] by hand
    obs = [[2, 2], [1, 4]]
    n = 9
    rows, cols = [4, 5], [3, 6]
    chi2 = sum((obs[i][j] - rows[i] * cols[j] / n) ** 2 / (rows[i] * cols[j] / n) for i in range(2) for j in range(2))
    p = math.erfc(math.sqrt(chi2 / 2))
    assert t.iloc[1]["p"] == f"{round(p, 2):.2f}" and "Pearson" in t.iloc[1]["Test"]
    assert list(t["Level"][4:]) == ["x", "y", "z"] and t.iloc[4]["A (n = 4)"] == "3 (75%)"
    assert "Missing" not in list(t["Level"][4:])  # site is complete: no Missing line


def test_small_cells_are_suppressed():
    t = describe(FRAME, ROWS[1:2], TableSettings(min_cell_count=3), group="grp")
    assert t.iloc[0]["a (n = 4)"] == "<3"


def test_single_group_has_no_tests_and_markdown_escapes():
    t = describe(FRAME, ROWS[:1], TableSettings())
    assert list(t.columns) == ["Characteristic", "All (n = 10)"]
    md = to_markdown(pd.DataFrame({"a|b": ["x|y"]}))
    assert md.splitlines()[0] == "| a\\|b |" and md.splitlines()[2] == "| x\\|y |"


def test_complementary_suppression_within_a_column():
    # column a: x 3, y 1, z 0 (n = 4): y hidden as <3 (k = 3), and x with it, else 4 - 3 - 0 = 1
    t = describe(FRAME, ROWS[2:3], TableSettings(min_cell_count=3), group="grp")
    assert list(t["a (n = 4)"][1:]) == ["suppressed", "<3", "0 (0%)"]
    # column b: x 1, y 3, z 2 (n = 6): x and z small (sum 3, not small), y shown
    assert list(t["b (n = 6)"][1:]) == ["<3", "3 (50%)", "<3"]


def test_a_yes_count_with_a_small_no_count_is_hidden():
    frame = pd.DataFrame({"flag": [True] * 9 + [False]})
    t = describe(frame, ROWS[1:2], TableSettings(min_cell_count=3))
    assert t.iloc[0]["All (n = 10)"] == "suppressed"  # 10 - 9 = 1 would follow
    assert describe(frame, ROWS[1:2], TableSettings())["All (n = 10)"][0] == "9 (90%)"


def test_survival_table_hides_small_counts_and_small_censored_remainders():
    from nenbone.presentation.tables import survival_table

    km = {"median": 10.0, "ci_lower": 5.0, "ci_upper": 20.0}
    results = [{"label": "A", **km, "n": 25, "events": 23}, {"label": "B", **km, "n": 25, "events": 20},
               {"label": "C", **km, "n": 3, "events": 3}]
    t = survival_table(results, min_cell_count=5)
    assert list(t["n"]) == ["25", "25", "<5"] and list(t["Events"]) == ["suppressed", "20", "<5"]
    assert list(survival_table(results)["Events"]) == ["23", "20", "3"]


def test_survival_table_hides_a_curve_size_that_gives_the_left_out_remainder_away():
    from nenbone.presentation.tables import survival_table

    km = {"median": 10.0, "ci_lower": 5.0, "ci_upper": 20.0}
    res = {"label": "By primary", "n_selected": 25, "logrank_p": 0.1,
           "gi": {**km, "group_label": "GI", "n": 14, "events": 8}, "pan": {**km, "group_label": "pancreas", "n": 9, "events": 3}}
    t = survival_table([res], min_cell_count=5)
    assert list(t["n"]) == ["14", "suppressed"] and list(t["Events"]) == ["8", "<5"]
    assert list(survival_table([{**res, "n_selected": 30}], min_cell_count=5)["n"]) == ["14", "9"]


def test_counts_print_whole_and_calendar_years_whole():
    frame = pd.DataFrame({"mets": [1, 2, 2, 10, 3, None], "year": [1990, 1995, 1996, 2001, 2008, 2010]})
    rows = [{"variable": "mets", "label": "Mets", "kind": "continuous"},
            {"variable": "year", "label": "Year", "kind": "continuous", "whole": True}]
    t = describe(frame, rows, TableSettings())
    # mets 1, 2, 2, 3, 10 (n = 5): (n+1)p: Q1 at 1.5 -> 1.5, median 2, Q3 at 4.5 -> 6.5
    assert t.iloc[0]["All (n = 6)"] == "2 (1.5–6.5)"
    assert list(t.iloc[1]) == ["", "Missing", "1"]
    # years: Q1 at 1.75 -> 1993.75 -> 1994 (whole years), median 1998.5 -> 1999, Q3 at 5.25 -> 2008.5 -> 2009
    assert t.iloc[2]["All (n = 6)"] == "1999 (1994–2009)"


def test_a_median_of_a_group_smaller_than_k_is_hidden():
    # group a has 4 ages (40-70), group b 6 (30-75: median of 35, 45, 55, 65 and the ends = 50)
    t = describe(FRAME, ROWS[:1], TableSettings(min_cell_count=5), group="grp")
    assert t.iloc[0]["a (n = 4)"] == "suppressed"
    assert t.iloc[0]["b (n = 6)"] == "50 (33.8–67.5)"  # (n+1)p: Q1 at 1.75 -> 33.75, Q3 at 5.25 -> 67.5
    assert describe(FRAME, ROWS[:1], TableSettings(), group="grp").iloc[0]["a (n = 4)"] == "55 (42.5–67.5)"


MISSING3 = pd.DataFrame({
    "flag": [True] * 10 + [False] * 7 + [None] * 3,  # 10 of the 17 known; 3 missing; n = 20
    "site": ["x"] * 10 + ["y"] * 7 + [None] * 3,
})


def test_a_hidden_missing_count_is_not_given_away_by_the_denominator():
    # without control: '10/17 (59%)' beside n = 20 gives the 3 missing away (20 - 17)
    rows = [ROWS[1], {**ROWS[2], "levels": ["x", "y"]}]
    plain = describe(MISSING3, rows, TableSettings())
    assert list(plain["All (n = 20)"]) == ["10/17 (59%)", "3", "", "10/17 (59%)", "7/17 (41%)", "3"]
    t = describe(MISSING3, rows, TableSettings(min_cell_count=5))
    # yes/no: the count prints bare (no 17, no percentage: 10/0.59 would give 17 back); Missing '<5'.
    # Left: 20 - 10 = 10 = the 7 'no' (unprinted) + the 3 missing: nothing follows.
    # site: bare too, and 7 is hidden as the complement of the Missing count (20 - 10 - 7 = 3 otherwise)
    assert list(t["All (n = 20)"]) == ["10 (–)", "<5", "", "10 (–)", "suppressed", "<5"]


def test_a_denominator_with_a_missing_count_of_k_or_more_is_printed():
    frame = pd.DataFrame({"flag": [True] * 10 + [False] * 7 + [None] * 5})
    t = describe(frame, ROWS[1:2], TableSettings(min_cell_count=5))
    assert list(t["All (n = 22)"]) == ["10/17 (59%)", "5"]


def test_a_level_is_not_given_away_by_the_printed_denominator():
    # x 3, y 50, z 40 of 93 known, 7 missing (n = 100): x hidden; against n = 100 alone hiding the
    # Missing 7 would do, but '50/93' prints 93: 93 - 50 - 40 = 3. z (the smallest other level) goes.
    frame = pd.DataFrame({"site": ["x"] * 3 + ["y"] * 50 + ["z"] * 40 + [None] * 7})
    t = describe(frame, ROWS[2:3], TableSettings(min_cell_count=5))
    assert list(t["All (n = 100)"]) == ["", "<5", "50/93 (54%)", "suppressed", "7"]


def test_effects_tables_hide_small_counts_and_medians_of_small_groups():
    from nenbone.presentation.mayo_report import effects_table

    rows = [{"label": "1:1", "n": 50, "events": 47, "hr": 1.5, "lower": 1.1, "upper": 2.0, "p": 0.01,
             "n_lb": 4, "n_l": 46, "median_lb": 20.0, "median_l": 50.0, "logrank_p": 0.2},
            {"label": "IPTW", "n": 456, "events": 218, "hr": 1.9, "lower": 1.2, "upper": 3.1, "p": 0.007}]
    t = effects_table(rows, with_medians=True, min_cell_count=5)
    first = t.iloc[0]
    # 4 LB patients: '<5' and their median hidden; 50 - 47 = 3 censored: the events hidden
    assert (first["LB, n"], first["Median LB, months"], first["L, n"], first["Median L, months"]) == (
        "<5", "suppressed", "46", "50.0")
    assert (first["n"], first["Events"]) == ("50", "suppressed")
    assert (t.iloc[1]["LB, n"], t.iloc[1]["Median LB, months"], t.iloc[1]["Events"]) == ("", "", "218")
    plain = effects_table(rows, with_medians=True).iloc[0]
    assert (plain["LB, n"], plain["Median LB, months"], plain["Events"]) == ("4", "20.0", "47")
