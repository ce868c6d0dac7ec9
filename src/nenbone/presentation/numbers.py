"""results/numbers.yml: every number the supplement quotes, formatted once, from analysis outputs.

The file has the formatted values under each study's key (what the text shows) and the raw
values under `raw` (what the reproduction check compares). How a value is printed follows from
its key's name, so one rule serves every table and sentence:

- counts (`n`, `n_*`, `*_n`, `events`, `count_*`): whole numbers;
- percentages (`pct`, `*_pct`): whole percent with a % sign, rounded half up as journals print;
- p-values (`p`, `*_p`, `p_*`): two decimals, three below 0.01, "<0.001" below that;
- hazard ratios, test statistics and SMDs (`hr`, `*_hr`, `chi2`, `smd*`, `z`): two decimals;
- everything else numeric (medians, quartiles, CI limits, months): one decimal;
- `None` where a median or a CI limit is not reached: "not reached".
"""

from __future__ import annotations

from typing import Any

from nenbone.presentation.reproduction import round_half_up

NOT_REACHED = "not reached"
COUNT_KEYS = frozenset({"n", "events", "count_min", "count_max", "df"})
TWO_DP_KEYS = frozenset({"hr", "chi2", "z", "smd", "coef"})


def _is_count(key: str) -> bool:
    return key in COUNT_KEYS or key.startswith("n_") or key.endswith("_n")


def _is_pct(key: str) -> bool:
    return key == "pct" or key.endswith("_pct")


def _is_p(key: str) -> bool:
    return key == "p" or key.endswith("_p") or key.startswith("p_")


def _is_two_dp(key: str) -> bool:
    return key in TWO_DP_KEYS or key.endswith("_hr") or key.startswith("smd") or key.endswith("_chi2")


def format_p(p: float) -> str:
    if p < 0.001:
        return "<0.001"
    if p < 0.01:
        return str(round_half_up(p, 3))
    return str(round_half_up(p, 2))


def format_value(key: str, value: Any) -> str:
    """The text a number is printed as, chosen by its key's name."""
    if value is None:
        return NOT_REACHED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if _is_count(key):
        return str(int(round_half_up(value, 0)))
    if _is_pct(key):
        return f"{round_half_up(value, 0)}%"
    if _is_p(key):
        return format_p(float(value))
    if _is_two_dp(key):
        return str(round_half_up(value, 2))
    if isinstance(value, int):
        return str(value)
    return str(round_half_up(value, 1))


def format_tree(tree: dict[str, Any]) -> dict[str, Any]:
    """Same nesting as the raw tree, every leaf formatted; lists become lists of formatted leaves."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out[key] = format_tree(value)
        elif isinstance(value, list):
            out[key] = [format_tree(v) if isinstance(v, dict) else format_value(key, v) for v in value]
        else:
            out[key] = format_value(key, value)
    return out


def to_plain(value: Any) -> Any:
    """numpy scalars and tuples to plain Python, so YAML stays readable and stable."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    if isinstance(value, float) and value != value:  # NaN: no value
        return None
    return value


def build_numbers(raw: dict[str, Any]) -> dict[str, Any]:
    """The numbers.yml document: formatted trees per study plus the raw tree."""
    plain = to_plain(raw)
    doc = format_tree(plain)
    doc["raw"] = plain
    return doc
