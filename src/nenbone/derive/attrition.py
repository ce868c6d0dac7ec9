"""MINIMAL attrition writer (placeholder for the issue-8 derivation work, which replaces it).

`minimal_attrition(design, clean, derived, settings)` returns the content of
`results/derived/<study>.attrition.json`:

    {"stages": [{"label": str, "n": int, "excluded": [{"reason": str, "n": int}, ...]}, ...],
     "groups": [{"label": str, "n": int}, ...]}

`excluded` lists who left between the previous stage and this one, by reason; `groups` splits the
last stage. The counts come from the derivation's own rules (the same functions `derive` uses) and
are checked against the derived table, so the flow diagram never re-derives anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from nenbone.errors import ConfigError


def _check(stage_n: int, derived: pd.DataFrame, what: str) -> None:
    if stage_n != len(derived):
        raise ConfigError(f"attrition of {what}: the eligibility rules give {stage_n} patients but the derived "
                          f"table has {len(derived)} rows")


def _christie(clean: pd.DataFrame, derived: pd.DataFrame, settings: Mapping[str, Any]) -> dict[str, Any]:
    from nenbone.derive.christie import is_eligible, primary_group

    groups = primary_group(clean["primary_site"], settings["derivation"]["primary_group"], clean["patient_id"])
    eligibility = dict(settings["eligibility"])
    eligible = is_eligible(clean, groups, eligibility).to_numpy(dtype=bool)
    in_period = is_eligible(clean, groups, {**eligibility, "exclude": []}).to_numpy(dtype=bool)
    _check(int(eligible.sum()), derived, "the christie design")
    excluded = [{"reason": "diagnosed outside the study period", "n": int((~in_period).sum())}]
    for rule in eligibility.get("exclude") or []:
        one = is_eligible(clean, groups, {**eligibility, "exclude": [rule]}).to_numpy(dtype=bool)
        excluded.append({"reason": f"G{rule['grade']} {rule['primary_group']} NEN", "n": int((in_period & ~one).sum())})
    n_bm = int(derived["has_bm"].astype(bool).sum())
    return {"stages": [{"label": "Patients with NEN screened", "n": len(clean), "excluded": []},
                       {"label": "Eligible patients", "n": len(derived), "excluded": excluded}],
            "groups": [{"label": "With bone metastases (BMs)", "n": n_bm},
                       {"label": "Without BMs", "n": len(derived) - n_bm}]}


def _mayo(clean: pd.DataFrame, derived: pd.DataFrame, settings: Mapping[str, Any]) -> dict[str, Any]:
    from nenbone.derive.mayo import assign_group

    groups = {str(k): [int(c) for c in v] for k, v in settings["groups"].items()}
    group = assign_group(clean["extrahepatic"], groups)
    start, end = pd.Timestamp(settings["period"]["from"]), pd.Timestamp(settings["period"]["to"])
    dates = clean["date_resection"]
    in_period = ((dates >= start) & (dates <= end)).fillna(False).to_numpy(dtype=bool)
    in_group = group.notna().to_numpy(dtype=bool)
    _check(int((in_group & in_period).sum()), derived, "the mayo design")
    excluded = [{"reason": "other extrahepatic disease", "n": int((~in_group).sum())},
                {"reason": "outside the study period", "n": int((in_group & ~in_period).sum())}]
    return {"stages": [{"label": "Hepatic resections for metastatic NET", "n": len(clean), "excluded": []},
                       {"label": "In a study group", "n": len(derived), "excluded": excluded}],
            "groups": [{"label": str(name), "n": int((derived["group"] == name).sum())} for name in groups]}


def minimal_attrition(design: str, clean: pd.DataFrame, derived: pd.DataFrame,
                      settings: Mapping[str, Any]) -> dict[str, Any]:
    """The attrition document of one study (shape in the module docstring)."""
    writers = {"christie": _christie, "mayo": _mayo}
    if design not in writers:
        raise ConfigError(f"no attrition is defined for design '{design}'")
    return writers[design](clean, derived, settings)
