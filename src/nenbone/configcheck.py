"""The configuration against config/schema.yaml: strict, complete, and in the user's words.

Every schema level sets `additionalProperties: false`, so a misspelt key is refused; the message
names the key, where it stands and the closest valid key (difflib). Numbers given on the command
line (`--config 'disclosure={min_cell_count: 5}'` reaches the workflow as the string '5') are
turned into numbers where the schema asks for one, before validation. Every problem is reported
at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from nenbone.errors import ConfigError

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _types(schema: Mapping[str, Any]) -> set[str]:
    t = schema.get("type", [])
    return {t} if isinstance(t, str) else set(t)


def _coerce_scalar(value: str, types: set[str]) -> Any:
    text = value.strip()
    if "integer" in types and _INT.match(text):
        return int(text)
    if "number" in types and _FLOAT.match(text):
        return int(text) if _INT.match(text) else float(text)
    if "boolean" in types and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if "null" in types and text.lower() in ("null", "none", "~", ""):
        return None
    return value


def _subschema(schema: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    if key in schema.get("properties", {}):
        return schema["properties"][key]
    for pattern, sub in schema.get("patternProperties", {}).items():
        if re.search(pattern, key):
            return sub
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, Mapping) else None


def coerce_numbers(value: Any, schema: Mapping[str, Any]) -> Any:
    """`value` with every string the schema wants as a number, boolean or null converted (a copy)."""
    if isinstance(value, str):
        return _coerce_scalar(value, _types(schema))
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            sub = _subschema(schema, str(key))
            out[key] = coerce_numbers(item, sub) if sub is not None else item
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [coerce_numbers(v, schema["items"]) for v in value]
    return value


def _where(path: Any) -> str:
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else "(top level)"


def _valid_keys(schema: Mapping[str, Any]) -> list[str]:
    keys = list(schema.get("properties", {}))
    for pattern in schema.get("patternProperties", {}):
        keys += re.findall(r"[A-Za-z_][A-Za-z0-9_]*", pattern.strip("^$()"))
    return keys


def _message(error: Any) -> str:
    where = _where(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        valid = _valid_keys(error.schema)
        lines = []
        for key in sorted(k for k in error.instance if _subschema({**error.schema, "additionalProperties": None}, k) is None):
            close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(valid)}" if valid else ""
            lines.append(f"config key '{where + '.' if error.absolute_path else ''}{key}' is not known{hint}")
        return "\n".join(lines)
    return f"config key '{where}': {error.message}"


def check_config(config: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """The config with command-line numbers coerced, or ConfigError listing every schema violation."""
    import jsonschema

    coerced = coerce_numbers(config, schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(coerced), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise ConfigError("the configuration does not follow config/schema.yaml:\n"
                          + "\n".join(f"  - {_message(e)}" for e in errors))
    return coerced


def check_designs(config: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Each design's main study exists and is of that design; each study's settings overrides, laid
    over its design's block, still follow that block's schema."""
    import jsonschema

    from nenbone.designs import merge_settings

    studies, main_studies = config["studies"], config["supplement"]["main_studies"]
    problems = []
    for design, study in main_studies.items():
        if study not in studies:
            problems.append(f"supplement.main_studies.{design}: no study '{study}' under studies")
        elif studies[study]["design"] != design:
            problems.append(f"supplement.main_studies.{design}: study '{study}' has design '{studies[study]['design']}'")
    for name, spec in sorted(studies.items()):
        if not spec.get("settings"):
            continue
        design = spec["design"]
        merged = merge_settings(config[design], spec["settings"])
        sub = {"$schema": schema.get("$schema"), **schema["properties"][design]}
        for error in jsonschema.Draft202012Validator(sub, format_checker=jsonschema.FormatChecker()).iter_errors(merged):
            problems.append(_message(error).replace("config key '", f"config key 'studies.{name}.settings.", 1)
                            .replace("settings.(top level)", "settings"))
    if problems:
        raise ConfigError("the configuration is inconsistent:\n" + "\n".join(f"  - {p}" for p in problems))
