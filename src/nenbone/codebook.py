"""Codebooks: the single description of a raw export and of the variables derived from it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from nenbone.errors import ConfigError

NUMERIC_TYPES = frozenset({"integer", "numeric", "categorical", "boolean"})
CODED_TYPES = ("categorical", "boolean")
Code = int | str


@dataclass(frozen=True)
class Variable:
    """One raw variable as the codebook declares it."""

    name: str
    label: str
    type: str
    codes: dict[Code, str] = field(default_factory=dict)
    missing_codes: tuple[Any, ...] = ()
    range: tuple[Any, Any] | None = None
    unit: str | None = None
    nullable: bool = True
    description: str = ""
    source: str | None = None
    means: dict[str, tuple[Code, ...]] = field(default_factory=dict)
    formats: tuple[str, ...] = ()
    compose: dict[str, Any] | None = None

    @property
    def column(self) -> str:
        """The column of the export that holds this variable (its own name unless `source:` renames it)."""
        return self.source or self.name

    @property
    def string_codes(self) -> bool:
        """True when the codes are text (M/F, Yes/No) rather than numbers."""
        return any(isinstance(k, str) for k in self.codes)

    @property
    def meaning_of(self) -> dict[Code, str]:
        """code -> its meaning (the study's word: 'dead', 'yes', 'male', 'GEP' ...)."""
        return {c: m for m, codes in self.means.items() for c in codes}

    @property
    def numeric_missing_codes(self) -> tuple[float, ...]:
        """SPSS-style user-missing codes (numbers)."""
        return tuple(c for c in self.missing_codes if not isinstance(c, str))

    @property
    def text_missing_codes(self) -> tuple[str, ...]:
        """Missing codes of a text-coded variable ("U", "Unknown")."""
        return tuple(str(c) for c in self.missing_codes) if self.string_codes else ()

    @property
    def stata_missing_codes(self) -> tuple[str, ...]:
        """Stata extended missing values, as letters ('a' for '.a')."""
        if self.string_codes:
            return ()
        return tuple(c.lstrip(".") for c in self.missing_codes if isinstance(c, str))

    @property
    def valid_codes(self) -> dict[int, str]:
        """Codes that carry a real value (declared codes minus missing codes)."""
        miss = set(self.text_missing_codes) if self.string_codes else set(self.numeric_missing_codes)
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
    encoding: str | None = None
    birth_variable: str | None = None
    min_rows: int = 2
    max_age_years: float = 110
    data_cutoff: str | None = None
    source: str = "<codebook>"

    def codes_meaning(self, variable: str, *meanings: str) -> tuple[Code, ...]:
        """The codes of `variable` that carry one of `meanings`; a meaning left undeclared is refused by name."""
        var = self.variables.get(variable)
        if var is None:
            raise ConfigError(f"{self.source}: the derivation needs variable '{variable}', which the codebook "
                              f"does not declare")
        missing = [m for m in meanings if m not in var.means]
        if missing:
            raise ConfigError(f"{self.source}: variable '{variable}' does not declare the meaning(s) "
                              f"{', '.join(repr(m) for m in missing)} (add them under its means:)")
        return tuple(c for m in meanings for c in var.means[m])

    def meaning_map(self, variable: str) -> dict[Code, str]:
        """code -> meaning for one variable (every valid code has one; checked when parsed)."""
        self.codes_meaning(variable)
        return self.variables[variable].meaning_of

    def missing_meanings(self, needs: Mapping[str, Iterable[str]]) -> list[str]:
        """What a derivation needs that the codebook lacks: one line per variable, naming what is missing."""
        out = []
        for name, meanings in needs.items():
            var = self.variables.get(name)
            if var is None:
                out.append(f"variable '{name}' is not declared")
                continue
            lack = [m for m in meanings if m not in var.means]
            if lack:
                out.append(f"variable '{name}' declares no meaning {', '.join(repr(m) for m in lack)}"
                           f" (its means: {sorted(var.means) or 'none'})")
        return out

    def require_meanings(self, needs: Mapping[str, Iterable[str]], who: str) -> None:
        """Refuse, listing every missing variable/meaning at once, a codebook a derivation cannot use."""
        lack = self.missing_meanings(needs)
        if lack:
            raise ConfigError(f"{self.source}: codebook lacks what {who} needs:\n" +
                              "\n".join(f"  - {x}" for x in lack))

    @property
    def read_variables(self) -> dict[str, Variable]:
        """Variables read from the export (composite ones are built from others)."""
        return {n: v for n, v in self.variables.items() if v.compose is None}

    @property
    def value_labels(self) -> dict[str, dict[Code, str]]:
        return {n: dict(v.codes) for n, v in self.variables.items() if v.codes}

    @property
    def variable_labels(self) -> dict[str, str]:
        return {n: v.label for n, v in self.variables.items()}

    def of_type(self, *types: str) -> list[str]:
        return [n for n, v in self.variables.items() if v.type in types]


def _schema() -> dict[str, Any]:
    text = resources.files("nenbone").joinpath("codebook.schema.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _parse_codes(name: str, raw: Mapping[Any, Any], problems: list[str]) -> dict[Code, str]:
    """Codes as written: all whole numbers or all text; a bare YAML yes/no/true/false key is refused."""
    out: dict[Code, str] = {}
    for k, v in raw.items():
        if isinstance(k, bool):
            problems.append(f"variable '{name}': code {k!r} was read by YAML as a boolean; quote it "
                            f"(\"Yes\", \"No\", \"Y\", \"N\")")
        elif isinstance(k, float) and k.is_integer():
            out[int(k)] = str(v)
        elif isinstance(k, (int, str)):
            out[k] = str(v)
        else:
            problems.append(f"variable '{name}': code {k!r} is neither a whole number nor text")
    kinds = {type(k) for k in out}
    if len(kinds) > 1:
        problems.append(f"variable '{name}': codes mix numbers and text ({sorted(map(str, out))}); "
                        f"a column holds one or the other")
    return out


def _parse_means(name: str, raw: Mapping[str, Any], problems: list[str]) -> dict[str, tuple[Code, ...]]:
    """meaning -> codes as written (2.0 -> 2); a YAML boolean is refused. The partition is checked later."""
    out: dict[str, tuple[Code, ...]] = {}
    for meaning, value in raw.items():
        if isinstance(meaning, bool):
            problems.append(f"variable '{name}': meaning {meaning!r} was read by YAML as a boolean; quote it "
                            f"(\"yes\", \"no\")")
            continue
        listed = value if isinstance(value, list) else [value]
        cs: list[Code] = []
        for c in listed:
            if isinstance(c, bool):
                problems.append(f"variable '{name}': meaning '{meaning}' lists {c!r}, read by YAML as a "
                                f"boolean; quote the code")
                continue
            cs.append(int(c) if isinstance(c, float) and c.is_integer() else c)
        out[str(meaning)] = tuple(cs)
    return out


@dataclass(frozen=True)
class GroupingProblem:
    """One break of "each code a known code, in exactly one group" (groups: meanings, config code lists).

    `problem` is `unknown-code` (the group lists a code that is not among the known ones),
    `in-two-groups` (`first_group` listed it before `group`) or `in-no-group` (a code that needs a
    group has none; `group` is None).
    """

    group: str | None
    code: Any
    problem: str
    first_group: str | None = None


def grouping_problems(groups: Mapping[Any, Iterable[Any] | None], known: Iterable[Any] | None = None,
                      cover: Iterable[Any] = ()) -> list[GroupingProblem]:
    """Each listed code among `known` (any code when None) and in one group only; each code of `cover` in a group.

    Problems in the order the groups list their codes, then the uncovered codes in `cover`'s order;
    a code outside `known` is reported as such only (not also as in two groups).
    """
    known_codes = None if known is None else set(known)
    seen: dict[Any, str] = {}
    out = []
    for group, codes in groups.items():
        for code in codes or []:
            if known_codes is not None and code not in known_codes:
                out.append(GroupingProblem(str(group), code, "unknown-code"))
            elif code in seen and seen[code] != str(group):
                out.append(GroupingProblem(str(group), code, "in-two-groups", seen[code]))
            seen[code] = str(group)
    out += [GroupingProblem(None, code, "in-no-group") for code in cover if code not in seen]
    return out


def _meaning_problems(name: str, var: Variable) -> list[str]:
    """The variable's means: as a partition of its valid codes (every code declared, one meaning each)."""
    out = []
    uncovered = []
    for p in grouping_problems(var.means, var.codes, cover=var.valid_codes if var.means else ()):
        if p.problem == "unknown-code":
            out.append(f"variable '{name}': meaning '{p.group}' lists code {p.code!r}, which is not "
                       f"among its codes {sorted(map(str, var.codes))}")
        elif p.problem == "in-two-groups":
            out.append(f"variable '{name}': code {p.code!r} means both '{p.first_group}' and '{p.group}'")
        else:
            uncovered.append(p.code)
    if uncovered:
        out.append(f"variable '{name}': valid code(s) {uncovered} have no meaning (each valid "
                   f"code needs one under means:, or declare it a missing code)")
    return out


def _check_variables(variables: Mapping[str, Variable]) -> list[str]:
    """Cross-field rules the schema cannot say: meanings cover every valid code, sources unique, compose refs."""
    problems = []
    columns: dict[str, str] = {}
    for name, var in variables.items():
        problems += _meaning_problems(name, var)
        if var.means:
            missing_meant = [c for c in var.meaning_of if c in var.codes and c not in var.valid_codes]
            if missing_meant:
                problems.append(f"variable '{name}': missing code(s) {missing_meant} are given a meaning")
        if var.formats and var.type != "date":
            problems.append(f"variable '{name}': formats: applies to dates only (type is {var.type})")
        if var.compose is not None:
            if var.source is not None:
                problems.append(f"variable '{name}': a composite variable has no source column")
            refs = var.compose.get("first_of") or [var.compose.get("if_present")]
            for r in refs:
                if r not in variables or variables[r].compose is not None:
                    problems.append(f"variable '{name}': compose names '{r}', which is not a variable read "
                                    f"from the file")
            if "if_present" in var.compose:
                for key in ("then", "else"):
                    c = var.compose.get(key)
                    if c not in var.valid_codes:
                        problems.append(f"variable '{name}': compose {key}: {c!r} is not one of its valid "
                                        f"codes {sorted(map(str, var.valid_codes))}")
            elif var.type != "date":
                problems.append(f"variable '{name}': compose first_of builds a date (type is {var.type})")
            continue
        col = var.column
        if col in columns:
            problems.append(f"variables '{columns[col]}' and '{name}' both read column '{col}'")
        columns[col] = name
    return problems


def parse_codebook(raw: dict[str, Any], source: str = "<codebook>") -> Codebook:
    """Check a codebook mapping against the schema and build the typed object."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(e.path))
    if errors:
        msgs = [f"  - at '{'/'.join(map(str, e.path)) or '(top)'}': {e.message}" for e in errors]
        raise ConfigError(f"{source}: codebook does not follow the codebook schema:\n" + "\n".join(msgs))
    variables = {}
    problems: list[str] = []
    for name, spec in raw["variables"].items():
        codes = _parse_codes(name, spec.get("codes") or {}, problems)
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
            source=spec.get("source"),
            means=_parse_means(name, spec.get("means") or {}, problems),
            formats=tuple(spec.get("formats") or ()),
            compose=spec.get("compose"),
        )
    problems += _check_variables(variables)
    for key in ("birth_variable",):
        if raw.get(key) is not None and (raw[key] not in variables or variables[raw[key]].type != "date"):
            problems.append(f"{key} '{raw[key]}' is not a date variable of the codebook")
    if problems:
        raise ConfigError(f"{source}: codebook contradicts itself or is incomplete:\n" +
                          "\n".join(f"  - {p}" for p in problems))
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
        encoding=raw.get("encoding"),
        birth_variable=raw.get("birth_variable"),
        min_rows=int(raw.get("min_rows", 2)),
        max_age_years=float(raw.get("max_age_years", 110)),
        data_cutoff=str(raw["data_cutoff"]) if raw.get("data_cutoff") is not None else None,
        source=source,
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
