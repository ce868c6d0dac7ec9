"""codecheck.yml generated from the workflow (CODECHECK configuration spec 1.0).

The manifest lists every shareable output of the DAG that `rule all` builds (Snakemake's
`--summary`), each with a comment taken from the docstring of the rule that makes it. Row-level
data (ingested, validated, derived, matched), the analyses' raw JSON (unsuppressed counts), logs and
benchmarks are left out: they are private or vary from run to run. Regenerate with `make codecheck`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

SPEC = "https://codecheck.org.uk/spec/config/1.0/"
PRIVATE_PREFIXES = ("results/analysis/christie.json", "results/analysis/mayo.json", "results/ingested/", "results/validated/", "results/derived/", "results/matched/mayo_matched",
                    "results/matched/mayo_scores", "results/logs/", "results/benchmarks/", "resources/synthetic/")
_RULE_DOC = re.compile(r'^rule (\w+):\n\s+"""(.*?)"""', re.MULTILINE | re.DOTALL)


def rule_docstrings(rules_dir: Path) -> dict[str, str]:
    """First sentence of each rule's docstring, by rule name."""
    docs = {}
    for path in sorted(Path(rules_dir).glob("*.smk")):
        for name, doc in _RULE_DOC.findall(path.read_text(encoding="utf-8")):
            docs[name] = " ".join(doc.split())
    return docs


def summary_outputs(summary_tsv: str) -> list[tuple[str, str]]:
    """(output file, rule) from `snakemake --summary` output."""
    rows = []
    for line in summary_tsv.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) >= 3 and cols[0]:
            rows.append((cols[0], cols[2]))
    return rows


def is_shareable(path: str) -> bool:
    return not path.startswith(PRIVATE_PREFIXES) and not path.endswith((".parquet", ".sav", ".dta"))


def _comment(path: str, rule: str, docs: dict[str, str]) -> str:
    doc = docs.get(rule, "")
    return f"{Path(path).name}, made by rule {rule}" + (f": {doc}" if doc else "")


def codecheck_config(outputs: list[tuple[str, str]], docs: dict[str, str], papers: list[dict[str, Any]]) -> str:
    """The YAML text of codecheck.yml (starts with the '---' marker the spec requires)."""
    main, *others = papers
    paper = {"title": main["title"], "authors": [{"name": a} for a in main["authors"]],
             "reference": f"https://doi.org/{main['doi']}" if main.get("doi") else main.get("url", "")}
    manifest = [{"file": f, "comment": _comment(f, r, docs)} for f, r in sorted(set(outputs)) if is_shareable(f)]
    head = [
        "---",
        "# CODECHECK configuration (spec 1.0): the outputs a codechecker recreates with `make reproduce`",
        "# and checks with `make verify`. Generated from the workflow by `make codecheck`; do not edit.",
        f"# {SPEC}",
        "# The workflow rebuilds two studies; `paper` names the first, the second is:",
    ]
    for p in others:
        ref = f"https://doi.org/{p['doi']}" if p.get("doi") else (p.get("url") or "no DOI recorded")
        head.append(f"#   {p['citation']} ({ref})")
    body = yaml.safe_dump({"version": SPEC, "paper": paper, "manifest": manifest}, sort_keys=False,
                          allow_unicode=True, width=100)
    return "\n".join(head) + "\n" + body
