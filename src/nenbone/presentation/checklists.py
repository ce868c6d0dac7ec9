"""Reporting checklists (manuscript/checklists/*.yaml) as appendix tables: item, recommendation, where reported."""

from __future__ import annotations

from typing import Any

import pandas as pd

from nenbone.errors import ConfigError


def checklist_table(checklist: dict[str, Any], source: str) -> pd.DataFrame:
    """One line per item (and part): its id, what it asks and where the supplement reports it.
    An item without a `where` is refused, all such items named at once."""
    rows, empty = [], []
    for item in checklist.get("items", []):
        for entry in [item, *item.get("parts", [])]:
            where = str(entry.get("where", "")).strip()
            if not where:
                empty.append(str(entry["id"]))
            rows.append({"Item": str(entry["id"]), "Recommendation": " ".join(str(entry["item"]).split()),
                         "Where reported": where})
    if empty:
        raise ConfigError(f"{source}: checklist item(s) without `where`: {', '.join(empty)}")
    return pd.DataFrame(rows, columns=["Item", "Recommendation", "Where reported"])
