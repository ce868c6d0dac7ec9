"""`make codecheck`: write codecheck.yml from the workflow's DAG (not a rule)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# tools/ holds commands that are not rules; keep this folder off the import path
sys.path[0] = str(ROOT / "src")

from nenbone.io.files import write_text_atomic  # noqa: E402
from nenbone.verify.codecheck import codecheck_config, rule_docstrings, summary_outputs  # noqa: E402
from nenbone.verify.run import papers  # noqa: E402


def dag_outputs(root: Path) -> list[tuple[str, str]]:
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--summary", "--cores", "1", "--directory", str(root),
                           "--snakefile", str(root / "Snakefile")], capture_output=True, text=True, cwd=root)
    if proc.returncode != 0:
        raise SystemExit(f"snakemake --summary failed:\n{proc.stderr[-3000:]}")
    return summary_outputs(proc.stdout)


def main() -> int:
    text = codecheck_config(dag_outputs(ROOT), rule_docstrings(ROOT / "rules"), papers(ROOT))
    write_text_atomic(text, ROOT / "codecheck.yml")
    print(f"wrote codecheck.yml ({text.count('- file:')} outputs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
