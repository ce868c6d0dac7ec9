"""The bibliography names every source with DOI, volume and pages (or says why not); the checklists are complete."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def bib_entries() -> dict[str, str]:
    bib = (REPO / "manuscript" / "references.bib").read_text(encoding="utf-8")
    return {m.group(1): m.group(0) for m in re.finditer(r"@\w+\{(\w+),.*?\n\}", bib, flags=re.S)}


def field(entry: str, name: str) -> str | None:
    m = re.search(rf"^\s*{name}\s*=\s*\{{(.*)\}},?\s*$", entry, flags=re.M)
    return m.group(1) if m else None


def test_every_article_has_doi_volume_pages_or_says_why_not():
    for key, entry in bib_entries().items():
        if not entry.startswith("@article"):
            continue
        missing = [f for f in ("doi", "volume", "pages") if field(entry, f) is None]
        if missing:
            note = field(entry, "note") or ""
            assert "not verified" in note or "not in the project's sources" in note, (key, missing)


def test_the_issue_sources_are_there():
    e = bib_entries()
    assert field(e["lim2018ukinets"], "doi") == "10.1530/endoabs.60.P07"
    assert field(e["lim2018ukinets"], "volume") == "60" and field(e["lim2018ukinets"], "pages") == "P07"
    assert field(e["croome2016"], "pages") == "3693--3698" and field(e["croome2016"], "number") == "11"
    assert field(e["vonelm2007strobe"], "doi") == "10.1016/S0140-6736(07)61602-X"
    for key in ("rubin1987", "newcombe1998", "survival2023", "austin2011", "barnard1999", "schemper1996"):
        assert key in e, key


def load(name: str) -> dict:
    return yaml.safe_load((REPO / "manuscript" / "checklists" / f"{name}.yaml").read_text(encoding="utf-8"))


def test_strobe_checklist_has_the_22_items_each_with_where_it_is_reported():
    items = load("strobe")["items"]
    assert [i["id"] for i in items] == [str(n) for n in range(1, 23)]
    for item in items:
        assert item["where"].strip() and item["item"]
        for part in item.get("parts", []):
            assert part["id"].startswith(item["id"]) and part["where"].strip()
    assert [p["id"] for p in items[11]["parts"]] == ["12a", "12b", "12c", "12d", "12e"]


def test_checklist_tables_list_every_item_and_part_and_refuse_an_empty_where():
    import pytest

    from nenbone.errors import ConfigError
    from nenbone.presentation.checklists import checklist_table

    table = checklist_table(load("strobe"), "strobe.yaml")
    parts = sum(len(i.get("parts", [])) for i in load("strobe")["items"])
    assert len(table) == 22 + parts and list(table.columns) == ["Item", "Recommendation", "Where reported"]
    assert table.loc[table["Item"] == "12c", "Where reported"].item().startswith("Part A and Part B: Methods as run, Missing data")
    with pytest.raises(ConfigError, match="x.yaml: checklist item\\(s\\) without `where`: 2, 2a"):
        checklist_table({"items": [{"id": "1", "item": "a", "where": "here"},
                                   {"id": "2", "item": "b", "where": "", "parts": [{"id": "2a", "item": "c", "where": " "}]}]},
                        "x.yaml")


def test_ps_checklist_items_are_unique_and_cite_known_sources():
    data = load("ps_reporting")
    ids = [i["id"] for i in data["items"]]
    assert len(ids) == len(set(ids)) >= 12
    assert all(i["where"].strip() and i["item"] for i in data["items"])
    assert set(data["sources"]) <= set(bib_entries())
