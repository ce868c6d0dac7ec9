"""Codebooks: the single description of a raw export and of the variables derived from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from nenbone.errors import ConfigError

NUMERIC_TYPES = frozenset({"integer", "numeric", "categorical", "boolean"})


@dataclass(frozen=True)
class Variable:
    """One raw variable as the codebook declares it."""

    name: str
    label: str
    type: str
    codes: dict[int, str] = field(default_factory=dict)
    missing_codes: tuple[Any, ...] = ()
    range: tuple[Any, Any] | None = None
    unit: str | None = None
    nullable: bool = True
    description: str = ""

    @property
    def numeric_missing_codes(self) -> tuple[float, ...]:
        """SPSS-style user-missing codes (numbers)."""
        return tuple(c for c in self.missing_codes if not isinstance(c, str))

    @property
    def stata_missing_codes(self) -> tuple[str, ...]:
        """Stata extended missing values, as letters ('a' for '.a')."""
        return tuple(c.lstrip(".") for c in self.missing_codes if isinstance(c, str))

    @property
    def valid_codes(self) -> dict[int, str]:
        """Codes that carry a real value (declared codes minus missing codes)."""
        miss = set(self.numeric_missing_codes)
        return {k: v for k, v in self.codes.items() if k not in miss}


@dataclass(frozen=True)
class DateOrder:
    """`earlier` must come before (strict) or not after `later` whenever both are known."""

    earlier: str
    later: str
    strict: bool = False


@dataclass(frozen=True)
class DerivedVariable:
    """A variable computed from the raw ones; its definition is written here once."""

    name: str
    label: str
    type: str
    definition: str
    unit: str | None = None
    config: str | None = None


@dataclass(frozen=True)
class Codebook:
    study: str
    title: str
    source_format: str
    id_variable: str
    variables: dict[str, Variable]
    date_order: tuple[DateOrder, ...] = ()
    derived: dict[str, DerivedVariable] = field(default_factory=dict)
    notes: str = ""

    @property
    def value_labels(self) -> dict[str, dict[int, str]]:
        return {n: dict(v.codes) for n, v in self.variables.items() if v.codes}

    @property
    def variable_labels(self) -> dict[str, str]:
        return {n: v.label for n, v in self.variables.items()}

    def of_type(self, *types: str) -> list[str]:
        return [n for n, v in self.variables.items() if v.type in types]


def _schema() -> dict[str, Any]:
    text = resources.files("nenbone").joinpath("codebook.schema.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def parse_codebook(raw: dict[str, Any], source: str = "<codebook>") -> Codebook:
    """Check a codebook mapping against the schema and build the typed object."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(e.path))
    if errors:
        msgs = [f"  - at '{'/'.join(map(str, e.path)) or '(top)'}': {e.message}" for e in errors]
        raise ConfigError(f"{source}: codebook does not follow the codebook schema:\n" + "\n".join(msgs))
    variables = {}
    for name, spec in raw["variables"].items():
        codes = {int(k): str(v) for k, v in (spec.get("codes") or {}).items()}
        rng = tuple(spec["range"]) if spec.get("range") is not None else None
        variables[name] = Variable(
            name=name,
            label=spec["label"],
            type=spec["type"],
            codes=codes,
            missing_codes=tuple(spec.get("missing_codes") or ()),
            range=rng,
            unit=spec.get("unit"),
            nullable=spec.get("nullable", True),
            description=spec.get("description", ""),
        )
    if raw["id_variable"] not in variables:
        raise ConfigError(f"{source}: id_variable '{raw['id_variable']}' is not among the variables")
    order = tuple(DateOrder(**d) for d in raw.get("date_order") or ())
    for d in order:
        for name in (d.earlier, d.later):
            if name not in variables or variables[name].type != "date":
                raise ConfigError(f"{source}: date_order names '{name}', which is not a date variable")
    derived = {n: DerivedVariable(name=n, **spec) for n, spec in (raw.get("derived") or {}).items()}
    return Codebook(
        study=raw["study"],
        title=raw["title"],
        source_format=raw["source_format"],
        id_variable=raw["id_variable"],
        variables=variables,
        date_order=order,
        derived=derived,
        notes=raw.get("notes", ""),
    )


def load_codebook(path: str | Path) -> Codebook:
    """Read and check a codebook YAML file."""
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"codebook not found: {p}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: a codebook must be a mapping")
    return parse_codebook(raw, source=str(p))
