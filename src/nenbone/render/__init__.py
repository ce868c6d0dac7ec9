"""Render layer: the manuscript supplement (Quarto markdown) to self-contained HTML and PDF.

`render_supplement` uses Quarto when it is on PATH (engine "auto" or "quarto"), else the offline
renderer (pandoc from pypandoc-binary + the typst Python binding + the Lua filter shortcodes.lua).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from nenbone.errors import ConfigError
from nenbone.render.errors import MissingKeyError, RenderError
from nenbone.render.offline import render_offline
from nenbone.render.quarto import quarto_executable, render_quarto

__all__ = ["MissingKeyError", "RenderError", "render_supplement"]

Engine = Literal["auto", "quarto", "offline"]


def render_supplement(source_qmd: str | Path, out_html: str | Path, out_pdf: str | Path,
                      metadata_files: Sequence[str | Path], resource_root: str | Path,
                      engine: Engine = "auto", *, source_date_epoch: int) -> dict[str, str]:
    """Render the supplement to `out_html` and `out_pdf`.

    `metadata_files` (e.g. results/numbers.yml) feed the {{< meta >}} shortcodes; `resource_root`
    (the project root) bounds the files a PDF may read. Returns {"engine", "pandoc_version",
    "typst_version"} (plus "quarto_version" under Quarto); the same values are printed in the
    HTML's <meta name="generator"> and are render.* metadata for the source to print (the
    supplement says so once, in its computational-environment appendix).
    """
    if engine not in ("auto", "quarto", "offline"):
        raise ConfigError(f"render engine must be auto, quarto or offline, not {engine!r}")
    if isinstance(source_date_epoch, bool) or not isinstance(source_date_epoch, int) or source_date_epoch < 0:
        raise ConfigError(f"source_date_epoch must be a non-negative integer, not {source_date_epoch!r}")
    files = [Path(f) for f in metadata_files]
    if engine == "quarto" or (engine == "auto" and quarto_executable() is not None):
        return render_quarto(Path(source_qmd), Path(out_html), Path(out_pdf), files, source_date_epoch)
    return render_offline(Path(source_qmd), Path(out_html), Path(out_pdf), files, Path(resource_root),
                          source_date_epoch)
