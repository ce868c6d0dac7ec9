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
    assert summarise(checks) == {"match": 1, "mismatch": 1, "not-reproducible": 0, "total": 2}
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
