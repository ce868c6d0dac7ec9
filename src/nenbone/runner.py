"""Glue between a Snakemake `script:` and the package: logging and user-facing failures.

Every rule script calls `run_rule(snakemake, main)`. A `NenboneError` ends the job with exit status 1:
its full message (which may name patients) goes to the rule's log under results/logs/ only, and
stderr (the console, and so Snakemake's own log) gets its summary without patient IDs and the
log's path. The user sees what is wrong, not a traceback.
Any other exception (a bug, or a file the checks did not foresee) ends the same way: one message
naming the rule, its input files and, where the exception names one, the variable; the traceback
goes to the rule's log only.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nenbone.errors import NenboneError

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def _log_path(smk: Any) -> Path | None:
    logs = list(getattr(smk, "log", []) or [])
    return Path(logs[0]) if logs else None


class ConsoleFormatter(logging.Formatter):
    """What stderr shows of a record: its `console` text when it has one (a summary without patient IDs)."""

    def format(self, record: logging.LogRecord) -> str:
        console = getattr(record, "console", None)
        if console is None:
            return super().format(record)
        return f"{record.levelname} {record.name}: {console}"


def configure_logging(log_file: Path | None) -> logging.Logger:
    """Send INFO and above to the rule's log file, warnings and above to stderr too."""
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(logging.INFO)
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.WARNING)
    err.setFormatter(ConsoleFormatter(LOG_FORMAT))
    root.addHandler(err)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_file, mode="w", encoding="utf-8")
        fh.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(fh)
    for noisy in ("matplotlib", "fontTools", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return logging.getLogger("nenbone")


def run_rule(smk: Any, main: Callable[[Any, logging.Logger], None]) -> None:
    """Run a rule's main function; turn a NenboneError into a clean failure."""
    rule = getattr(smk, "rule", "rule")
    log = configure_logging(_log_path(smk))
    try:
        main(smk, log)
    except NenboneError as exc:
        message = f"rule '{rule}' failed:\n{exc}"
        path = _log_path(smk)
        where = f"the full message is in {path} (private: it may name patients)" if path else ""
        log.error(message, extra={"console": f"rule '{rule}' failed:\n{exc.summary()}\n{where}".rstrip()})
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - never a traceback on the console
        log.error(unexpected_failure(rule, smk, exc, _log_path(smk)))
        log_file = _log_path(smk)
        if log_file is not None:
            import traceback

            with open(log_file, "a", encoding="utf-8") as fh:
                fh.write("detail (for a bug report):\n" + "".join(traceback.format_exception(exc)))
        sys.exit(1)


def _inputs(smk: Any) -> list[str]:
    try:
        return [str(x) for x in list(getattr(smk, "input", []) or [])]
    except Exception:  # noqa: BLE001
        return []


def unexpected_failure(rule: str, smk: Any, exc: BaseException, log_file: Path | None) -> str:
    """One user-facing message for an exception nenbone did not anticipate."""
    variable = ""
    if isinstance(exc, KeyError) and exc.args:
        variable = f"\n  variable or key: {exc.args[0]!r} (not found; is it declared in the codebook?)"
    files = ", ".join(_inputs(smk)) or "(none)"
    where = f"\n  detail: {log_file}" if log_file is not None else ""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return (f"rule '{rule}' failed on input(s) {files}: {type(exc).__name__}"
            f"{': ' + text if text else ''}{variable}{where}")


def expose_to_jobs(src_dir: Path) -> None:
    """Put the package's source folder first on PYTHONPATH, so jobs in any interpreter can import it.

    Jobs may run in a conda environment of envs/ (which does not install nenbone) or on a SLURM node
    (sbatch passes the environment on); both then import the same sources as the controller.
    """
    import os

    src = str(Path(src_dir).resolve())
    rest = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != src]
    os.environ["PYTHONPATH"] = os.pathsep.join([src, *rest])
