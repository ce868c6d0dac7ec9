"""The design registry: which study designs the workflow knows, and how a study's settings are found.

A *design* is a published study's protocol: its derivation (`nenbone.derive.<design>`), analyses,
figures, supplement section (`manuscript/designs/<design>.md`) and published numbers
(`resources/published/<design>.yaml`). A *study* is one cohort analysed by a design
(`studies.<name>.design` in config/config.yaml). Code branches on designs, never on study names.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

DESIGNS = ("christie", "mayo")


def studies_of_design(studies: Mapping[str, Mapping[str, Any]], design: str) -> list[str]:
    """The names of the configured studies that use `design`, sorted."""
    return sorted(name for name, spec in studies.items() if spec["design"] == design)


def merge_settings(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `override` laid over it: mappings merge key by key, anything else is replaced."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_settings(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
