"""Integration: with disclosure.min_cell_count = 5 no shareable output shows a count from 1 to 4 or
lets one be recovered by subtraction; a mistyped input path and a user's file at a twin's path are
refused after a complete run.

One extra run: the default run's results are copied and rerun with the threshold (only the rules
whose params change, and what follows them, run again). The scan reads every shareable output:
tables (CSV, Markdown), numbers.yml, the reproduction check, the supplement (HTML text, PDF text via
pdftotext), the flow diagrams' box texts (their rule's log) and the Snakemake report.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from workflow_support import copy_workflow, snakemake

pytestmark = pytest.mark.integration

K = 5
SMALL = re.compile(r"^[1-4]$")
# a small count as the texts print one: "3 (12%)", "n = 3", "3/25", "(3 of 25)", "in 3 patients", "range 1–10"
TEXT_PATTERNS = [
    re.compile(r"(?<![\d.,:–-])[1-4] \(\d{1,3}(?:\.\d)?%\)"),
    re.compile(r"\bn = [1-4]\b(?![\d.,\u2009])"),
    re.compile(r"(?<![\d.])[1-4]/\d+\b"),
    re.compile(r"\([1-4] of \d+\)"),
    re.compile(r"\brange [\d.]+–[\d.]+"),
]


def _with_previous_results(src: Path, dest: Path) -> Path:
    root = copy_workflow(dest)
    shutil.copytree(src / "results", root / "results")
    shutil.copytree(src / "resources" / "synthetic", root / "resources" / "synthetic")
    shutil.copytree(src / ".snakemake", root / ".snakemake", ignore=shutil.ignore_patterns("log", "locks"))
    return root


@pytest.fixture(scope="module")
def k5_run(workflow_run, tmp_path_factory) -> Path:
    root = _with_previous_results(workflow_run, tmp_path_factory.mktemp("k5") / "nenbone")
    override = root / "disclosure5.yaml"
    override.write_text(f"disclosure:\n  min_cell_count: {K}\n")
    proc = snakemake(root, "--configfile", str(override))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return root


def _count_cell(text: str) -> int | None:
    """The count of a table cell 'n (x%)', 'n/d (x%)', 'n (–)' (printed bare) or 'n'; None for anything else."""
    m = re.fullmatch(r"(\d+)(?:/\d+)?(?: \([\d.]+%\)| \(–\))?", text.strip())
    return int(m[1]) if m else None


def _denominator(text: str) -> int | None:
    """d of a cell 'n/d (x%)'; None when the cell prints no denominator."""
    m = re.fullmatch(r"\d+/(\d+) \([\d.]+%\)", text.strip())
    return int(m[1]) if m else None


def _hidden(text: str) -> bool:
    return text in ("suppressed", "–") or re.fullmatch(r"<\d+", text) is not None


def test_tables_show_no_small_count_and_none_follows_by_subtraction(k5_run):
    problems = []
    for path in sorted((k5_run / "results" / "tables").glob("*.csv")):
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        group_cols = [c for c in table.columns if re.search(r"\(n = \d+\)$", c)]
        for col in table.columns:
            if col in ("n", "Events", "LB, n", "L, n") or col in group_cols:
                problems += [f"{path.name}:{col}:{v}" for v in table[col] if 0 < (_count_cell(v) or 0) < K]
        levels = table["Level"] if "Level" in table.columns else pd.Series("", index=table.index)
        for col in group_cols:  # yes/no rows: the complement n - count is a count too
            total = int(re.search(r"\(n = (\d+)\)", col)[1])
            problems += [f"{path.name}:{col}: {_denominator(v) or total} - {v}" for v, level in zip(table[col], levels)
                         if level == "" and "%" in v and _count_cell(v) is not None
                         and 0 < (_denominator(v) or total) - _count_cell(v) < K]
            # a hidden Missing count: no cell of its variable prints the denominator (n - d would give it)
            variable_rows: list[int] = []
            for i, row in table.iterrows() if "Level" in table.columns else ():
                if row["Characteristic"] != "":
                    variable_rows = []
                if row["Level"] == "Missing" and _hidden(row[col]):
                    problems += [f"{path.name}:{col}: {table.loc[j, col]} beside a hidden Missing count"
                                 for j in variable_rows if _denominator(table.loc[j, col]) is not None]
                variable_rows.append(i)
        if "Level" not in table.columns:
            continue
        # the levels of one variable add up to the column's n: a single hidden cell, or hidden cells
        # adding up to 1-4, would be recovered
        blocks, current = [], None
        for _, row in table.iterrows():
            if row["Level"] == "":
                current = None
            else:
                if current is None:
                    current = []
                    blocks.append(current)
                current.append(row)
        for block in blocks:
            for col in group_cols:
                total = int(re.search(r"\(n = (\d+)\)", col)[1])
                cells = [r[col] for r in block]
                hidden = [c for c in cells if _hidden(c)]
                shown_sum = sum(_count_cell(c) or 0 for c in cells if not _hidden(c))
                if len(hidden) == 1 or (hidden and 0 < total - shown_sum < K):
                    problems.append(f"{path.name}:{col}:{block[0]['Level']}...: hidden {hidden}, {total} - {shown_sum}")
                if [c for c in cells if c.startswith("<")] and len(hidden) < 2:
                    problems.append(f"{path.name}:{col}: one hidden cell")
    # survival tables: events of a curve with a small censored remainder
    for path in sorted((k5_run / "results" / "tables").glob("*survival.csv")):
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        for _, row in table.iterrows():
            n, events = _count_cell(row["n"]), _count_cell(row["Events"])
            if n is not None and events is not None and 0 < n - events < K:
                problems.append(f"{path.name}: n {n}, events {events}")
    assert not problems, problems


def _walk(tree, path=""):
    if isinstance(tree, dict):
        yield path, tree
        for key, value in tree.items():
            yield from _walk(value, f"{path}.{key}" if path else key)


def test_numbers_yml_has_no_raw_section_no_small_count_and_no_recoverable_one(k5_run):
    doc = yaml.safe_load((k5_run / "results" / "numbers.yml").read_text())
    assert "raw" not in doc
    problems = []
    for path, node in _walk(doc):
        for key, value in node.items():
            if isinstance(value, dict):
                continue
            count_key = (key in ("n", "events") or key.startswith("n_") or key.endswith("_n")
                         or path.endswith("at_risk"))
            if count_key and isinstance(value, str) and SMALL.match(value):
                problems.append(f"{path}.{key} = {value}")
            if key in ("min", "max", "range") or key.endswith(("_min", "_max")):
                if value not in ("suppressed", "not reached"):
                    problems.append(f"{path}.{key} = {value}")
        number = lambda k: int(node[k]) if isinstance(node.get(k), str) and node[k].isdigit() else None  # noqa: E731
        for part, whole in (("n", "denominator_n"), ("events", "n")):
            if number(part) is not None and number(whole) is not None and 0 < number(whole) - number(part) < K:
                problems.append(f"{path}: {whole} {number(whole)} - {part} {number(part)}")
        levels = [v for v in node.values() if isinstance(v, dict) and set(v) == {"n", "pct"}]
        if len(levels) >= 2 and sum(1 for v in levels if _hidden(v["n"])) == 1:
            problems.append(f"{path}: one hidden level")
    assert not problems, problems


def _register_view(root: Path) -> dict:
    """What each output lets a reader know of each variable, read from the printed tables and numbers.yml
    by the analysis plan alone (not from the register): (study, population, variable) -> {output: (levels
    known, levels hidden)}. A level is known when printed, or when it follows from a printed count and its
    printed denominator (the complement of a yes/no count; the Missing count, as the column's n - d)."""
    from nenbone.analysis.plans import group_key

    analysis = yaml.safe_load((root / "config" / "analysis.yaml").read_text())
    doc = yaml.safe_load((root / "results" / "numbers.yml").read_text())
    view: dict = {}

    def add(study, population, variable, output, known, hidden):
        key = (study, tuple(sorted((c, group_key(v)) for c, v in population.items())), variable)
        view.setdefault(key, {})[output] = (set(known), set(hidden))

    def shown(text: str) -> bool:
        return not _hidden(text)

    for study, plan in analysis["plans"].items():
        for name, spec in plan.get("tables", {}).items():
            table = pd.read_csv(root / "results" / "tables" / f"{study}_{name}.csv", dtype=str, keep_default_na=False)
            chars = list(table["Characteristic"])
            levels = list(table["Level"]) if "Level" in table.columns else [""] * len(table)
            group_keys = {v: k for k, v in (spec.get("group_labels") or {}).items()}
            for row in spec["rows"]:
                if row["kind"] == "continuous" or row.get("denominator"):
                    continue
                start = chars.index(f"{row['label']}, n (%)")
                level_names = {v: k for k, v in (row.get("level_labels") or {}).items()}
                if row["kind"] == "binary":
                    rows, end = [(start, "true")], start + 1
                else:
                    end = start + 1
                    while end < len(table) and chars[end] == "" and levels[end] not in ("", "Missing"):
                        end += 1
                    rows = [(i, group_key(level_names.get(levels[i], levels[i]))) for i in range(start + 1, end)]
                missing = end if end < len(table) and chars[end] == "" and levels[end] == "Missing" else None
                for col in [c for c in table.columns if re.search(r"\(n = \d+\)$", c)]:
                    group_name = col.rsplit(" (n = ", 1)[0]
                    population = {c: str(v) for c, v in (spec.get("where") or {}).items()}
                    if spec.get("group"):
                        population[spec["group"]] = group_keys.get(group_name, group_name)
                    known, hidden = set(), set()
                    for i, level in rows:
                        (known if shown(table.loc[i, col]) else hidden).add(level)
                    if missing is not None:
                        (known if shown(table.loc[missing, col]) else hidden).add("(missing)")
                    if row["kind"] == "binary" and "true" in known and "%)" in table.loc[start, col]:
                        known |= {"false", "(missing)"}  # n/d or n (p%): d is printed (or is the column's n)
                    add(study, population, row["variable"], f"table {name}", known, hidden)
        for block in analysis["numbers"].get(study, []):
            base = [p for p in str(block.get("key") or "").split(".") if p]
            where = {c: str(v) for c, v in (block.get("where") or {}).items()}
            entries = [(n, c, "true") for n, c in (block.get("flags") or {}).items()]
            entries += [(n, c, "false") for n, c in (block.get("negated") or {}).items()]
            for name, column, level in entries:
                node = doc[study]
                for part in base + [p for p in name.split(".") if p]:
                    node = node[part]
                splits = ({key: {**where, block["group"]: key} for key, v in node.items()
                           if isinstance(v, dict) and "denominator_n" in v} if block.get("group")
                          else {None: where})
                for key, population in splits.items():
                    leaf = node if key is None else node[key]
                    known, hidden = set(), set()
                    (known if shown(leaf["n"]) else hidden).add(level)
                    if shown(leaf["denominator_n"]) or shown(leaf["pct"]):  # d, printed or as n / pct
                        if shown(leaf["n"]):
                            known.add({"true": "false", "false": "true"}[level])
                        known.add("(missing)")  # the population's n - d
                    add(study, population, column, f"numbers.yml {name} {level}", known, hidden)
            for name, column in (block.get("categories") or {}).items():
                node = doc[study]
                for part in base + [p for p in name.split(".") if p]:
                    node = node[part]
                known = {key for key, v in node.items() if shown(v["n"])}
                hidden = {key for key, v in node.items() if not shown(v["n"])}
                if any(shown(v["n"]) and shown(v["pct"]) for v in node.values()):
                    known.add("(missing)")
                add(study, where, column, f"numbers.yml {name}", known, hidden)
    return view


def _cross_output_problems(root: Path) -> tuple[list[str], int, int]:
    problems, compared, hidden_compared = [], 0, 0
    for (study, population, variable), outputs in sorted(_register_view(root).items()):
        if len(outputs) < 2:
            continue
        compared += 1
        hidden = set().union(*(h for _, h in outputs.values()))
        hidden_compared += bool(hidden)
        for output, (known, _) in outputs.items():
            if known & hidden:
                problems.append(f"{study} {dict(population)} {variable}: {sorted(known & hidden)} hidden elsewhere, "
                                f"known from {output}; {outputs}")
    return problems, compared, hidden_compared


def test_a_cell_hidden_in_any_output_is_hidden_in_every_output_that_shows_its_variable(k5_run, tmp_path):
    """The register of protected cells at work: for each variable in each population (a table column, a
    numbers block), no level hidden by one output is printed, or follows from a count and its denominator,
    in another."""
    problems, compared, hidden_compared = _cross_output_problems(k5_run)
    assert not problems, problems
    assert compared >= 20 and hidden_compared >= 3, (compared, hidden_compared)
    # the scan can fail: numbers.yml printing the ribs count the bone table hides is found
    (tmp_path / "config").mkdir()
    shutil.copy(k5_run / "config" / "analysis.yaml", tmp_path / "config")
    shutil.copytree(k5_run / "results" / "tables", tmp_path / "results" / "tables")
    doc = yaml.safe_load((k5_run / "results" / "numbers.yml").read_text())
    assert doc["mayo"]["bone"]["ribs"]["n"] == "<5"
    doc["mayo"]["bone"]["ribs"]["n"] = "3"
    (tmp_path / "results" / "numbers.yml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    problems, _, _ = _cross_output_problems(tmp_path)
    assert len(problems) == 1 and problems[0].startswith("mayo {'group': 'lb'} bone_site_ribs: ['true'] hidden"), problems


def _printed_at_risk(node: dict) -> list[tuple[float, str]]:
    return sorted((float(key[1:]), text) for key, text in node["at_risk"].items())


def test_numbers_at_risk_printed_anywhere_are_never_1_to_4_apart(k5_run):
    """numbers.yml and the Kaplan-Meier figures (their rule logs record the rows as drawn) print the same
    numbers at risk, and no two printed in one row differ by 1 to 4 (the patients who died or were
    censored between them); survival at a time prints the grid's number; a median of < 5 is hidden."""
    from nenbone.analysis.plans import group_key

    doc = yaml.safe_load((k5_run / "results" / "numbers.yml").read_text())
    problems, rows, hidden = [], 0, 0
    for path, node in _walk(doc):
        if isinstance(node.get("at_risk"), dict):
            rows += 1
            texts = _printed_at_risk(node)
            hidden += sum(text == "–" for _, text in texts)
            exact = [int(text) for _, text in texts if text.isdigit()]
            problems += [f"{path}.at_risk: {a} and {b}" for i, a in enumerate(exact) for b in exact[i + 1:]
                         if 0 < a - b < K]
            for key, at in (node.get("survival_at") or {}).items():
                grid = node["at_risk"].get(f"t{key[1:]}", "–")
                if at["n_at_risk"] != grid:
                    problems.append(f"{path}.survival_at.{key}: {at['n_at_risk']} beside at_risk {grid}")
        if "median" in node and isinstance(node.get("n"), str) and node["n"].startswith("<"):
            if node["median"] != "suppressed":
                problems.append(f"{path}: median {node['median']} of {node['n']} patients")
    drawn = 0
    for log in sorted((k5_run / "results" / "logs" / "figure_km").glob("*.log")):
        study = next(s for s in doc if log.stem.startswith(f"{s}_"))
        for line in log.read_text(encoding="utf-8").splitlines():
            if "at risk drawn: " not in line:
                continue
            row = json.loads(line.split("at risk drawn: ", 1)[1])
            node = doc[study][row["plan"]]
            node = node if row["key"] == "all" else node[group_key(row["key"])]
            for t, text in row["at_risk"].items():
                drawn += 1
                if node["at_risk"][f"t{float(t):g}"] != text:
                    problems.append(f"{log.name}: t = {t} drawn {text}, numbers.yml {node['at_risk'][f't{float(t):g}']}")
            # the legend's n and events: hidden in the figure exactly where numbers.yml hides them
            m = re.search(r"\(n = ([^;]+); (\S+) events\)", row["legend"])
            if m is None:
                problems.append(f"{log.name}: legend {row['legend']!r} without n and events")
            elif (_hidden(m[1]), _hidden(m[2])) != (_hidden(node["n"]), _hidden(node["events"])):
                problems.append(f"{log.name}: legend n {m[1]}, events {m[2]}; numbers.yml {node['n']}, {node['events']}")
            if "median suppressed" in row["legend"] and node["median"] != "suppressed":
                problems.append(f"{log.name}: median hidden in the legend, numbers.yml {node['median']}")
    # the survival tables hide a curve's n, events and median exactly where numbers.yml does
    compared = 0
    for path in sorted((k5_run / "results" / "tables").glob("*_survival.csv")):
        study = path.name.split("_")[0]
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        plan = None
        for _, row in table.iterrows():
            if row["Analysis"]:
                plan = next(n for _, n in _walk(doc[study]) if n.get("label") == row["Analysis"])
            group = row.get("Group", "")
            node = plan if not group else next(v for v in plan.values()
                                               if isinstance(v, dict) and v.get("group_label") == group)
            compared += 1
            for column, key in (("n", "n"), ("Events", "events"), ("Median, months", "median")):
                if _hidden(row[column]) != _hidden(node[key]):
                    problems.append(f"{path.name}: {row['Analysis'] or plan['label']} {group} {column} "
                                    f"{row[column]}, numbers.yml {node[key]}")
    assert not problems, problems
    assert rows >= 5 and hidden > 0 and drawn > 0 and compared >= 5, (rows, hidden, drawn, compared)


def _analysis_value(root: Path, dotted: str):
    study, *parts = dotted.split(".")
    node = json.loads((root / "results" / "analysis" / f"{study}.json").read_text())
    for part in parts:
        node = node[part]
    return node


def test_reproduction_check_hides_small_reproduced_counts_and_their_percentages(k5_run):
    checks = pd.read_csv(k5_run / "results" / "reproduction" / "checks.csv", dtype=str, keep_default_na=False)
    published = {q["id"]: q for p in (k5_run / "resources" / "published").glob("*.yaml")
                 for q in yaml.safe_load(p.read_text())["quantities"]}
    hidden_ids = []
    for _, row in checks.iterrows():
        spec = published[row["quantity"]]
        key = spec["value_key"]
        count_key = key.rsplit(".", 1)[0] + ".n" if key.endswith(".pct") else key
        try:
            count = _analysis_value(k5_run, count_key)
        except (KeyError, TypeError):
            continue
        small = spec["kind"] in ("count", "percent") and isinstance(count, (int, float)) and 0 < count < K
        if small or key.endswith((".min", ".max")):
            hidden_ids.append(row["quantity"])
            assert _hidden(row["reproduced"]), (row["quantity"], row["reproduced"])
            assert not re.search(r"\d", row["reason"]), row["reason"]
    # the twin has these small counts; the published values stay
    assert {"surgery_n", "surgery_pct", "bone_rfa_n", "bone_resection_n", "ribs_pct", "bone_count_min"} <= set(hidden_ids)
    assert checks.set_index("quantity").loc["bone_rfa_n", "published"] == "2"
    md = (k5_run / "results" / "reproduction" / "checks.md").read_text()
    assert ("| Bone radiofrequency ablation, n | Croome 2016 abstract: “by radiofrequency ablation in two (8 %) "
            "patients” | 2 | <5 | match | Shown in @tbl-mayo-bone. |") in md
    # the section's tables: the compact one and the full one show the same (hidden) reproduced values,
    # row for row with checks.csv; the discrepancy list shows no hidden value either
    for name, column in (("checks_compact.md", 3), ("checks.md", 3)):
        rows = [line.split(" | ") for line in (k5_run / "results" / "reproduction" / name).read_text().splitlines()[2:]]
        assert len(rows) == len(checks), name
        for cells, (_, row) in zip(rows, checks.iterrows()):
            assert cells[column] == (row["reproduced"] or "none"), (name, row["quantity"], cells)
    for line in (k5_run / "results" / "reproduction" / "discrepancies.md").read_text().splitlines():
        label = line.split("**")[1]
        row = checks.set_index("label").loc[label]
        shown = row["reproduced"] or "none"
        assert f"reproduced {shown};" in line or f"attainable {shown} by an alternative analysis;" in line
        if row["quantity"] in hidden_ids:
            assert _hidden(row["reproduced"]), line


def _html_text(html: str) -> str:
    """The text a reader sees: no tags (nor embedded images), scripts or styles."""
    import html as html_lib

    return html_lib.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)))


def _text_hits(name: str, text: str) -> list[str]:
    return [f"{name}: {m.group(0)!r}" for p in TEXT_PATTERNS for m in p.finditer(text)]


def test_supplement_flow_diagrams_and_report_show_no_small_count(k5_run, tmp_path):
    res = k5_run / "results"
    texts = {str(p.relative_to(k5_run)): p.read_text(encoding="utf-8") for p in
             [*res.glob("tables/*.md"), *res.glob("reproduction/*"), res / "numbers.yml"]}
    texts["supplement.html"] = _html_text((res / "supplement" / "supplement.html").read_text(encoding="utf-8"))
    if shutil.which("pdftotext"):
        texts["supplement.pdf"] = subprocess.run(["pdftotext", str(res / "supplement" / "supplement.pdf"), "-"],
                                                 capture_output=True, text=True, check=True).stdout
    for log in res.glob("logs/figure_flow/*.log"):  # the flow boxes' texts, as drawn
        texts[f"flow boxes {log.stem}"] = log.read_text(encoding="utf-8")
    report = tmp_path / "report.zip"
    proc = snakemake(k5_run, "--configfile", str(k5_run / "disclosure5.yaml"), "--report", str(report))
    assert proc.returncode == 0, proc.stderr[-3000:]
    with zipfile.ZipFile(report) as z:
        for n in z.namelist():
            body = z.read(n).decode("utf-8", "replace") if n.endswith((".html", ".csv", ".json")) else ""
            if n.endswith("report.html"):  # the report's own data (captions, results, rules), not its JS libraries
                body = "\n".join(re.findall(r'<script id="[^"]+">(.*?)</script>', body, flags=re.S))
            elif n.endswith(".html"):  # an embedded document: its text
                body = _html_text(body)
            texts[f"report:{n}"] = body
    hits = [h for name, text in texts.items() for h in _text_hits(name, text)]
    assert not hits, hits[:20]
    # the scan can fail: the default run (no threshold) shows these small counts
    assert _text_hits("x", "surgery in 2 (2%)") and _text_hits("x", "(range 1–10)") and _text_hits("x", "n = 3")
    assert "<5" in texts["supplement.html"] and "suppressed" in texts["supplement.html"]


def test_the_same_outputs_without_a_threshold_do_show_small_counts(workflow_run):
    """The scan is not vacuous: on the default run (threshold 0) it finds the twin's small counts."""
    text = _html_text((workflow_run / "results" / "supplement" / "supplement.html").read_text(encoding="utf-8"))
    hits = _text_hits("supplement.html", text)
    assert any("2 (2%)" in h for h in hits) and any("range" in h for h in hits), hits


def test_a_mistyped_input_path_is_refused_after_a_complete_run(k5_run):
    override = ("studies={christie: {input: resources/synthetic/christi.sav, codebook: config/codebooks/christie.yaml}, "
                "mayo: {input: resources/synthetic/mayo.dta, codebook: config/codebooks/mayo.yml}}")
    proc = snakemake(k5_run, "--configfile", str(k5_run / "disclosure5.yaml"), "--config", override)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "config 'studies.christie.input': resources/synthetic/christi.sav does not exist" in out
    assert "config 'studies.mayo.codebook': config/codebooks/mayo.yml does not exist" in out


def test_a_users_file_at_the_twins_path_survives_a_rerun(k5_run, tmp_path):
    root = _with_previous_results(k5_run, tmp_path / "user")
    twin = root / "resources" / "synthetic" / "christie.sav"
    users = (root / "tests" / "data" / "bad" / "several_violations.sav").read_bytes()  # any other export
    twin.write_bytes(users)
    # a derivation setting changes: the twin rule's params change, so Snakemake would rerun it
    changed = root / "changed.yaml"
    changed.write_text("christie:\n  derivation:\n    synchronous_window_days: 60\n")
    proc = snakemake(root, "--configfile", str(k5_run / "disclosure5.yaml"), str(changed))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "was not written by this workflow" in out and "studies.christie.input" in out
    assert twin.read_bytes() == users
