"""The study's register of protected cells: which cells of each variable are hidden, decided once.

A table and numbers.yml often show the counts of the same variable in the same patients (the baseline
table's 'Bone metastases' column and numbers.yml's `bm` block). Deciding each output on its own, they
could hide different cells (a tie between two equal counts broken by each output's own level order),
and the union of the outputs then gives a hidden count back; numbers.yml also printed the denominator
of a variable whose Missing count the table hid. Here every cell of one variable in one population
(the rows a table column or a numbers block selects: its `where` and its group's level) is decided once:

- the partition of the population's N patients by the variable: its levels ('True'/'False' for a
  yes/no variable, each level of a categorical one, '(known)' for a continuous one), `MISSING` and
  `OUTSIDE` (outside a restricted denominator);
- every output's own decision (presentation.tables.cell_plan for a table column; numbers.yml's rules
  for a `flags`/`negated`/`categories` block) marks cells hidden; a cell the output does not let the
  reader know (the unprinted complement of a bare count) counts as hidden;
- the union is closed under disclosure.protect_cells against N and, while the Missing and outside
  cells are shown, against the denominator d (the known values): no hidden cell, nor the sum of the
  hidden cells, can be worked out as a count from 1 to k - 1 from either total.

The register names cells (population, variable, hidden levels and why), never counts: it is written to
results/analysis/<study>.protected.json beside the analysis; the tables are printed from it in the same
step (study_report, `Register.tables`), numbers.yml by `apply_to_numbers` (rule numbers), the management
bars by `bar_levels` / `bar_hidden` (rule figure_management). It also holds the numbers at risk hidden
jointly in a group's curves split by another variable (`at_risk_register`), used by the Kaplan-Meier
figures and numbers.yml. With k <= 1 it is empty. Not covered (README, Privacy): relations between
different populations (a count over all groups beside the per-group counts), a variable shown by one
output only (its own rules apply), a row with a restricted denominator, flow diagrams, and the sizes
and events of curves (decided by one function in each output, not here).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nenbone.presentation import disclosure as dc

MISSING = "(missing)"  # patients of the population without a value
OUTSIDE = "(outside denominator)"  # patients outside a row's restricted denominator
KNOWN = "(known)"  # the patients with a value of a continuous variable (numbers.yml's quantiles n)
SPECIAL = (MISSING, OUTSIDE)


def population_of(where: Mapping[str, Any] | None, group: str | None = None, level: Any = None) -> dict[str, str]:
    """The rows a table column or a numbers block selects, as text: {column: value}."""
    out = {str(c): str(v) for c, v in (where or {}).items()}
    if group is not None:
        out[str(group)] = str(level)
    return dict(sorted(out.items()))


def _key(population: Mapping[str, str], variable: str) -> tuple[tuple[tuple[str, str], ...], str]:
    return tuple(sorted(population.items())), variable


@dataclass(frozen=True)
class NumbersRef:
    """Where numbers.yml shows counts of one variable: a node path, the kind of node, its level(s)."""

    path: tuple[str, ...]
    kind: str  # "flag" ({n, pct, denominator_n} of `level`), "categories" ({key: {n, pct}}) or "quantiles"
    levels: dict[str, str]  # node key ('' for a flag or quantiles node) -> level


@dataclass
class VariableCells:
    """One variable in one population: its cells (counts, private), the hidden ones and who shows them."""

    population: dict[str, str]
    variable: str
    counts: dict[str, int]  # level -> n, with MISSING and OUTSIDE; they add up to the population's N
    total_known: bool  # N (the counts' sum) is printed somewhere (a table header)
    order: list[str]  # levels in a fixed order (the table's, else the numbers block's)
    hidden: dict[str, str] = field(default_factory=dict)  # level -> "small" | "complementary"
    outputs: list[str] = field(default_factory=list)
    table_rows: list[tuple[str, int, int, str]] = field(default_factory=list)  # (table, row, column, level shown)
    numbers_refs: list[NumbersRef] = field(default_factory=list)

    def mark(self, level: str, k: int) -> None:
        if level in self.counts and self.counts[level] > 0 and level not in self.hidden:
            self.hidden[level] = "small" if dc.is_small(self.counts[level], k) else "complementary"

    def close(self, k: int) -> None:
        """Complementary suppression of the union against N and, with Missing and outside shown, against d."""
        for _ in range(len(self.order) + 2):
            before = dict(self.hidden)
            cells = [self.counts[lv] for lv in self.order]
            flags = dc.protect_cells(cells, k, total_known=self.total_known,
                                     already=[lv in self.hidden for lv in self.order])
            for lv, flag in zip(self.order, flags):
                if flag:
                    self.mark(lv, k)
            if not any(self.counts.get(s, 0) and s in self.hidden for s in SPECIAL):
                levels = [lv for lv in self.order if lv not in SPECIAL]
                flags = dc.protect_cells([self.counts[lv] for lv in levels], k,
                                         already=[lv in self.hidden for lv in levels])
                for lv, flag in zip(levels, flags):
                    if flag:
                        self.mark(lv, k)
            if self.hidden == before:
                return

    def record(self) -> dict[str, Any]:
        return {"population": dict(self.population), "variable": self.variable,
                "hidden": {lv: self.hidden[lv] for lv in self.order if lv in self.hidden},
                "outputs": sorted(set(self.outputs)),
                "numbers": [{"path": list(r.path), "kind": r.kind, "levels": dict(r.levels)} for r in self.numbers_refs]}


def _inverse(labels: Mapping[str, str] | None) -> dict[str, str]:
    return {str(v): str(k) for k, v in (labels or {}).items()}


def _table_cells(name: str, spec: Mapping[str, Any], description: Any, k: int) -> list[VariableCells]:
    """Each (column, variable) of one descriptive table: its partition and the table's own decision."""
    from nenbone.presentation.tables import _blocks, cell_plan

    rows = description.rows
    hidden, bare = cell_plan(description, k)
    group_keys = _inverse(spec.get("group_labels"))
    out = []
    for row_spec, (binary, levels, missing) in zip(spec["rows"], _blocks(rows), strict=True):
        variable = str(row_spec["variable"])
        if row_spec.get("denominator"):  # a restricted denominator: not the numbers' partition
            variable += f" | {row_spec['denominator']}"
        level_names = _inverse(row_spec.get("level_labels"))
        for col, (group_name, n_col) in enumerate(description.groups):
            population = population_of(spec.get("where"), spec.get("group"),
                                       group_keys.get(group_name, group_name)) if spec.get("group") else \
                population_of(spec.get("where"))
            miss = int(rows[missing].cells[col].n) if missing is not None else 0
            own: list[str] = []
            if binary is not None:
                cell = rows[binary].cells[col]
                counts = {"True": int(cell.n), "False": int(cell.d) - int(cell.n)}
                shows = [(binary, "True")]
                outside = int(n_col) - int(cell.d) - miss
                if hidden[binary][col]:
                    own += ["True", "False"]  # a hidden count prints no denominator: its complement is unknown
                if bare[binary][col]:
                    own += ["False", OUTSIDE]
            elif levels:
                names = [level_names.get(rows[j].level, rows[j].level) for j in levels]
                cells = [rows[j].cells[col] for j in levels]
                counts = dict(zip(names, (int(c.n) for c in cells)))
                shows = list(zip(levels, names))
                d = int(cells[0].d)
                counts["(other levels)"] = d - sum(counts.values())
                outside = int(n_col) - d - miss
                own += [lv for lv, j in zip(names, levels) if hidden[j][col]] + ["(other levels)"]
                if bare[levels[0]][col]:
                    own.append(OUTSIDE)
            else:  # a continuous variable: the table prints only its Missing count
                counts = {KNOWN: int(n_col) - miss}
                outside = 0
                shows = []
            if missing is not None and hidden[missing][col]:
                own.append(MISSING)
            counts.update({MISSING: miss, OUTSIDE: outside})
            cells_ = VariableCells(population, variable, counts, True, list(counts))
            for lv in own:
                cells_.mark(lv, k)
            cells_.outputs.append(f"table {name}")
            if missing is not None:
                shows.append((missing, MISSING))
            cells_.table_rows += [(name, row, col, level) for row, level in shows]
            out.append(cells_)
    return out


def _node(tree: Mapping[str, Any], path: Sequence[str]) -> Any:
    node: Any = tree
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _numbers_refs(blocks: Sequence[Mapping[str, Any]], numbers: Mapping[str, Any],
                  levels_of: Any) -> list[tuple[dict[str, str], str, NumbersRef]]:
    """(population, variable, where numbers.yml shows it) of every flags/negated/categories/quantiles entry;
    `levels_of(column)` maps a numbers key (analysis.plans.group_key) to the column's level it stands for."""
    out = []
    for block in blocks:
        base = tuple(p for p in str(block.get("key") or "").split(".") if p)
        group = block.get("group")
        entries = [(name, col, "flag", "True") for name, col in (block.get("flags") or {}).items()]
        entries += [(name, col, "flag", "False") for name, col in (block.get("negated") or {}).items()]
        entries += [(name, col, "categories", "") for name, col in (block.get("categories") or {}).items()]
        entries += [(name, col, "quantiles", KNOWN) for name, col in (block.get("quantiles") or {}).items()]
        for name, column, kind, level in entries:
            path = base + tuple(p for p in str(name).split(".") if p)
            node = _node(numbers, path)
            if not isinstance(node, Mapping):
                continue
            if group is not None and kind == "flag":  # {group key: flag node}
                group_levels = levels_of(group)
                splits = [((key,), population_of(block.get("where"), group, group_levels[key]))
                          for key in node if key in group_levels]
            else:
                splits = [((), population_of(block.get("where")))]
            for tail, population in splits:
                leaf = _node(numbers, path + tail)
                if kind == "categories":
                    names = levels_of(column)
                    levels = {key: names.get(key, key) for key in leaf}
                else:
                    levels = {"": level}
                out.append((population, str(column), NumbersRef(path + tail, kind, levels)))
    return out


def _numbers_cells(population: dict[str, str], variable: str, ref: NumbersRef,
                   numbers: Mapping[str, Any]) -> VariableCells | None:
    """The partition numbers.yml shows of a variable no table shows (a yes/no count and its complement
    within the known values; the levels of a categorical one); None for quantiles (no partition)."""
    node = _node(numbers, ref.path)
    if ref.kind == "flag":
        level = ref.levels[""]
        other = "False" if level == "True" else "True"
        counts = {level: int(node["n"]), other: int(node["denominator_n"]) - int(node["n"])}
    elif ref.kind == "categories":
        counts = {ref.levels[key]: int(v["n"]) for key, v in node.items()}
    else:
        return None
    return VariableCells(population, variable, counts, ref.kind == "flag", list(counts))


@dataclass
class Register:
    """A study's protected cells: the records (written to results/analysis/<study>.protected.json) and
    what they hide in each descriptive table (row, column) -> (hidden, bare)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, dict[tuple[int, int], tuple[bool, bool]]] = field(default_factory=dict)
    at_risk: list[dict[str, Any]] = field(default_factory=list)  # at_risk_register

    def document(self) -> dict[str, Any]:
        """results/analysis/<study>.protected.json: cells and numbers at risk, named, never counted."""
        return {"cells": self.records, "at_risk": self.at_risk}


def protected_cells(table_specs: Mapping[str, Mapping[str, Any]], descriptions: Mapping[str, Any],
                    blocks: Sequence[Mapping[str, Any]], numbers: Mapping[str, Any], levels_of: Any, k: int
                    ) -> Register:
    """The study's register: every variable a table or numbers.yml shows, decided once (module doc)."""
    if k <= 1:
        return Register()
    cells: dict[Any, VariableCells] = {}
    for name, spec in table_specs.items():
        if name not in descriptions:
            continue
        for vc in _table_cells(name, spec, descriptions[name], k):
            key = _key(vc.population, vc.variable)
            if key in cells:  # a second table of the same population and variable
                for lv in vc.hidden:
                    cells[key].mark(lv, k)
                cells[key].outputs += vc.outputs
                cells[key].table_rows += vc.table_rows
            else:
                cells[key] = vc
    for population, variable, ref in _numbers_refs(blocks, numbers, levels_of):
        key = _key(population, variable)
        if key not in cells:
            own = _numbers_cells(population, variable, ref, numbers)
            if own is None:
                continue
            cells[key] = own
        vc = cells[key]
        vc.outputs.append("numbers.yml " + ".".join(ref.path))
        vc.numbers_refs.append(ref)
        _mark_numbers_own(vc, ref, _node(numbers, ref.path), k)
    register = Register()
    for vc in cells.values():
        vc.close(k)
        if vc.hidden:
            register.records.append(vc.record())
        for table, row, col, level in vc.table_rows:
            register.tables.setdefault(table, {})[(row, col)] = (level in vc.hidden, table_bare(vc, level))
    return register


def denominator_hidden(hidden: Mapping[str, str] | set[str], level: str) -> bool:
    """A count of `level` shown beside its denominator d (n/d, a percentage) would give a hidden cell away:
    d follows from N and a hidden Missing (or outside) count, and the hidden rest of d from d and n."""
    if any(s in hidden for s in SPECIAL):
        return True
    return level in ("True", "False") and level not in hidden and ({"True", "False"} - {level}) <= set(hidden)


def table_bare(vc: VariableCells, level: str) -> bool:
    return level not in SPECIAL and level != KNOWN and denominator_hidden(vc.hidden, level)


def _mark_numbers_own(vc: VariableCells, ref: NumbersRef, node: Mapping[str, Any], k: int) -> None:
    """numbers.yml's own rules (presentation.numbers.format_tree) on one node, as hidden cells."""
    if ref.kind == "flag":
        level = ref.levels[""]
        n, d = int(node["n"]), int(node["denominator_n"])
        if dc.protect_cells([n, d - n], k, shown=[True, False])[0]:
            vc.mark(level, k)
            for other in ("True", "False"):
                vc.mark(other, k)
    elif ref.kind == "categories":
        keys = [key for key, v in node.items() if isinstance(v, Mapping) and "n" in v]
        flags = dc.protect_cells([int(node[key]["n"]) for key in keys], k) if len(keys) >= 2 else \
            [dc.is_small(int(node[key]["n"]), k) for key in keys]
        for key, flag in zip(keys, flags):
            if flag:
                vc.mark(ref.levels[key], k)


def apply_to_numbers(doc: dict[str, Any], raw: Mapping[str, Any], records: Sequence[Mapping[str, Any]],
                     k: int) -> None:
    """Hide in one study's formatted numbers (`doc`, raw values `raw`) every cell the register hides."""
    for record in records:
        hidden = record["hidden"]
        for ref in record.get("numbers", []):
            node, values = _node(doc, ref["path"]), _node(raw, ref["path"])
            if not isinstance(node, dict) or not isinstance(values, Mapping):
                continue
            if ref["kind"] == "flag":
                level = ref["levels"][""]
                if level in hidden:
                    node["n"] = dc.hidden_text(int(values["n"]), k)
                    node["pct"] = dc.SUPPRESSED_PCT
                if denominator_hidden(hidden, level) and "denominator_n" in node:
                    node["denominator_n"] = dc.SUPPRESSED_VALUE
                    node["pct"] = dc.SUPPRESSED_PCT
            elif ref["kind"] == "categories":
                for key, level in ref["levels"].items():
                    if not isinstance(node.get(key), dict):
                        continue
                    if level in hidden:
                        node[key]["n"] = dc.hidden_text(int(values[key]["n"]), k)
                    if level in hidden or any(s in hidden for s in SPECIAL):  # a percentage gives d back
                        node[key]["pct"] = dc.SUPPRESSED_PCT
            elif ref["kind"] == "quantiles" and KNOWN in hidden and "n" in node:
                node["n"] = dc.hidden_text(int(values["n"]), k)


def bar_levels(records: Sequence[Mapping[str, Any]], where: Mapping[str, Any] | None) -> dict[str, set[str]]:
    """The hidden levels, by variable, of the population `where` selects (the management bars' patients)."""
    population = population_of(where)
    return {str(r["variable"]): set(r["hidden"]) for r in records if r["population"] == population}


def bar_hidden(hidden: Collection[str]) -> bool:
    """A bar 'n/d (p%)' of a yes/no variable shows its count and, beside d, the rest of d: it is hidden
    where the register hides the count, or would need its denominator hidden (`denominator_hidden`)."""
    return "True" in hidden or denominator_hidden(set(hidden), "True")


# ----------------------------------------------------------------------------------------------
# Numbers at risk of curves that add up: a plan's curves split by group and the whole group's curve
# ----------------------------------------------------------------------------------------------


def _time(key: str) -> float:
    """'t12' -> 12.0 (numbers.yml's key of a number at risk)."""
    return float(key[1:])


def _curve_nodes(plan: Mapping[str, Any], numbers: Mapping[str, Any], levels_of: Any, k: int
                 ) -> list[tuple[dict[str, str], str, Mapping[str, Any], bool]]:
    """(population, curve key, numbers node, size hidden) of each curve of a survival plan; the key is
    'all' for a plan without a group (as in the curves document) and the level otherwise. A curve's size
    is hidden as the survival table, numbers.yml and the figure hide it (protect_cells against the
    selection's n)."""
    node = numbers.get(plan["name"])
    if not isinstance(node, Mapping):
        return []
    if plan.get("group"):
        levels = levels_of(plan["group"])
        curves = [(population_of(plan.get("where"), plan["group"], levels.get(key, key)), levels.get(key, key), v)
                  for key, v in node.items() if isinstance(v, Mapping) and isinstance(v.get("at_risk"), Mapping)]
    elif isinstance(node.get("at_risk"), Mapping):
        curves = [(population_of(plan.get("where")), "all", node)]
    else:
        return []
    return [(population, key, v, hidden) for (population, key, v), hidden in zip(curves, _sizes_hidden(node, curves, k))]


def _sizes_hidden(node: Mapping[str, Any], curves: Sequence[tuple[Any, Any, Mapping[str, Any]]], k: int) -> list[bool]:
    sizes = [int(v["n"]) for _, _, v in curves]
    if node.get("n_selected") is None:
        return [dc.is_small(n, k) for n in sizes]
    cells = [*sizes, int(node["n_selected"]) - sum(sizes)]
    return dc.protect_cells(cells, k, shown=[True] * len(sizes) + [False])[:-1]


Member = tuple[str, str, Mapping[str, Any], bool]  # (plan, curve key, numbers node, size hidden)


def _at_risk(node: Mapping[str, Any]) -> dict[float, int]:
    return {_time(key): int(v) for key, v in node["at_risk"].items()}


def at_risk_register(plans: Sequence[Mapping[str, Any]], numbers: Mapping[str, Any], levels_of: Any,
                     k: int) -> list[dict[str, Any]]:
    """Numbers at risk of curves that add up, hidden jointly (records: plan, curve, hidden times, family).

    A plan split by group (its `where` selecting a population) and another plan's curve of that whole
    population, with the same time and event: at each time the whole curve's number at risk is the sum
    of the split's and of the rest (the patients in no listed group, never drawn, but known by
    subtraction wherever the whole and every split curve are printed). The split's curves print a time
    all together or not at all (`_printed_times`): walking forward, a time is printed when, in every
    split curve and in the rest, the number is not from 1 to k - 1, is not equal to a hidden curve size,
    and equals the last printed one, is 0, or is at least k below it. Where the split is hidden, the whole
    curve (its own rules) gives only the sum of two or more hidden numbers. The figures and numbers.yml
    start their walk (disclosure.at_risk_hidden) with the other times hidden, and print exactly these."""
    if k <= 1:
        return []
    families: list[tuple[list[Member], list[tuple[Member, list[Member]]]]] = []
    for plan in plans:
        if not plan.get("group"):
            continue
        target = population_of(plan.get("where"))
        totals = [(q["name"], key, node, hidden) for q in plans if q is not plan
                  and (q.get("duration"), q.get("event")) == (plan.get("duration"), plan.get("event"))
                  for population, key, node, hidden in _curve_nodes(q, numbers, levels_of, k) if population == target]
        split = [(plan["name"], key, node, hidden) for _, key, node, hidden in _curve_nodes(plan, numbers, levels_of, k)]
        if split and totals:
            families.append((split, [(total, split) for total in totals]))
    merged: list[tuple[list[Member], list[tuple[Member, list[Member]]]]] = []
    for members, rests in families:  # families that share a curve are decided together
        names = {(m[0], m[1]) for m in members}
        for other in [f for f in merged if names & {(m[0], m[1]) for m in f[0]}]:
            merged.remove(other)
            members = members + [m for m in other[0] if (m[0], m[1]) not in names]
            names |= {(m[0], m[1]) for m in other[0]}
            rests = rests + other[1]
        merged.append((members, rests))
    records = []
    for members, rests in merged:
        printed = _printed_times(members, rests, k)
        family = sorted(f"{m[0]} {m[1]}" for m in members)
        whole = sorted({f"{total[0]} {total[1]}" for total, _ in rests})
        for plan_name, key, node, _ in members:
            hidden = sorted(t for t in _at_risk(node) if t not in printed)
            records.append({"plan": plan_name, "curve": str(key), "hidden_times": hidden, "family": family,
                            "whole": whole})
    return sorted(records, key=lambda r: (r["plan"], r["curve"]))


def curve_start_hidden(counts: Sequence[int], n: int, size_hidden: bool, times: Sequence[float],
                       joint: Collection[float], k: int) -> list[bool]:
    """Where a curve's walk over its numbers at risk starts hidden: a number equal to its hidden size, or a
    time its family hides (`joint`: the register's hidden times of the curve)."""
    return [(size_hidden and c == n and not dc.is_small(c, k)) or float(t) in joint for c, t in zip(counts, times)]


def _printed_times(members: Sequence[Member], rests: Sequence[tuple[Member, Sequence[Member]]], k: int) -> set[float]:
    """The times the split curves of a family print (`at_risk_register`): checked in each and in the rest."""
    series: list[tuple[dict[float, int], int | None, bool]] = [(_at_risk(node), int(node["n"]), hidden)
                                                               for _, _, node, hidden in members]
    for total, split in rests:  # the patients of the whole curve in no listed group, at each of its times
        whole, parts = _at_risk(total[2]), [_at_risk(m[2]) for m in split]
        series.append(({t: n - sum(p.get(t, 0) for p in parts) for t, n in whole.items()}, None, False))
    last: list[int | None] = [None] * len(series)
    printed: set[float] = set()
    for t in sorted({t for values, _, _ in series for t in values}):
        ok = True
        for (values, n, size_hidden), previous in zip(series, last):
            if t not in values:
                continue
            v = values[t]
            if dc.is_small(v, k) or (size_hidden and v == n) or not (
                    previous is None or v == previous or v == 0 or previous - v >= k):
                ok = False
        if ok:
            printed.add(t)
            last = [values.get(t, previous) for (values, _, _), previous in zip(series, last)]
    return printed
