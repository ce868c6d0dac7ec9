"""Compare every published number with the value the workflow reproduced."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from nenbone.analysis.descriptive import round_half_up
from nenbone.errors import ConfigError
from nenbone.presentation import disclosure as dc

CHECK_COLUMNS = ("study", "quantity", "published", "reproduced", "tolerance", "status", "wording", "source", "reason")
REQUIRED_FIELDS = ("id", "wording", "source", "published", "precision", "kind", "value_key")


@dataclass(frozen=True)
class Check:
    study: str
    quantity: str
    published: str
    reproduced: str
    tolerance: str
    status: str
    wording: str
    source: str
    reason: str = ""

    def as_row(self) -> dict[str, str]:
        return {c: getattr(self, c) for c in CHECK_COLUMNS}


def lookup(tree: dict[str, Any], dotted: str) -> Any:
    """Value at a dotted path in a nested mapping; KeyError names the whole path."""
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(dotted)
        node = node[part]
    return node


def tolerance_text(precision: int) -> str:
    if precision == 0:
        return "exact (rounded to a whole number)"
    half = Decimal(5).scaleb(-(precision + 1))
    return f"±{half} (rounded to {precision} dp)"


def check_quantity(study: str, spec: dict[str, Any], raw_values: dict[str, Any]) -> Check:
    """One published quantity against its reproduced value."""
    missing = [f for f in REQUIRED_FIELDS if f not in spec]
    if missing:
        raise ConfigError(f"published quantity {spec.get('id', '?')} of {study} lacks {', '.join(missing)}")
    places = int(spec["precision"])
    published = Decimal(str(spec["published"])).quantize(Decimal(1).scaleb(-places))
    try:
        value = lookup(raw_values, spec["value_key"])
    except KeyError:
        value = None
    reproduced = "" if value is None else str(round_half_up(value, places))
    base = dict(
        study=study,
        quantity=spec["id"],
        published=str(published),
        reproduced=reproduced,
        tolerance=tolerance_text(places),
        wording=spec["wording"],
        source=spec["source"],
    )
    if spec.get("not_reproducible"):
        return Check(status="not-reproducible", reason=" ".join(str(spec["not_reproducible"]).split()), **base)
    if value is None:
        return Check(status="mismatch", reason=f"no reproduced value at '{spec['value_key']}'", **base)
    if round_half_up(value, places) == published:
        return Check(status="match", **base)
    return Check(status="mismatch", reason=f"reproduced {value!r} does not round to {published}", **base)


def disclosed(check: Check, spec: dict[str, Any], shown_values: dict[str, Any] | None) -> Check:
    """The check as a shareable file may show it: where numbers.yml hides the reproduced value
    (disclosure control), so does the check, and its reason names no value. The status, computed on
    the unsuppressed value, stays: it says no more than the published number, which stays too."""
    if shown_values is None:
        return check
    try:
        shown = lookup(shown_values, spec["value_key"])
    except KeyError:
        return check
    if not (isinstance(shown, str) and dc.is_hidden_text(shown)):
        return check
    reason = check.reason if check.status == "not-reproducible" else (
        "reproduced value hidden by disclosure control" if check.status == "mismatch" else "")
    return replace(check, reproduced=shown, reason=reason)


def check_study(published: dict[str, Any], raw_values: dict[str, Any],
                shown_values: dict[str, Any] | None = None) -> list[Check]:
    """All published quantities of one study; with `shown_values` (numbers.yml), hidden values stay hidden."""
    study = published["study"]
    ids = [q["id"] for q in published["quantities"]]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"published numbers of {study}: duplicate ids {', '.join(dupes)}")
    return [disclosed(check_quantity(study, q, raw_values), q, shown_values) for q in published["quantities"]]


def summarise(checks: list[Check]) -> dict[str, int]:
    counts = {"match": 0, "mismatch": 0, "not-reproducible": 0}
    for c in checks:
        counts[c.status] += 1
    counts["total"] = len(checks)
    return counts
