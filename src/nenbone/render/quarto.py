"""Quarto renderer: used when `quarto` is on PATH. Quarto reads manuscript/_quarto.yml itself
(metadata-files, formats html + typst); here only the outputs are moved to where the workflow wants
them. Not exercised by the tests (Quarto cannot be installed offline); keep it minimal."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import yaml

from nenbone.errors import InputFileError
from nenbone.render.errors import RenderError
from nenbone.render.offline import load_metadata_file, render_workspace, write_atomically


def quarto_executable() -> str | None:
    """Path of `quarto` on PATH, or None."""
    return shutil.which("quarto")


def _output_dir(source: Path) -> Path:
    """Where Quarto writes outputs: the project's output-dir from _quarto.yml, else beside the source."""
    config = source.parent / "_quarto.yml"
    if config.is_file():
        project = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("project") or {}
        if project.get("output-dir"):
            return (source.parent / project["output-dir"]).resolve()
    return source.parent


def render_quarto(source_qmd: Path, out_html: Path, out_pdf: Path, metadata_files: Sequence[Path],
                  source_date_epoch: int) -> dict[str, str]:
    """`quarto render --to html` and `--to typst`, each with --metadata-file for every file."""
    quarto = quarto_executable()
    if quarto is None:
        raise RenderError("engine 'quarto' requested but quarto is not on PATH; use engine 'offline' or 'auto'")
    source = Path(source_qmd).resolve()
    if not source.is_file():
        raise InputFileError(f"{source}: supplement source not found")
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(source_date_epoch)}
    version = subprocess.run([quarto, "--version"], capture_output=True, text=True, env=env).stdout.strip()
    bundled = f"bundled with Quarto {version}"
    info = {"engine": "quarto", "quarto_version": version, "pandoc_version": bundled, "typst_version": bundled}
    with render_workspace(Path(out_html).resolve().parent) as tmp:
        render_meta = Path(tmp) / "render.yml"
        render_meta.write_text(yaml.safe_dump({"render": info}, sort_keys=True), encoding="utf-8")
        # numbers as strings (Quarto's YAML reader, like pandoc's, would print 14.0 as 14)
        texts = [Path(tmp) / f"metadata-{i}.yml" for i in range(len(metadata_files))]
        for f, text in zip(metadata_files, texts):
            text.write_text(yaml.safe_dump(load_metadata_file(Path(f)), allow_unicode=True), encoding="utf-8")
        meta_args = [a for f in [render_meta, *texts] for a in ("--metadata-file", str(f))]
        for to, ext, target in (("html", "html", out_html), ("typst", "pdf", out_pdf)):
            name = f"{source.stem}.nenbone-{to}.{ext}"
            proc = subprocess.run([quarto, "render", str(source), "--to", to, "--output", name, *meta_args],
                                  cwd=source.parent, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RenderError(f"{source}: quarto render --to {to} failed:\n{proc.stderr.strip()}")
            produced = _output_dir(source) / name
            write_atomically(Path(target), produced.read_bytes())
            produced.unlink()
    return info
