"""The code a rule runs, as one digest: its script and every `nenbone` module it imports, transitively.

Snakemake's own code trigger hashes the `script:` file only, so editing a package module reran
nothing. Each rule carries `params: code=code_digest("scripts/<rule>.py")` (rules/digest.smk): a
changed module changes the digest of exactly the rules that import it, and Snakemake reruns them
("Params have changed") and everything downstream. Computed at parse time from the source files
(standard library only, nothing is imported), so it survives a fresh checkout.

What counts as imported (deliberately generous: a rule reruns rather than goes stale):
- `import nenbone.x.y`, `from nenbone.x import y` (y a module or a name), relative imports, at any
  depth of the file (inside functions, under `if TYPE_CHECKING:`);
- the `__init__.py` of every package on the way (importing nenbone.a.b runs nenbone/__init__.py and
  nenbone/a/__init__.py);
- `importlib.import_module(f"nenbone.pkg.{...}")`: every module of that package;
- data files beside an imported module (templates, schemas: read via importlib.resources).
"""

from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE = "nenbone"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def module_file(name: str, src: Path) -> Path | None:
    """The file that defines module `name` under `src` (package -> its __init__.py), or None."""
    base = src.joinpath(*name.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def module_name(path: Path, src: Path) -> str:
    rel = path.resolve().relative_to(src.resolve()).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _dynamic_package(node: ast.Call) -> str | None:
    """`import_module(f"nenbone.pkg.{x}")` -> "nenbone.pkg"."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if called != "import_module" or not node.args or not isinstance(node.args[0], ast.JoinedStr):
        return None
    first = node.args[0].values[0] if node.args[0].values else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.startswith(PACKAGE + "."):
        return first.value.rstrip(".")
    return None


def imported_names(path: Path, own_name: str | None = None) -> set[str]:
    """Every module name the file may import (absolute, relative resolved against `own_name`);
    for `from m import a`, both `m` and `m.a` (the caller keeps those that are modules)."""
    package = _package_of(own_name, path) if own_name else ""
    return set(_names_in_source(path.read_text(encoding="utf-8"), str(path), package))


@lru_cache(maxsize=None)
def _names_in_source(source: str, filename: str, package: str) -> frozenset[str]:
    """The package modules a source text may import; keyed by the text itself, so every rule's digest
    at parse time parses each shared module once, and an edited file is parsed anew."""
    tree = ast.parse(source, filename=filename)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)] if package else []
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Call):
            dynamic = _dynamic_package(node)
            if dynamic:
                found.add(dynamic + ".*")
    return frozenset(n for n in found if n == PACKAGE or n.startswith(PACKAGE + "."))


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _excluded(name: str, exclude: tuple[str, ...]) -> bool:
    return any(name == e or name.startswith(e + ".") for e in exclude)


def imported_files(script: Path, src: Path, exclude: tuple[str, ...] = ()) -> list[Path]:
    """The package files `script` runs, transitively (sorted; the script itself not included).
    Modules under an `exclude`d package (e.g. "nenbone.analysis") and what only they import are left out."""
    script, src = Path(script).resolve(), Path(src).resolve()
    seen: dict[str, Path] = {}
    todo = [(n, None) for n in imported_names(script)]
    while todo:
        name, _ = todo.pop()
        if name.endswith(".*"):
            folder = src.joinpath(*name[:-2].split("."))
            names = [module_name(p, src) for p in sorted(folder.glob("*.py"))] if folder.is_dir() else []
            todo += [(n, None) for n in names]
            continue
        for candidate in _with_parents(name):
            if candidate in seen or _excluded(candidate, exclude):
                continue
            path = module_file(candidate, src)
            if path is None:
                continue  # a name imported from a module, not a module
            seen[candidate] = path
            todo += [(n, None) for n in imported_names(path, candidate)]
    files = set(seen.values())
    for folder in {p.parent for p in files}:
        files |= {f for f in folder.iterdir() if f.is_file() and f.suffix not in (".py", ".pyc")}
    return sorted(files)


@lru_cache(maxsize=None)
def _digest(script: Path, src: Path, exclude: tuple[str, ...]) -> str:
    root = src.parent
    files = [script, *imported_files(script, src, exclude)]
    listing = "".join(f"{_display(f, root)}\t{_sha256(f)}\n" for f in files)
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def _display(path: Path, root: Path) -> str:
    path = path.resolve()
    return path.relative_to(root.resolve()).as_posix() if path.is_relative_to(root.resolve()) else path.name


def code_digest(script: str | Path, src: str | Path, exclude: tuple[str, ...] = ()) -> str:
    """SHA-256 over the script and every package file it runs (path and content of each)."""
    return _digest(Path(script).resolve(), Path(src).resolve(), tuple(exclude))
