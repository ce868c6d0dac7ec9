"""Compare every published number with the value the workflow reproduced."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nenbone.analysis.descriptive import round_half_up
from nenbone.errors import ConfigError

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


def check_study(published: dict[str, Any], raw_values: dict[str, Any]) -> list[Check]:
    """All published quantities of one study."""
    study = published["study"]
    ids = [q["id"] for q in published["quantities"]]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"published numbers of {study}: duplicate ids {', '.join(dupes)}")
    return [check_quantity(study, q, raw_values) for q in published["quantities"]]


def summarise(checks: list[Check]) -> dict[str, int]:
    counts = {"match": 0, "mismatch": 0, "not-reproducible": 0}
    for c in checks:
        counts[c.status] += 1
    counts["total"] = len(checks)
    return counts
