"""Summary blocks and survival plans: numbers computed by hand on small frames."""

import pandas as pd
import pytest

from nenbone.analysis.plans import SelectionError, run_survival_plan, select_rows
from nenbone.analysis.summaries import summarise
from nenbone.errors import ConfigError

FRAME = pd.DataFrame({
    "has_bm": pd.array([True, True, True, True, False, False], dtype="boolean"),
    "flag": pd.array([True, False, None, True, None, None], dtype="boolean"),
    "site": ["a", "b", "a", "a", "b", "a"],
    "age": [40.0, 50.0, 60.0, 70.0, 30.0, 20.0],
    "grp": ["x", "x", "y", "y", "x", "y"],
    "t": [1.0, 2.0, 3.0, 4.0, 5.0, None],
    "e": pd.array([True, True, False, True, True, True], dtype="boolean"),
})


def test_block_counts_flags_categories_quantiles():
    tree = summarise(FRAME, [{"count": "bm", "where": {"has_bm": True}, "flags": {"f": "flag"},
                              "negated": {"not_f": "flag"}, "categories": {"site": "site"}, "quantiles": {"age": "age"}}])
    assert tree["bm"] == {"n": 4, "pct": pytest.approx(100 * 4 / 6)}
    # flag known in 3 of the 4 with BMs: 2 True, 1 False
    assert (tree["f"]["n"], tree["f"]["denominator_n"], tree["not_f"]["n"]) == (2, 3, 1)
    assert tree["site"]["a"] == {"n": 3, "pct": 75.0}
    # (n+1)p rule on 40, 50, 60, 70: Q1 = 42.5, median 55, Q3 = 67.5
    assert (tree["age"]["q1"], tree["age"]["median"], tree["age"]["q3"]) == (42.5, 55.0, 67.5)


def test_grouped_flags_nest_under_group_keys():
    tree = summarise(FRAME, [{"key": "k", "group": "grp", "flags": {"": "flag"}}])
    assert tree["k"]["x"]["n"] == 1 and tree["k"]["y"]["n"] == 1 and tree["k"]["y"]["denominator_n"] == 1


def test_where_refuses_a_missing_value_and_names_unknown_columns():
    assert list(select_rows(FRAME, {"has_bm": False}, "t").index) == [4, 5]
    with pytest.raises(ConfigError, match="column\\(s\\) 'nope'"):
        select_rows(FRAME, {"nope": 1}, "t")
    # missing is an error naming the patients, never a silent 'no' ...
    with pytest.raises(SelectionError, match="'flag' is missing for patient\\(s\\) 2, 4, 5"):
        select_rows(FRAME, {"flag": True}, "t")


def test_select_rows_checks_missing_only_within_earlier_filters():
    frame = pd.DataFrame({"patient_id": ["a", "b", "c"], "has_bm": [True, True, False],
                          "with_other": pd.array([False, True, pd.NA], dtype="boolean")})
    out = select_rows(frame, {"has_bm": True, "with_other": False}, "t")
    assert out["patient_id"].tolist() == ["a"]
    with pytest.raises(SelectionError, match="patient\\(s\\) c;"):
        select_rows(frame, {"with_other": False}, "t")


def test_survival_plan_counts_exclusions_and_computes_km_by_hand():
    plan = {"name": "p", "label": "P", "duration": "t", "event": "e", "group": "grp", "groups": ["x", "y"]}
    out, curves = run_survival_plan(FRAME, plan, 0.95, [0, 2])
    assert out["n_excluded_missing"] == 1 and out["n"] == 5
    # group x: times 1, 2, 5 all events: S = 2/3, 1/3, 0 -> median 2
    assert out["x"]["median"] == 2.0 and out["x"]["at_risk"] == {"t0": 3, "t2": 2}
    # group y (row with missing t excluded): 3 censored, 4 event -> S(4) = 0 -> median 4
    assert out["y"]["median"] == 4.0
    # log-rank by hand, group x observed/expected at the event times 1, 2, 4, 5:
    # at risk (x, y) = (3, 2), (2, 2), (1, 1), (1, 0); O_x = 3, E_x = 3/5 + 2/4 + 1/2 + 1 = 2.6,
    # V = 0.24 + 0.25 + 0.25 + 0 = 0.74, chi2 = (3 - 2.6)^2 / 0.74 on 1 df
    from scipy.stats import chi2
    assert out["logrank_p"] == pytest.approx(chi2.sf(0.4 ** 2 / 0.74, 1), rel=1e-9)
