"""Compare every published number with the value the workflow reproduced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import pandas as pd

from nenbone.formatting import round_half_up
from nenbone.errors import ConfigError
from nenbone.presentation import disclosure as dc

CHECK_COLUMNS = ("study", "quantity", "published", "reproduced", "tolerance", "status", "wording", "source", "reason",
                 "label", "source_label", "shown_in")
# a published quantity's fields: `label` is its readable name (the tables never show `id`), `shown_in`
# the supplement's cross-reference label (tbl-/fig-) of the table or figure that shows the reproduced value
REQUIRED_FIELDS = ("id", "label", "wording", "source", "published", "precision", "kind", "value_key", "shown_in")
# every status, in the order the tables list them, with the words the tables print
STATUS_TEXT = {"match": "match", "mismatch": "mismatch", "consistent-with-alternative": "consistent with an alternative",
               "sources-conflict": "sources conflict", "not-reproducible": "not reproducible"}


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
    label: str = ""
    source_label: str = ""
    shown_in: str = ""

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


def tolerance_text(precision: int, kind: str = "count") -> str:
    """How far the reproduced value may lie from the published one and still print as it (half up at the
    published decimals): 'exact' for a count, else half a unit of the last printed digit."""
    if kind == "count" and precision == 0:
        return "exact"
    return f"±{Decimal(5).scaleb(-(precision + 1))}"


def study_key(value_key: str, study: str) -> str:
    """A published value key (rooted at the design's published study) rooted at `study` instead."""
    return f"{study}.{value_key.split('.', 1)[1]}" if "." in value_key else value_key


def check_quantity(study: str, spec: dict[str, Any], raw_values: dict[str, Any], root: str | None = None,
                   sources: dict[str, str] | None = None, embedded_twin: bool = False) -> Check:
    """One published quantity against its reproduced value (in study `root`, default the published study).

    `sources` names each source key in words (the published file's `sources`); `embedded_twin` says the
    input is an embedded synthetic twin: only then does a reason carry the spec's `twin_note`."""
    missing = [f for f in REQUIRED_FIELDS if not str(spec.get(f, "")).strip()]
    if missing:
        raise ConfigError(f"published quantity {spec.get('id', '?')} of {study} lacks {', '.join(missing)}")
    if sources is not None and spec["source"] not in sources:
        raise ConfigError(f"published quantity {spec['id']} of {study}: source '{spec['source']}' is not one of "
                          f"the file's sources ({', '.join(sorted(sources))})")
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
        tolerance=tolerance_text(places, str(spec["kind"])),
        wording=spec["wording"],
        source=spec["source"],
        label=" ".join(str(spec["label"]).split()),
        source_label=(sources or {}).get(spec["source"], spec["source"]),
        shown_in=str(spec["shown_in"]),
    )
    if spec.get("sources_conflict"):
        reason = " ".join(str(spec["sources_conflict"]).split())
        if embedded_twin and spec.get("twin_note"):
            reason += " " + " ".join(str(spec["twin_note"]).split())
        return Check(status="sources-conflict", reason=reason, **base)
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
                shown_values: dict[str, Any] | None = None, embedded_twin: bool = False) -> list[Check]:
    """All published quantities of one design, reproduced by study `root` (default: the published study);
    with `shown_values` (numbers.yml), values hidden by disclosure control stay hidden. `embedded_twin`:
    the study's input is an embedded synthetic twin (see `check_quantity`)."""
    study = root or published["study"]
    ids = [q["id"] for q in published["quantities"]]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"published numbers of {study}: duplicate ids {', '.join(dupes)}")
    labels = [" ".join(str(q.get("label", "")).split()) for q in published["quantities"]]
    same = sorted({x for x in labels if x and labels.count(x) > 1})
    if same:
        raise ConfigError(f"published numbers of {study}: one label for several quantities: {'; '.join(same)}")
    sources = published.get("sources")
    if not isinstance(sources, dict) or not sources:
        raise ConfigError(f"published numbers of {study}: 'sources' (each source key in words) is missing")
    return [disclosed(check_quantity(study, q, raw_values, root, sources, embedded_twin),
                      study_key(q["value_key"], root) if root else q["value_key"], shown_values)
            for q in published["quantities"]]


def summarise(checks: list[Check]) -> dict[str, int]:
    counts = {"match": 0, "mismatch": 0, "not-reproducible": 0, "consistent-with-alternative": 0, "sources-conflict": 0}
    for c in checks:
        counts[c.status] += 1
    counts["total"] = len(checks)
    return counts


REPLICATION_COLUMNS = ("quantity", "label", "wording", "published", "twin", "cohort", "cohort_status")


def replication_rows(published: dict[str, Any], raw_values: dict[str, Any], twin: str, cohort: str,
                     shown_values: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """Each published quantity: the published value, the design's main study's (column `twin`, the
    synthetic twin by default) and this cohort's; with `shown_values` (numbers.yml), values hidden by
    disclosure control stay hidden."""
    twin_checks = check_study(published, raw_values, twin, shown_values)
    cohort_checks = check_study(published, raw_values, cohort, shown_values)
    return [{"quantity": t.quantity, "label": t.label, "wording": t.wording, "published": t.published, "twin": t.reproduced,
             "cohort": c.reproduced, "cohort_status": c.status} for t, c in zip(twin_checks, cohort_checks, strict=True)]


# ------------------------------------------------------------------ the supplement's reproduction section

def xref(check: Check) -> str:
    """The cross-reference (the renderer prints 'Table 7') to where the reproduced value is shown."""
    return f"@{check.shown_in}"


def pipe_table(table: pd.DataFrame, right: Sequence[str] = ()) -> str:
    """A pipe table pandoc reads, the columns named in `right` right-aligned ('|' in cells escaped,
    whitespace runs made one space). Column widths are the supplement's (tbl-colwidths on its div)."""
    cols = [str(c) for c in table.columns]
    esc = lambda x: " ".join(str(x).split()).replace("|", "\\|")  # noqa: E731
    rule = ["--:" if c in right else "---" for c in cols]
    lines = ["| " + " | ".join(esc(c) for c in cols) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(esc(v) for v in row) + " |" for row in table.astype(str).itertuples(index=False)]
    return "\n".join(lines) + "\n"


def status_by_source(checks: list[Check], source_order: Sequence[str]) -> pd.DataFrame:
    """Published numbers counted by source (rows, in `source_order`, then a row for all) and status
    (columns: every status, then the total)."""
    unknown = sorted({c.source_label for c in checks} - set(source_order))
    if unknown:
        raise ValueError(f"sources not in the order given: {', '.join(unknown)}")
    rows = []
    for source in [*source_order, None]:
        chosen = [c for c in checks if source is None or c.source_label == source]
        if source is not None and not chosen:
            continue
        counts = {STATUS_TEXT[s]: sum(c.status == s for c in chosen) for s in STATUS_TEXT}
        rows.append({"Source": source or "All sources", **{k: str(v) for k, v in counts.items()},
                     "Total": str(len(chosen))})
    return pd.DataFrame(rows, columns=["Source", *STATUS_TEXT.values(), "Total"])


def compact_table(checks: list[Check]) -> pd.DataFrame:
    """The section's table: each published number by its label (never its id), with its source, the
    published and reproduced values, the tolerance, the status and where the value is shown."""
    return pd.DataFrame([{"Published number": c.label, "Source": c.source_label, "Published": c.published,
                          "Reproduced": c.reproduced or "none", "Tolerance": c.tolerance,
                          "Status": STATUS_TEXT[c.status], "Shown in": xref(c)} for c in checks])


def cited_reason(check: Check) -> str:
    """The reason, followed by the table or figure that shows the reproduced value."""
    if not check.reason:
        return f"Shown in {xref(check)}."
    return f"{check.reason.rstrip('.')}. Reproduced value: {xref(check)}."


def full_table(checks: list[Check]) -> pd.DataFrame:
    """The appendix's table: every check with its source's wording and the reason, citing its table
    (the tolerance is the compact table's)."""
    return pd.DataFrame([{"Published number": c.label, "Source: wording": f"{c.source_label}: “{c.wording}”",
                          "Published": c.published, "Reproduced": c.reproduced or "none",
                          "Status": STATUS_TEXT[c.status], "Reason": cited_reason(c)} for c in checks])


def discrepancies_markdown(checks: list[Check]) -> str:
    """Every check whose status is not 'match', as a list: what, published, reproduced, status, why, where."""
    items = [c for c in checks if c.status != "match"]
    if not items:
        return "None: every published number was reproduced.\n"
    lines = [f"- **{c.label}** ({c.source_label}: “{c.wording}”): published {c.published}, {reproduced_text(c)}; "
             f"{STATUS_TEXT[c.status]}. {cited_reason(c)}" for c in items]
    return "\n".join(lines) + "\n"


def reproduced_text(check: Check) -> str:
    """The reproduced value in words: for 'consistent-with-alternative' it is what another analysis can
    attain, not what the reproduced data give."""
    value = check.reproduced or "none"
    if check.status == "consistent-with-alternative":
        return f"attainable {value} by an alternative analysis"
    return f"reproduced {value}"


INDEPENDENT_CHECKS = (
    "Checked independently of this table: the cross-engine check run by make verify recomputes every "
    "Kaplan-Meier median with its log-log interval, every log-rank p and the Cox models in R's survival "
    "package from the run's derived data, and the dialect tests (tests/test_dialects.py) run exports coded "
    "in other SPSS and Stata dialects through the same code and require identical results.")


def origin_caveat(embedded: dict[str, bool]) -> str:
    """What a match means for this run's inputs (study label -> input is an embedded synthetic twin),
    then what checks the numbers independently. 'twin' only of an embedded twin."""
    twins = [label for label, is_twin in embedded.items() if is_twin]
    exports = [label for label, is_twin in embedded.items() if not is_twin]
    if twins and not exports:
        head = ("The inputs of this run are the embedded synthetic twins, generated from fixed seeds to give "
                "the published numbers: a match holds by construction of the twin; it shows that the code "
                "gives what the twin was built to give, not that the published analyses hold on patient data.")
    elif exports and not twins:
        head = ("The inputs of this run are users' exports, not embedded synthetic data: a match is the "
                "published number reproduced from these data.")
    else:
        head = (f"The input of {' and '.join(twins)} is an embedded synthetic twin, generated to give the "
                f"published numbers: its matches hold by construction of the twin. The input of "
                f"{' and '.join(exports)} is a user's export: its matches reproduce the published numbers "
                f"from those data.")
    return f"{head} {INDEPENDENT_CHECKS}"


def main_input_text(label: str, embedded_twin: bool) -> str:
    """A design's main study as the replication tables name it: its label and what its input is."""
    return f"{label} (the embedded synthetic twin)" if embedded_twin else f"{label} (a user's export)"
