"""The conda environments in envs/ (for `--software-deployment-method conda`) agree with requirements.lock.

Checked for every envs/*.yaml: each package is pinned to exactly its locked version; the environment is
closed (everything its packages require is pinned too, so conda's pip installs nothing unpinned); and
every rule runs in an environment that has each third-party package its script imports, directly or
through the nenbone modules it uses. Requirements come from the installed packages' metadata (the
.venv holds exactly the lock), imports from the sources' syntax trees.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
ENV_DIR = ROOT / "envs"
ENVS = sorted(ENV_DIR.glob("*.yaml"))
SRC = ROOT / "src"
# Needed at run time without an import statement: pandas reads and writes parquet through pyarrow.
RUNTIME_ONLY = {"parquet": "pyarrow"}


def read_lock(path: Path = ROOT / "requirements.lock") -> dict[str, str]:
    """Locked versions by canonical package name."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def env_packages(path: Path) -> tuple[list[str], list[str]]:
    """The conda dependencies (strings) and the pip entries of an environment file."""
    env = yaml.safe_load(path.read_text())
    conda, pip = [], []
    for dep in env.get("dependencies") or []:
        if isinstance(dep, dict):
            pip.extend(dep.get("pip") or [])
        else:
            conda.append(str(dep))
    return conda, pip


def env_pins(path: Path) -> dict[str, str]:
    """Every pinned package of an environment (conda `name=version` or pip `name==version`)."""
    conda, pip = env_packages(path)
    pins = {}
    for entry in conda:
        name, _, version = entry.partition("=")
        if canonicalize_name(name) not in ("python", "pip"):
            pins[canonicalize_name(name)] = version.lstrip("=")
    for entry in pip:
        name, _, version = entry.partition("==")
        pins[canonicalize_name(name)] = version.strip()
    return pins


def requirements_of(dist: str) -> set[str]:
    """What an installed package requires on this platform (markers evaluated, no extras)."""
    reqs = set()
    for text in importlib.metadata.distribution(dist).requires or []:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            reqs.add(canonicalize_name(req.name))
    return reqs


def module_file(module: str) -> Path | None:
    """The source file of a nenbone module (package __init__ or plain module), if it exists."""
    base = SRC.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_names(path: Path) -> set[str]:
    """Absolute module names a file imports anywhere (also inside functions), relative ones resolved."""
    names = set()
    package = list(path.relative_to(SRC).parent.parts) if path.is_relative_to(SRC) else []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def third_party_imports(script: Path) -> tuple[set[str], set[Path]]:
    """Top-level third-party modules a script needs, following its nenbone imports; and the files read."""
    seen: set[Path] = set()
    todo, modules = [script], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in imported_names(path):
            top = name.split(".")[0]
            if top == "nenbone":
                parts = name.split(".")
                todo.extend(f for i in range(1, len(parts) + 1) if (f := module_file(".".join(parts[:i]))))
            elif top not in sys.stdlib_module_names and top != "__future__":
                modules.add(top)
    return modules, seen


def distributions_for(modules: set[str], files: set[Path]) -> set[str]:
    """Canonical names of the installed packages that provide these modules (plus run-time-only needs)."""
    providers = importlib.metadata.packages_distributions()
    unknown = sorted(m for m in modules if m not in providers)
    assert not unknown, f"imported modules that no installed package provides: {unknown}"
    dists = {canonicalize_name(d) for m in modules for d in providers[m]}
    text = "\n".join(f.read_text() for f in files)
    dists |= {canonicalize_name(pkg) for word, pkg in RUNTIME_ONLY.items() if word in text}
    return dists


def workflow_rules() -> list:
    """The workflow's rules, as Snakemake parses them (script, conda env, base directory)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import OutputSettings, ResourceSettings

    saved_path, saved_pythonpath = list(sys.path), os.environ.get("PYTHONPATH")
    try:
        with SnakemakeApi(OutputSettings()) as api:
            workflow = api.workflow(
                resource_settings=ResourceSettings(), snakefile=ROOT / "Snakefile", workdir=ROOT
            )
            return list(workflow._workflow.rules)
    except Exception as exc:  # a broken Snakefile or config: say so in one line, not a long traceback
        pytest.fail(f"the workflow does not load, so its rules cannot be checked: {exc!s:.300}")
    finally:  # loading the Snakefile puts src/ on sys.path and PYTHONPATH; leave the session as it was
        sys.path[:] = saved_path
        if saved_pythonpath is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved_pythonpath


@pytest.fixture(scope="module")
def lock() -> dict[str, str]:
    return read_lock()


def test_one_environment_per_step_group():
    assert {p.stem for p in ENVS} >= {"ingest", "analysis", "figures", "render"}, ENVS


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.name)
def test_every_package_pinned_to_the_lock(env: Path, lock: dict[str, str]):
    conda, pip = env_packages(env)
    doc = yaml.safe_load(env.read_text())
    assert "conda-forge" in doc.get("channels", []), f"{env.name}: python should come from conda-forge"
    pythons = [c for c in conda if re.match(r"python\b", c)]
    here = f"python={sys.version_info.major}.{sys.version_info.minor}"
    assert pythons == [here], f"{env.name}: python pin {pythons}, the lock was made with {here}"
    problems = []
    for entry in pip:
        if not re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+", entry):
            problems.append(f"{entry!r} is not an exact name==version pin")
    for name, version in env_pins(env).items():
        if name not in lock:
            problems.append(f"{name}=={version} is not in requirements.lock")
        elif lock[name] != version:
            problems.append(f"{name}=={version} but requirements.lock has {lock[name]}")
    assert not problems, f"{env.name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.name)
def test_environment_is_closed(env: Path, lock: dict[str, str]):
    pins = env_pins(env)
    missing = {}
    for name in pins:
        for req in requirements_of(name):
            if req not in pins:
                missing.setdefault(req, set()).add(name)
    lines = [f"- {req}=={lock.get(req, '?')}   (required by {', '.join(sorted(by))})"
             for req, by in sorted(missing.items())]
    assert not missing, f"{env.name} lets pip choose versions of these; pin them:\n" + "\n".join(lines)


@pytest.mark.slow
def test_each_rule_has_what_its_script_imports():
    rules = workflow_rules()
    without_env, lacking = [], []
    checked = 0
    for rule in rules:
        if not rule.script:
            continue
        if not rule.conda_env:
            without_env.append(rule.name)
            continue
        env = (Path(rule.basedir) / str(rule.conda_env)).resolve()
        assert env.parent == ENV_DIR.resolve() and env.is_file(), f"rule {rule.name}: conda env {env} not in envs/"
        modules, files = third_party_imports((Path(rule.basedir) / rule.script).resolve())
        needed = distributions_for(modules, files)
        missing = sorted(needed - set(env_pins(env)))
        if missing:
            lacking.append(f"rule {rule.name} ({env.name}) imports {missing}")
        checked += 1
    assert not without_env, (
        "rules without a `conda:` environment (add e.g. `conda: \"../envs/analysis.yaml\"`): "
        + ", ".join(without_env)
    )
    assert not lacking, "environments lack packages their steps import:\n" + "\n".join(lacking)
    assert checked >= 10, f"only {checked} rules with scripts found: is the workflow loaded?"


def test_import_scanner_follows_nenbone_and_function_level_imports(tmp_path):
    """The scanner sees imports inside functions and inside the nenbone modules a script uses."""
    script = tmp_path / "step.py"
    script.write_text(
        "import os\n"
        "def main():\n"
        "    import scipy.stats\n"
        "    from nenbone.codebook import load_codebook\n"
    )
    modules, files = third_party_imports(script)
    assert "scipy" in modules and "os" not in modules
    assert SRC / "nenbone" / "codebook.py" in files
    # nenbone.codebook reads YAML and checks it against a JSON schema (see src/nenbone/codebook.py)
    assert {"yaml", "jsonschema"} <= modules
    assert {"scipy", "pyyaml", "jsonschema"} <= distributions_for(modules, files)
