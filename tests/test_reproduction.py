"""The reproduction check: rounding as journals print, statuses, and bad specs."""

from decimal import Decimal

import pytest

from nenbone.errors import ConfigError
from nenbone.presentation.reproduction import check_quantity, check_study, lookup, round_half_up, summarise

RAW = {"s": {"n": 85, "pct": 7.0132, "median": 13.96, "p": 0.0349, "half": 43.5}}


def spec(**kw):
    base = dict(id="q", wording="w", source="abstract", published=85, precision=0, kind="count", value_key="s.n")
    base.update(kw)
    return base


def test_round_half_up_is_not_bankers():
    assert round_half_up(0.5, 0) == Decimal("1")
    assert round_half_up(2.5, 0) == Decimal("3")  # Python's round() gives 2
    assert round_half_up(43.5, 0) == Decimal("44")
    assert round_half_up(14.04, 1) == Decimal("14.0")


def test_statuses():
    assert check_quantity("s", spec(), RAW).status == "match"
    assert check_quantity("s", spec(published=84), RAW).status == "mismatch"
    assert check_quantity("s", spec(published=7, value_key="s.pct"), RAW).status == "match"
    assert check_quantity("s", spec(published=14.0, precision=1, value_key="s.median"), RAW).status == "match"
    assert check_quantity("s", spec(published=0.03, precision=2, value_key="s.p"), RAW).status == "match"
    assert check_quantity("s", spec(published=0.04, precision=2, value_key="s.p"), RAW).status == "mismatch"
    assert check_quantity("s", spec(published=44, value_key="s.half"), RAW).status == "match"


def test_missing_value_is_a_mismatch_with_reason():
    c = check_quantity("s", spec(value_key="s.nothing"), RAW)
    assert c.status == "mismatch" and "s.nothing" in c.reason and c.reproduced == ""


def test_not_reproducible_keeps_reproduced_value_and_reason():
    c = check_quantity("s", spec(published=0.42, precision=2, value_key="s.p", not_reproducible="no test"), RAW)
    assert (c.status, c.reproduced, c.reason) == ("not-reproducible", "0.03", "no test")


def test_bad_specs_are_reported():
    with pytest.raises(ConfigError, match="lacks value_key"):
        check_quantity("s", {k: v for k, v in spec().items() if k != "value_key"}, RAW)
    with pytest.raises(ConfigError, match="duplicate ids q"):
        check_study({"study": "s", "quantities": [spec(), spec()]}, RAW)


def test_summary_and_lookup():
    checks = check_study({"study": "s", "quantities": [spec(), spec(id="b", published=1)]}, RAW)
    assert summarise(checks) == {"match": 1, "mismatch": 1, "not-reproducible": 0, "consistent-with-alternative": 0,
                                 "sources-conflict": 0, "total": 2}
    with pytest.raises(KeyError):
        lookup(RAW, "s.n.deeper")


def test_a_hidden_reproduced_value_stays_hidden_and_the_published_one_stays():
    raw = {"s": {"rfa": {"n": 2, "pct": 8.0}, "rt": {"n": 10, "pct": 40.0}}}
    shown = {"s": {"rfa": {"n": "<5", "pct": "–"}, "rt": {"n": "10", "pct": "40%"}}}
    quantities = [spec(id="rfa_n", published=2, value_key="s.rfa.n"),
                  spec(id="rfa_pct", published=8, kind="percent", value_key="s.rfa.pct"),
                  spec(id="rfa_bad", published=3, value_key="s.rfa.n"),
                  spec(id="rt_n", published=10, value_key="s.rt.n")]
    checks = {c.quantity: c for c in check_study({"study": "s", "quantities": quantities}, raw, shown_values=shown)}
    assert (checks["rfa_n"].published, checks["rfa_n"].reproduced, checks["rfa_n"].status) == ("2", "<5", "match")
    assert checks["rfa_pct"].reproduced == "–"
    bad = checks["rfa_bad"]
    assert (bad.status, bad.reproduced) == ("mismatch", "<5") and "2" not in bad.reason
    assert checks["rt_n"].reproduced == "10"


def test_a_p_attainable_by_an_alternative_analysis_is_consistent_not_reproduced():
    """The Croome 2016 margins (15/25 against 55/100 in 1:4 sets): by nenbone.analysis.matched_tests the
    uncorrected CMH by matched set attains 0.4173 (R mantelhaen.test, correct = FALSE, on the allocation
    of the issue), the corrected one attains nothing in [0.415, 0.425)."""
    from nenbone.analysis.matched_tests import cmh_attainable_p

    raw = {"s": {"p": 0.68, "att": {}, "att_c": {}}}
    for key, correct in (("att", False), ("att_c", True)):
        rng = cmh_attainable_p(25, 4, 15, 55, correct)
        raw["s"][key] = {"p_min": rng["p_min"], "p_max": rng["p_max"], "p_values": rng["p_values"]}
    alternatives = [{"key": "s.att", "test": "CMH uncorrected"}, {"key": "s.att_c", "test": "CMH corrected"}]
    c = check_quantity("s", spec(published=0.42, precision=2, value_key="s.p", note="No test gives it.",
                                 alternatives=alternatives), raw)
    assert (c.status, c.reproduced) == ("consistent-with-alternative", "0.42")
    assert c.reason.startswith("No test gives it. CMH uncorrected: attainable p 0.077–0.68, p = 0.42 for some allocation")
    assert "CMH corrected: attainable p 0.38–0.84, 0.42 not attainable" in c.reason
    # only the corrected test offered: 0.42 lies inside its range but is not one of its values
    c = check_quantity("s", spec(published=0.42, precision=2, value_key="s.p", alternatives=alternatives[1:]), raw)
    assert (c.status, c.reproduced) == ("not-reproducible", "0.68")


def test_sources_that_conflict_say_so():
    c = check_quantity("s", spec(published=30, sources_conflict="poster  35% against journal 22%"), RAW)
    assert (c.status, c.reason, c.reproduced) == ("sources-conflict", "poster 35% against journal 22%", "85")
