"""The reviewer's certificate: what was checked, on what, and the verdicts (Markdown, JSON, PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from nenbone.io.files import json_bytes, write_bytes_atomic, write_text_atomic


def checks_summary(checks_csv: Path) -> dict[str, Any]:
    """checks.csv counted by status, and by source and status (the source's readable name, e.g. 'Lim 2019
    abstract', where checks.csv gives one: two studies' abstracts are two sources, not one 'abstract')."""
    table = pd.read_csv(checks_csv, dtype=str, keep_default_na=False)
    by_status = table["status"].value_counts().sort_index().to_dict()
    source = "source_label" if "source_label" in table.columns else "source"
    by_source = (table.groupby([source, "status"]).size().unstack(fill_value=0).sort_index())
    return {"total": int(len(table)), "by_status": {k: int(v) for k, v in by_status.items()},
            "by_source": {src: {k: int(v) for k, v in row.items()} for src, row in by_source.iterrows()}}


def _bullets(items: list[str], limit: int = 200) -> list[str]:
    shown = [f"- `{i}`" for i in items[:limit]]
    if len(items) > limit:
        shown.append(f"- ... and {len(items) - limit} more (certificate.json lists all)")
    return shown


def certificate_markdown(cert: dict[str, Any]) -> str:
    """The certificate as Markdown (pandoc reads it for the PDF)."""
    env, m = cert["environment"], cert.get("manifest")
    lines = [
        "---", f"title: \"Reproducibility certificate: {cert['verdict'].upper()}\"", "---", "",
        f"**Verdict: {cert['verdict']}.** {cert['verdict_reason']}", "",
        "## What was checked", "",
        f"- Paper(s): {'; '.join(p['citation'] for p in cert['papers'])}",
        f"- Workflow commit: `{cert['git']['commit']}` (uncommitted changes: {cert['git']['dirty']})",
        f"- Command: `{cert['command']}`",
        f"- Date of the check (UTC): {cert['checked_at']}",
        f"- Run time: {cert['run_seconds']:.0f} s for the workflow, {cert['total_seconds']:.0f} s in all "
        f"({cert['cores']} cores)",
        f"- Platform: {env['platform']}; Python {env['python']}"
        + (f" (manifest made on {cert['manifest_environment'].get('platform')}; Python "
           f"{cert['manifest_environment'].get('python')})" if cert.get("manifest_environment") else ""),
        f"- Packages: {', '.join(f'{k} {v}' for k, v in cert['packages'].items())}",
        "",
        "## Manifest (files)", "",
    ]
    if m is None:
        lines += [f"Not compared: {cert['verdict_reason']}", ""]
    else:
        lines += [f"{m['files_identical']} files identical to the committed manifest (SHA-256); "
                  f"{len(m['files_differing'])} differing, {len(m['files_missing'])} missing, "
                  f"{len(m['files_unexpected'])} not in the manifest.", ""]
        for title, key in (("Differing", "files_differing"), ("Missing from the run", "files_missing"),
                           ("Not in the manifest", "files_unexpected")):
            if m[key]:
                lines += [f"{title}:", "", *_bullets(m[key]), ""]
        lines += ["## Numbers (numbers.yml)", "",
                  f"{m['numbers_identical']} numbers identical by value; {len(m['numbers_differing'])} differing, "
                  f"{len(m['numbers_missing'])} missing, {len(m['numbers_unexpected'])} not in the manifest.", ""]
        if m["numbers_differing"]:
            lines += ["| Number | Manifest | This run |", "|---|---|---|"]
            lines += [f"| `{d['key']}` | {d['expected']} | {d['found']} |" for d in m["numbers_differing"][:200]]
            lines.append("")
        for title, key in (("Missing from the run", "numbers_missing"), ("Not in the manifest", "numbers_unexpected")):
            if m[key]:
                lines += [f"{title}:", "", *_bullets(m[key]), ""]
    checks = cert.get("reproduction")
    lines += ["## Reproduction of the published numbers (checks.csv)", ""]
    if checks:
        lines += [f"{checks['total']} published numbers: "
                  + ", ".join(f"{v} {k}" for k, v in checks["by_status"].items()) + ".", "",
                  "| Source | " + " | ".join(sorted(checks["by_status"])) + " |",
                  "|---|" + "---|" * len(checks["by_status"])]
        for source, counts in checks["by_source"].items():
            lines.append(f"| {source} | " + " | ".join(str(counts.get(k, 0)) for k in sorted(checks["by_status"])) + " |")
        lines.append("")
    else:
        lines += ["Not available (the run did not finish).", ""]
    ce = cert["cross_engine"]
    lines += ["## Cross-engine check (R survival)", "", f"Status: **{ce['status']}**."
              + (f" {ce['reason']}" if ce.get("reason") else ""), ""]
    if ce.get("engine"):
        lines += [f"Engine: {ce['engine']}. Tolerance: {ce['tolerance']}. "
                  f"{ce['n_compared']} values compared. Reported, not part of the verdict.", ""]
    if ce.get("largest_difference"):
        lines += ["| Quantity | Largest difference | Where | nenbone | R |", "|---|---|---|---|---|"]
        for cls, d in sorted(ce["largest_difference"].items()):
            lines.append(f"| {cls} | {d['difference']:.3g} | {d['analysis']} {d['quantity']} | {d['nenbone']} | {d['R']} |")
        lines.append("")
    if ce.get("outside_tolerance"):
        lines += [f"{len(ce['outside_tolerance'])} value(s) outside the tolerance: "
                  + ", ".join(f"{d['analysis']} {d['quantity']}" for d in ce["outside_tolerance"]) + ".", ""]
    lines += ["## How to read this", "",
              "PASS means a fresh run from the inputs, in a scratch copy, produced every file of the committed "
              "`manifest.json` byte for byte and every number of `numbers.yml` with the same value. FAIL names "
              "each file and number that differs. Logs, benchmarks, wall times and the environment records "
              "(`provenance.json`, `packages.txt`) are not compared.", ""]
    return "\n".join(lines)


def write_certificate(cert: dict[str, Any], out_dir: Path) -> list[Path]:
    """certificate.json, certificate.md and certificate.pdf (pandoc + typst, offline)."""
    out_dir = Path(out_dir)
    md = certificate_markdown(cert)
    write_bytes_atomic(json_bytes(cert), out_dir / "certificate.json")
    write_text_atomic(md, out_dir / "certificate.md")
    written = [out_dir / "certificate.json", out_dir / "certificate.md"]
    try:
        write_bytes_atomic(certificate_pdf(md, out_dir), out_dir / "certificate.pdf")
        written.append(out_dir / "certificate.pdf")
    except Exception as exc:  # the PDF is a convenience: the verdict stands in .md and .json
        write_text_atomic(f"certificate.pdf could not be rendered: {exc}\n", out_dir / "certificate.pdf.error.txt")
    return written


def certificate_pdf(markdown: str, work_dir: Path) -> bytes:
    """Markdown -> typst (pandoc of pypandoc-binary) -> PDF (typst binding), no network."""
    import subprocess

    from nenbone.render.offline import compile_typst, pandoc_path

    proc = subprocess.run([pandoc_path(), "--from", "markdown", "--to", "typst", "--standalone"],
                          input=markdown.encode("utf-8"), capture_output=True, check=True)
    return compile_typst(proc.stdout, Path(work_dir).resolve(), 0)
