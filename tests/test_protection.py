"""One suppression decision per study, population and variable (presentation.protection), consulted by
every output: a table and numbers.yml that show the same counts hide the same cells.

The cohort is built by hand so that, deciding each output on its own, the table and numbers.yml hid
different cells of one variable (their union gave a hidden count back), and numbers.yml printed the
denominator of a variable whose Missing count the table hid (n of the group - denominator = Missing).
"""

from __future__ import annotations

import pandas as pd

from nenbone.presentation.analyses import AnalysisSettings
from nenbone.presentation.christie_analysis import analyse_christie
from nenbone.presentation.numbers import build_numbers

K = 5
ANALYSIS = {"chi_square_correction": False, "confidence_level": 0.95, "at_risk_every_months": 12,
            "survival_at_months": [12]}
PLAN = {"tables": {"baseline": {
    "group": "has_bm", "group_labels": {"True": "Bone metastases", "False": "No bone metastases"},
    "rows": [{"variable": "primary_group", "label": "Primary site", "kind": "categorical",
              "levels": ["GEP", "lung", "unknown", "other"],
              "level_labels": {"GEP": "Gastro-entero-pancreatic", "lung": "Lung", "unknown": "Unknown primary",
                               "other": "Other"}},
             {"variable": "grade_g12", "label": "Grade 1-2", "kind": "binary"}]}}}
NUMBERS = [{"count": "bm", "where": {"has_bm": True}, "flags": {"grade_g12": "grade_g12"},
            "categories": {"primary": "primary_group"}}]


def cohort() -> pd.DataFrame:
    """40 patients with bone metastases: primary GEP 23, lung 3, unknown 7, other 7 (the two 7s tie for
    the complementary cell: the table lists unknown before other, numbers.yml sorts other first); grade
    1-2 in 20, not in 18, unknown in 2. 30 without: GEP 20, lung 10; grade 1-2 in 15 of 30."""
    bm = ([("GEP", True)] * 12 + [("GEP", False)] * 11 + [("lung", True)] * 3 + [("unknown", True)] * 3
          + [("unknown", False)] * 4 + [("other", True)] * 2 + [("other", False)] * 3 + [("other", None)] * 2)
    no_bm = [("GEP", True)] * 10 + [("GEP", False)] * 10 + [("lung", True)] * 5 + [("lung", False)] * 5
    rows = [(True, p, g) for p, g in bm] + [(False, p, g) for p, g in no_bm]
    frame = pd.DataFrame(rows, columns=["has_bm", "primary_group", "grade_g12"])
    frame["grade_g12"] = frame["grade_g12"].astype("boolean")
    frame.insert(0, "patient_id", [f"P{i:03d}" for i in range(len(frame))])
    return frame


def outputs(k: int):
    frame = cohort()
    assert (frame.has_bm.sum(), (frame.has_bm & frame.grade_g12.isna()).sum()) == (40, 2)
    settings = AnalysisSettings(PLAN, NUMBERS, ANALYSIS, "loglog", k)
    result = analyse_christie(frame, len(frame), settings)
    table = result.tables["baseline"].set_index(["Characteristic", "Level"])
    numbers = build_numbers({"s": result.numbers}, k, protected={"s": result.protected})["s"]
    return result, table, numbers


def test_table_and_numbers_hide_the_same_levels_of_a_variable():
    _, table, numbers = outputs(K)
    col = "Bone metastases (n = 40)"
    shown = {level: table.loc[("", label), col] for level, label in
             [("gep", "Gastro-entero-pancreatic"), ("lung", "Lung"), ("unknown", "Unknown primary"), ("other", "Other")]}
    # lung (3) is small; hiding it alone, 40 - 23 - 7 - 7 gives it back: one of the two 7s goes too. Deciding
    # alone, the table hid 'unknown' (listed first) and numbers.yml 'other' (sorted first): together they
    # showed both 7s. Decided once, both outputs hide the same cells.
    assert shown == {"gep": "23 (58%)", "lung": "<5", "unknown": "suppressed", "other": "suppressed"}
    assert {key: numbers["primary"][key]["n"] for key in shown} == {
        "gep": "23", "lung": "<5", "unknown": "suppressed", "other": "suppressed"}
    assert numbers["bm"]["n"] == "40"


def test_a_hidden_missing_count_hides_the_denominator_in_numbers():
    _, table, numbers = outputs(K)
    col = "Bone metastases (n = 40)"
    # the table hides the 2 with unknown grade and prints 20 bare (no /38, no percentage)
    assert table.loc[("Grade 1-2, n (%)", ""), col] == "20 (–)"
    assert table.loc[("", "Missing"), col] == "<5"
    # numbers.yml printed denominator_n 38 beside the group's 40: 40 - 38 = 2; and 20/38 = 53% gives 38 back
    assert numbers["grade_g12"] == {"n": "20", "pct": "–", "denominator_n": "suppressed"}


def test_the_registry_names_cells_not_values_and_is_empty_without_control():
    result, _, _ = outputs(K)
    by_cell = {(r["variable"], tuple(sorted(r["population"].items()))): r for r in result.protected["cells"]}
    primary = by_cell[("primary_group", (("has_bm", "True"),))]
    assert primary["hidden"] == {"lung": "small", "unknown": "complementary", "other": "complementary"}
    grade = by_cell[("grade_g12", (("has_bm", "True"),))]
    assert grade["hidden"] == {"(missing)": "small", "False": "complementary"}
    assert primary["outputs"] == ["numbers.yml primary", "table baseline"]
    assert primary["numbers"] == [{"path": ["primary"], "kind": "categories",
                                   "levels": {"gep": "GEP", "lung": "lung", "other": "other", "unknown": "unknown"}}]
    assert set(primary) == {"population", "variable", "hidden", "outputs", "numbers"}  # names, no counts
    none, table0, numbers0 = outputs(0)
    assert none.protected == {"cells": [], "at_risk": []}
    assert table0.loc[("", "Lung"), "Bone metastases (n = 40)"] == "3 (8%)"
    assert numbers0["grade_g12"] == {"n": "20", "pct": "53%", "denominator_n": "38"}


def test_the_bars_hide_what_the_register_hides():
    import matplotlib.text

    from nenbone.presentation import figures as F
    from nenbone.presentation.protection import bar_levels
    from nenbone.presentation.style import style_from_config

    result, _, _ = outputs(K)
    protected = bar_levels(result.protected["cells"], {"has_bm": True})
    assert protected == {"primary_group": {"lung", "unknown", "other"}, "grade_g12": {"(missing)", "False"}}
    # 20 of the 38 with a known grade: by itself a bar would print '20/38 (53%)'; with the hidden Missing
    # count (40 - 38) the register hides its denominator, so the bar is hidden
    counts = pd.DataFrame({"column": ["grade_g12", "functional"], "label": ["Grade 1-2", "Functional"],
                           "section": ["T", "T"], "n": [20, 12], "denominator": [38, 40],
                           "denominator_kind": ["all", "all"], "percent": [2000 / 38, 1200 / 40]})
    style = style_from_config({"dpi": 100, "palette": "okabe_ito"})
    texts = lambda fig: [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]  # noqa: E731
    assert {"suppressed/38", "12/40 (30%)"} <= set(texts(F.plot_bars(counts, style, xlabel="%", min_cell_count=K,
                                                                      protected=protected)))
    assert "20/38 (53%)" in texts(F.plot_bars(counts, style, xlabel="%", min_cell_count=K))


SPLIT_PLANS = [{"name": "arm_a", "duration": "months", "event": "dead", "where": {"arm": "A"}},
               {"name": "arm_a_by_site", "duration": "months", "event": "dead", "where": {"arm": "A"},
                "group": "site", "groups": ["X", "Y"]}]


def split_numbers() -> dict:
    """Arm A (30 patients) and its split by site: X 15, Y 10 and 5 at a site of no listed group (the rest)."""
    return {"arm_a": {"n": 30, "n_selected": 30, "events": 20, "at_risk": {"t0": 30, "t12": 24, "t24": 12}},
            "arm_a_by_site": {"n": 25, "n_selected": 30,
                              "x": {"n": 15, "events": 10, "at_risk": {"t0": 15, "t12": 12, "t24": 6}},
                              "y": {"n": 10, "events": 8, "at_risk": {"t0": 10, "t12": 7, "t24": 6}}}}


def test_numbers_at_risk_of_a_split_are_printed_together_or_not_at_all():
    from nenbone.presentation.protection import at_risk_register

    levels = lambda column: {"x": "X", "y": "Y", "z": "Z"}  # noqa: E731
    records = at_risk_register(SPLIT_PLANS, split_numbers(), levels, K)
    # by hand, k = 5: t0 prints everywhere (15, 10, rest 5); t12: X 15 -> 12 (3 apart) hides the column;
    # t24: X 6 (9 below 15), but Y 6 is 4 below 10: hidden in both. The whole arm keeps its own row.
    assert [(r["plan"], r["curve"], r["hidden_times"]) for r in records] == [
        ("arm_a_by_site", "X", [12.0, 24.0]), ("arm_a_by_site", "Y", [12.0, 24.0])]
    assert records[0]["whole"] == ["arm_a all"]
    alone = build_numbers({"s": split_numbers()}, K)["s"]
    # each curve by itself: X prints 6 at 24 months beside the whole arm's 12, so Y + rest = 6 and the
    # hidden Y (10 at 0) is narrowed to 1-6
    assert alone["arm_a_by_site"]["x"]["at_risk"] == {"t0": "15", "t12": "–", "t24": "6"}
    assert alone["arm_a_by_site"]["y"]["at_risk"] == {"t0": "10", "t12": "–", "t24": "–"}
    joint = build_numbers({"s": split_numbers()}, K, protected={"s": {"cells": [], "at_risk": records}})["s"]
    assert joint["arm_a_by_site"]["x"]["at_risk"] == {"t0": "15", "t12": "–", "t24": "–"}
    assert joint["arm_a_by_site"]["y"]["at_risk"] == {"t0": "10", "t12": "–", "t24": "–"}
    assert joint["arm_a"]["at_risk"] == alone["arm_a"]["at_risk"] == {"t0": "30", "t12": "24", "t24": "12"}


def test_a_small_rest_hides_the_split_where_it_would_be_known():
    from nenbone.presentation.protection import at_risk_register

    numbers = split_numbers()
    numbers["arm_a"]["at_risk"] = {"t0": 28, "t12": 19, "t24": 12}  # the rest: 3 at 0, 0 at 12, 0 at 24
    numbers["arm_a"]["n"] = numbers["arm_a"]["n_selected"] = numbers["arm_a_by_site"]["n_selected"] = 28
    numbers["arm_a_by_site"]["y"]["at_risk"]["t12"] = 7
    records = at_risk_register(SPLIT_PLANS, numbers, lambda column: {"x": "X", "y": "Y"}, K)
    # t0: the rest (28 - 15 - 10 = 3) is small: hidden; t12: first printed (X 12, Y 7, rest 0);
    # t24: X 6 is 6 below 12, Y 6 is 1 below 7: hidden
    assert [r["hidden_times"] for r in records] == [[0.0, 24.0], [0.0, 24.0]]
