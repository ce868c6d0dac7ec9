"""Imports flow one way: io -> validation -> derive -> analysis -> presentation -> render.

`codebook` and `errors` are shared by all layers; `runner` and `provenance` are glue for the rule
scripts; `synthetic` (the twins) and `verify` (code digests, manifest, certificate) sit on top. A module may import its own layer or lower ones only.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "nenbone"
RANK = {"codebook": 0, "errors": 0, "formatting": 0, "designs": 0, "configcheck": 0, "io": 1, "validation": 2, "derive": 3, "analysis": 4,
        "presentation": 5, "render": 6, "provenance": 7, "runner": 7, "preflight": 7, "synthetic": 8,
        "verify": 9}


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "nenbone"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("nenbone")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nenbone"):
            found.add(node.module)
    return found


def test_every_module_belongs_to_a_layer():
    layers = {p.stem if p.parent == PACKAGE else p.relative_to(PACKAGE).parts[0] for p in PACKAGE.rglob("*.py")}
    assert layers - {"__init__"} <= set(RANK)


def upward_imports(package: Path) -> list[str]:
    """Every import of a higher layer by a lower one, in the package rooted at `package`."""
    violations = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        own = rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.stem != "__init__" else "nenbone"
        if own == "nenbone":
            continue
        for module in imported_modules(path):
            target = layer_of(module)
            if target in RANK and RANK[target] > RANK[own]:
                violations.append(f"{rel} ({own}) imports {module} ({target})")
    return violations


def test_no_lower_layer_imports_a_higher_one():
    violations = upward_imports(PACKAGE)
    assert not violations, "\n".join(violations)


def test_the_check_catches_an_upward_import(tmp_path):
    """A copy of the package with one real upward import (analysis -> presentation) fails the check."""
    import shutil

    copy = tmp_path / "nenbone"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert upward_imports(copy) == []
    module = copy / "analysis" / "descriptive.py"
    module.write_text(module.read_text(encoding="utf-8") + "\nfrom nenbone.presentation.tables import describe\n",
                      encoding="utf-8")
    assert upward_imports(copy) == [
        "analysis/descriptive.py (analysis) imports nenbone.presentation.tables (presentation)"]
