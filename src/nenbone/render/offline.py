"""Offline renderer: pandoc (pypandoc-binary) + the typst Python binding, no Quarto, no network.

One source, two outputs: pandoc runs the package's Lua filter (shortcodes.lua) and citeproc, then
writes a self-contained HTML and a typst file that `typst.compile` turns into a PDF. Both outputs
are byte-identical on rerun: SOURCE_DATE_EPOCH is fixed for pandoc and passed to typst as the PDF
creation timestamp, typst sees only its embedded fonts, and nothing random enters either file.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from nenbone.errors import InputFileError
from nenbone.render.errors import MissingKeyError, RenderError

_FILTER = "shortcodes.lua"
_HTML_TEMPLATE = "template.html"
_TYPST_TEMPLATE = "template.typ"
_CSS = "supplement.css"
_ERROR = re.compile(r"NENBONE-ERROR\[([a-z-]+)\] (.*)")
_MISSING = re.compile(r"missing key '([^']*)' in (.*?) \(referenced in ")


def pandoc_path() -> str:
    """Path of the pandoc binary shipped by pypandoc-binary (Debian's pandoc is too old)."""
    import pypandoc

    return str(pypandoc.get_pandoc_path())


def tool_versions() -> dict[str, str]:
    """Versions of pandoc, of the typst compiler and of its Python binding, recorded in the output."""
    import typst

    out = subprocess.run([pandoc_path(), "--version"], capture_output=True, text=True, check=True)
    compiler = typst.eval(b"", "str(sys.version)", ignore_system_fonts=True).strip('"')
    return {
        "pandoc_version": out.stdout.split("\n", 1)[0].removeprefix("pandoc").strip(),
        "typst_version": compiler,
        "typst_python_version": importlib.metadata.version("typst"),
    }


def _as_text(value: Any) -> Any:
    """Every leaf as the exact string to print: pandoc's own YAML reader would print the float
    14.0 as '14' and 0.03 as '3.0e-2', so the filter gets JSON of strings instead."""
    if isinstance(value, dict):
        return {str(k): _as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load_metadata_file(path: Path) -> dict[str, Any]:
    """A metadata file (results/numbers.yml) as nested dicts of strings; None stays None (the
    filter refuses to print an empty value)."""
    if not path.is_file():
        raise InputFileError(f"{path}: metadata file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputFileError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputFileError(f"{path}: a metadata file must hold a mapping of keys, not a {type(data).__name__}")
    return _as_text(data)


_QUARTO_ONLY = frozenset({"project", "format", "execute", "metadata-files", "filters", "shortcodes",
                          "engine", "jupyter", "knitr", "freeze", "profile", "website", "book"})


def project_metadata(source: Path) -> tuple[dict[str, Any], list[Path]]:
    """What Quarto would take from _quarto.yml beside the source: its document metadata
    (bibliography, lang, ...) and its metadata-files (relative to the project directory)."""
    config = source.parent / "_quarto.yml"
    if not config.is_file():
        return {}, []
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InputFileError(f"{config}: not valid YAML: {exc}") from exc
    files = data.get("metadata-files") or []
    if isinstance(files, str):
        files = [files]
    metadata = {k: v for k, v in data.items() if k not in _QUARTO_ONLY}
    return metadata, [(source.parent / f).resolve() for f in files]


def _display(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _raise_pandoc_error(stderr: str, source: Path) -> None:
    found = _ERROR.search(stderr)
    if found and found.group(1) == "missing-key":
        key_file = _MISSING.search(found.group(2))
        if key_file:
            raise MissingKeyError(key_file.group(1), key_file.group(2), found.group(2))
    if found:
        raise RenderError(f"{source}: {found.group(2)}")
    raise RenderError(f"{source}: pandoc failed:\n{stderr.strip()}")


def run_pandoc(source: Path, to: str, extra_args: Sequence[str], meta_file: Path, root: Path,
               data_dir: Path, source_date_epoch: int) -> bytes:
    """Run pandoc with the filter and citeproc; any warning is an error (a citation key that the
    bibliography lacks, an image it could not embed): never a silently degraded supplement.
    --columns=10000: pipe tables with long lines (as the workflow writes them) keep natural column
    widths instead of pandoc's relative widths by dash count."""
    render_dir = resources.files("nenbone.render")
    args = [
        pandoc_path(), str(source), "--from", "markdown", "--to", to, "--standalone",
        "--data-dir", str(data_dir), "--metadata-file", str(meta_file),
        "--lua-filter", str(render_dir / _FILTER), "--citeproc",
        "--resource-path", os.pathsep.join([str(source.parent), str(root)]),
        "--toc", "--toc-depth=2", "--columns=10000", *extra_args,
    ]
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(source_date_epoch)}
    proc = subprocess.run(args, capture_output=True, cwd=source.parent, env=env)
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        _raise_pandoc_error(stderr, source)
    if "[WARNING]" in stderr:
        missing = re.findall(r"Citeproc: citation (\S+) not found", stderr)
        if missing:
            raise RenderError(f"{source}: citation key(s) not in the bibliography: {', '.join(missing)}")
        raise RenderError(f"{source}: pandoc warned while writing {to}:\n{stderr.strip()}")
    return proc.stdout


def compile_typst(typ: bytes, root: Path, source_date_epoch: int) -> bytes:
    """PDF from typst source held in memory; image paths in it start at `root` ("/results/...")."""
    import typst

    try:
        pdf, warnings = typst.compile_with_warnings(
            typ, root=str(root), format="pdf", timestamp=source_date_epoch,
            ignore_system_fonts=True, font_paths=[],
        )
    except typst.TypstError as exc:
        raise RenderError(f"typst could not compile the supplement: {exc.message}\n{exc.diagnostic}") from exc
    if warnings:
        raise RenderError("typst warned: " + "; ".join(f"{w.message} {w.diagnostic}" for w in warnings))
    assert isinstance(pdf, bytes)
    return pdf


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory so a failed render leaves no half file."""
    from nenbone.io.files import write_bytes_atomic

    write_bytes_atomic(data, path)


RENDER_TMP_PREFIX = ".nenbone-render-"
STALE_WORKSPACE_HOURS = 24
_WORKSPACE_OWNER = re.compile(r"(?P<host>.+)-(?P<pid>\d+)-[a-z0-9_]+")


def _pid_alive(pid: int) -> bool:
    """True while process `pid` exists on this machine (also when it is another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return True


def workspace_is_stale(folder: Path, now: float | None = None, host: str | None = None) -> bool:
    """True for a render workspace no running render owns: its name records this machine and a process
    that has ended, it carries no owner (an earlier version's name), or it is older than
    STALE_WORKSPACE_HOURS (a render on another machine sharing the folder, whose process cannot be asked)."""
    import socket
    import time

    owner = _WORKSPACE_OWNER.fullmatch(folder.name.removeprefix(RENDER_TMP_PREFIX))
    if owner is None:
        return True
    if owner["host"] == (host or socket.gethostname()) and not _pid_alive(int(owner["pid"])):
        return True
    try:
        age = (time.time() if now is None else now) - folder.stat().st_mtime
    except FileNotFoundError:
        return False  # removed meanwhile by its owner
    return age > STALE_WORKSPACE_HOURS * 3600


@contextlib.contextmanager
def render_workspace(out_dir: Path) -> Iterator[Path]:
    """A scratch folder for the render, inside the output folder (never the system temp folder: it
    holds unsuppressed numbers), named after this machine and process. Removed when the render ends,
    fails, is interrupted (Ctrl-C) or terminated (SIGTERM); a folder left by a SIGKILL is removed by the
    next render (`workspace_is_stale`), never the workspace of a render still running."""
    import socket

    from nenbone.io.files import make_private_folder, terminate_as_interrupt

    out_dir.mkdir(parents=True, exist_ok=True)
    for other in out_dir.glob(f"{RENDER_TMP_PREFIX}*"):
        if other.is_dir() and workspace_is_stale(other):
            shutil.rmtree(other, ignore_errors=True)
    prefix = f"{RENDER_TMP_PREFIX}{socket.gethostname()}-{os.getpid()}-"
    with terminate_as_interrupt(), tempfile.TemporaryDirectory(prefix=prefix, dir=out_dir) as name:
        make_private_folder(Path(name))
        yield Path(name)


def render_offline(source_qmd: Path, out_html: Path, out_pdf: Path, metadata_files: Sequence[Path],
                   resource_root: Path, source_date_epoch: int) -> dict[str, str]:
    """Render `source_qmd` to HTML and PDF with pandoc + typst; return engine and tool versions."""
    source, root = Path(source_qmd).resolve(), Path(resource_root).resolve()
    if not source.is_file():
        raise InputFileError(f"{source}: supplement source not found")
    project_meta, project_files = project_metadata(source)
    files = list(dict.fromkeys([*project_files, *(Path(f).resolve() for f in metadata_files)]))
    contents = [load_metadata_file(f) for f in files]
    info = {"engine": "offline", **tool_versions()}
    render_dir = resources.files("nenbone.render")
    with render_workspace(Path(out_html).resolve().parent) as tmp:
        listed = []
        for i, (f, content) in enumerate(zip(files, contents)):
            json_file = tmp / f"metadata-{i}.json"
            json_file.write_text(json.dumps(content, ensure_ascii=False, sort_keys=True), encoding="utf-8")
            listed.append({"path": str(json_file), "name": _display(f, root)})
        meta_file = tmp / "render.yml"
        meta = {**project_meta, "render": dict(info),
                "nenbone": {"resource-root": str(root), "metadata-files": listed}}
        meta_file.write_text(yaml.safe_dump(meta, sort_keys=True), encoding="utf-8")
        data_dir = tmp / "pandoc-data"
        data_dir.mkdir()
        html = run_pandoc(
            source, "html5",
            ["--embed-resources", "--mathml", "--template", str(render_dir / _HTML_TEMPLATE),
             "--css", str(render_dir / _CSS)],
            meta_file, root, data_dir, source_date_epoch)
        typ = run_pandoc(source, "typst-citations", ["--template", str(render_dir / _TYPST_TEMPLATE)],
                         meta_file, root, data_dir, source_date_epoch)
    pdf = compile_typst(typ, root, source_date_epoch)
    write_atomically(Path(out_html), html)
    write_atomically(Path(out_pdf), pdf)
    return info
