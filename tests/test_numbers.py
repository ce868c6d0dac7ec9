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
    assert p_text(0.0349) == "0.03"
    assert p_text(0.00449) == "0.004"
    assert p_text(0.0004) == "<0.001"
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
