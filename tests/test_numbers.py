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


def test_build_numbers_keeps_raw_and_plain_types():
    doc = build_numbers({"s": {"bm": {"n": np.int64(85), "pct": np.float64(7.01)}, "os": {"median": float("nan")}}})
    assert doc["s"]["bm"] == {"n": "85", "pct": "7%"}
    assert doc["raw"]["s"]["bm"]["n"] == 85 and type(doc["raw"]["s"]["bm"]["n"]) is int
    assert doc["raw"]["s"]["os"]["median"] is None and doc["s"]["os"]["median"] == "not reached"


def test_small_counts_are_suppressed_with_their_percentages():
    doc = build_numbers({"s": {"surgery": {"n": 2, "pct": 2.35}, "rt": {"n": 29, "pct": 34.1}, "n_eligible": 1212}},
                        min_cell_count=5)
    assert doc["s"]["surgery"] == {"n": "<5", "pct": "–"}
    assert doc["s"]["rt"] == {"n": "29", "pct": "34%"} and doc["s"]["n_eligible"] == "1212"
    assert doc["raw"]["s"]["surgery"]["n"] == 2  # the raw tree is for the reproduction check only


def test_interval_carries_its_estimate_decimals_and_counts_are_whole():
    doc = build_numbers({"s": {"cox": {"hr": 1.7849, "lower": 1.1649, "upper": 2.7349, "p": 0.0092, "lower_model": 1.0512},
                               "count": {"median": 2.0, "min": 1.0, "max": 10.0, "q1": 1.5, "integer_valued": True},
                               "age": {"median": 58.0, "integer_valued": False}}})
    assert doc["s"]["cox"] == {"hr": "1.78", "lower": "1.16", "upper": "2.73", "p": "0.0092", "lower_model": "1.05"}
    assert (doc["s"]["count"]["median"], doc["s"]["count"]["min"], doc["s"]["count"]["max"]) == ("2", "1", "10")
    assert doc["s"]["count"]["q1"] == "1.5" and doc["s"]["age"]["median"] == "58.0"
