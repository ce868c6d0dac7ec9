"""Compare every published number with the value the workflow reproduced."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from nenbone.formatting import round_half_up
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


def study_key(value_key: str, study: str) -> str:
    """A published value key (rooted at the design's published study) rooted at `study` instead."""
    return f"{study}.{value_key.split('.', 1)[1]}" if "." in value_key else value_key


def check_quantity(study: str, spec: dict[str, Any], raw_values: dict[str, Any], root: str | None = None) -> Check:
    """One published quantity against its reproduced value (in study `root`, default the published study)."""
    missing = [f for f in REQUIRED_FIELDS if f not in spec]
    if missing:
        raise ConfigError(f"published quantity {spec.get('id', '?')} of {study} lacks {', '.join(missing)}")
    places = int(spec["precision"])
    published = Decimal(str(spec["published"])).quantize(Decimal(1).scaleb(-places))
    try:
        value = lookup(raw_values, study_key(spec["value_key"], root) if root else spec["value_key"])
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
    if spec.get("sources_conflict"):
        return Check(status="sources-conflict", reason=" ".join(str(spec["sources_conflict"]).split()), **base)
    if spec.get("alternatives"):
        return alternative_check(spec, raw_values, root, base)
    if spec.get("not_reproducible"):
        return Check(status="not-reproducible", reason=" ".join(str(spec["not_reproducible"]).split()), **base)
    if value is None:
        return Check(status="mismatch", reason=f"no reproduced value at '{spec['value_key']}'", **base)
    if round_half_up(value, places) == published:
        return Check(status="match", **base)
    return Check(status="mismatch", reason=f"reproduced {value!r} does not round to {published}", **base)


def _range_text(rng: dict[str, Any]) -> str:
    from nenbone.formatting import DASH, p_text

    return f"{p_text(rng['p_min'])}{DASH}{p_text(rng['p_max'])}"


def alternative_check(spec: dict[str, Any], raw_values: dict[str, Any], root: str | None,
                      base: dict[str, str]) -> Check:
    """A published p that no test of the reproduced data gives, set against the p-values other analyses
    can attain from the published margins (spec `alternatives`: [{key, test}], key -> {p_values, p_min,
    p_max}). 'consistent-with-alternative' when an attainable value prints as the published one (the
    reproduced column shows it), else 'not-reproducible'; the reason states each alternative's range."""
    from nenbone.formatting import p_text

    places = int(spec["precision"])
    published = Decimal(str(spec["published"])).quantize(Decimal(1).scaleb(-places))
    found, notes = None, []
    for alt in spec["alternatives"]:
        try:
            rng = lookup(raw_values, study_key(alt["key"], root) if root else alt["key"])
        except KeyError:
            rng = None
        if not rng:
            notes.append(f"{alt['test']}: not computed")
            continue
        hits = [p for p in rng["p_values"] if round_half_up(p, places) == published]
        if hits and found is None:
            found = hits[0]
        notes.append(f"{alt['test']}: attainable p {_range_text(rng)}, "
                     + (f"p = {p_text(hits[0])} for some allocation" if hits else f"{published} not attainable"))
    reason = " ".join(str(spec.get("note", "")).split())
    reason = (reason + " " if reason else "") + "; ".join(notes) + "."
    if found is None:
        return Check(status="not-reproducible", reason=reason, **base)
    return Check(status="consistent-with-alternative", reason=reason, **{**base, "reproduced": str(round_half_up(found, places))})


def disclosed(check: Check, key: str, shown_values: dict[str, Any] | None) -> Check:
    """The check as a shareable file may show it: where numbers.yml hides the reproduced value
    (disclosure control), so does the check, and its reason names no value. The status, computed on
    the unsuppressed value, stays: it says no more than the published number, which stays too."""
    if shown_values is None:
        return check
    try:
        shown = lookup(shown_values, key)
    except KeyError:
        return check
    if not (isinstance(shown, str) and dc.is_hidden_text(shown)):
        return check
    reason = check.reason if check.status == "not-reproducible" else (
        "reproduced value hidden by disclosure control" if check.status == "mismatch" else "")
    return replace(check, reproduced=shown, reason=reason)


def check_study(published: dict[str, Any], raw_values: dict[str, Any], root: str | None = None,
                shown_values: dict[str, Any] | None = None) -> list[Check]:
    """All published quantities of one design, reproduced by study `root` (default: the published study);
    with `shown_values` (numbers.yml), values hidden by disclosure control stay hidden."""
    study = root or published["study"]
    ids = [q["id"] for q in published["quantities"]]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"published numbers of {study}: duplicate ids {', '.join(dupes)}")
    return [disclosed(check_quantity(study, q, raw_values, root),
                      study_key(q["value_key"], root) if root else q["value_key"], shown_values)
            for q in published["quantities"]]


def summarise(checks: list[Check]) -> dict[str, int]:
    counts = {"match": 0, "mismatch": 0, "not-reproducible": 0, "consistent-with-alternative": 0, "sources-conflict": 0}
    for c in checks:
        counts[c.status] += 1
    counts["total"] = len(checks)
    return counts


REPLICATION_COLUMNS = ("quantity", "wording", "published", "twin", "cohort", "cohort_status")


def replication_rows(published: dict[str, Any], raw_values: dict[str, Any], twin: str, cohort: str,
                     shown_values: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """Each published quantity: the published value, the twin's (the design's main study) and this cohort's;
    with `shown_values` (numbers.yml), values hidden by disclosure control stay hidden."""
    twin_checks = check_study(published, raw_values, twin, shown_values)
    cohort_checks = check_study(published, raw_values, cohort, shown_values)
    return [{"quantity": t.quantity, "wording": t.wording, "published": t.published, "twin": t.reproduced,
             "cohort": c.reproduced, "cohort_status": c.status} for t, c in zip(twin_checks, cohort_checks, strict=True)]
