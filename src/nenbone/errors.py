"""User-facing errors: each carries a complete message, so no traceback is ever shown."""

from __future__ import annotations

from dataclasses import dataclass, field


class NenboneError(Exception):
    """An error whose message is meant for the user, printed without a traceback.

    The full message goes to the rule's private log only; `summary()` is what the console (and so
    Snakemake's own log) may show: no patient IDs, dates or values.
    """

    def summary(self) -> str:
        """The message without patient-level detail: cut where it starts to name patients."""
        text = str(self)
        cut = text.lower().find("patient")
        if cut < 0:
            return text
        return text[:cut].rstrip(" (:;,") + " [details name patients]"


class InputFileError(NenboneError):
    """A raw input file cannot be read at all (missing, empty, truncated, wrong format)."""


class ConfigError(NenboneError):
    """The configuration or a codebook is inconsistent."""


@dataclass(frozen=True)
class Violation:
    """One broken rule: which variable, which rule, which patients."""

    variable: str
    rule: str
    patient_ids: tuple[str, ...] = ()
    detail: str = ""

    def describe(self, max_ids: int = 20) -> str:
        ids = list(self.patient_ids)
        shown = ", ".join(ids[:max_ids]) + (f", ... ({len(ids)} in all)" if len(ids) > max_ids else "")
        who = f" patient(s): {shown}" if ids else ""
        extra = f" ({self.detail})" if self.detail else ""
        return f"variable '{self.variable}': rule '{self.rule}' broken{extra};{who}".rstrip(";")


@dataclass
class ValidationError(NenboneError):
    """All violations found in one file, reported together."""

    file: str
    violations: list[Violation] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.file}: {len(self.violations)} validation error(s)"]
        lines += [f"  - {v.describe()}" for v in self.violations]
        return "\n".join(lines)

    def summary(self) -> str:
        """Each violation's variable, rule and number of patients: no IDs, no values."""
        lines = [f"{self.file}: {len(self.violations)} validation error(s)"]
        # a violation of the whole file (too few rows, a missing column) names no patient: its detail
        # is shown; a violation naming patients shows only how many
        lines += [f"  - variable '{v.variable}': rule '{v.rule}' broken"
                  + (f" ({len(v.patient_ids)} patient(s))" if v.patient_ids else (f": {v.detail}" if v.detail else ""))
                  for v in self.violations]
        return "\n".join(lines)
