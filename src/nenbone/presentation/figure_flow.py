"""Cohort flow diagrams of any design, drawn from the attrition documents of the derivation and match rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nenbone.presentation import disclosure as dc
from nenbone.presentation.figure_base import FigureInputError, _finish, _new_figure
from nenbone.presentation.style import FigureStyle, rc_params

if TYPE_CHECKING:
    from matplotlib.figure import Figure


# ----------------------------------------------------------------------------------------------
# Cohort flow diagrams
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowBox:
    """One box: position in diagram units (x across 0-1, y = row, 0 at the top); side boxes are exclusions."""

    key: str
    text: str
    x: float
    row: float
    side: bool = False


@dataclass(frozen=True)
class FlowDiagram:
    """Boxes and arrows (parent key -> child key); an arrow to a side box leaves the parent's trunk."""

    boxes: list[FlowBox]
    arrows: list[tuple[str, str]]
    width: float = 1.0
    box_width: float = 0.42  # fraction of the figure width a box's text may use before wrapping
    trunk: dict[str, float] = field(default_factory=dict)  # side box key -> x of the trunk it hangs from
    footer: str = ""  # one line under the diagram (e.g. the matched cohort's size)


def _count(n: int | str) -> str:
    """'n = 1212' (no thousands separator: counts print as in the tables and the text), or a hidden count."""
    return f"n = {n}"


def _shown(counts: Sequence[int], k: int) -> list[int | str]:
    """The counts of one split (they add up to the box above) after primary and complementary suppression."""
    hidden = dc.protect_cells([int(n) for n in counts], k)
    return [dc.hidden_text(int(n), k) if h else int(n) for n, h in zip(counts, hidden)]


def _exclusion_text(exclusions: Sequence[tuple[str, int | str]], total: int | str, width: int = 40) -> str:
    """'Excluded: n = 30' and one bullet per reason, wrapped at `width` characters (counts as shown)."""
    import textwrap

    lines = [f"Excluded: {_count(total)}"]
    if isinstance(total, str):  # the total is hidden: so are its parts
        return lines[0]
    if len(exclusions) == 1:
        lines.append(textwrap.fill(f"({exclusions[0][0]})", width))
    else:
        lines += [textwrap.fill(f"\u2022 {reason}: {_count(n)[4:]}", width, subsequent_indent="   ")
                  for reason, n in exclusions]
    return "\n".join(lines)


def _checked_attrition(attrition: Mapping[str, Any]) -> None:
    """Each stage equals the previous one less its exclusions; the groups split the last stage."""
    stages, groups = attrition["stages"], attrition["groups"]
    problems = []
    if not stages:
        problems.append("no stages")
    for prev, stage in zip(stages, stages[1:]):
        out = sum(int(e["n"]) for e in stage["excluded"])
        if int(prev["n"]) - out != int(stage["n"]):
            problems.append(f"'{prev['label']}' ({prev['n']}) less {out} excluded is not '{stage['label']}' ({stage['n']})")
    if groups and stages and sum(int(g["n"]) for g in groups) != int(stages[-1]["n"]):
        problems.append(f"the groups ({sum(int(g['n']) for g in groups)}) do not add up to '{stages[-1]['label']}' "
                        f"({stages[-1]['n']})")
    if problems:
        raise FigureInputError("flow diagram: the attrition counts do not add up: " + "; ".join(problems))


def _not_matched(entry: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Who of a group is not in the matched cohort, by reason: not matched, or a covariate missing (named
    by its codebook label, as the match rule wrote it: never the variable's name)."""
    out = [("not matched", int(entry["n_unmatched"]))] if int(entry["n_unmatched"]) else []
    unlabelled = [m["variable"] for m in entry["excluded_missing"] if not m.get("label")]
    if unlabelled:
        raise FigureInputError(f"flow diagram: the match attrition gives no label for {', '.join(unlabelled)} "
                               "(rerun the match rule)")
    return out + [(f"{_lower_first(m['label'])} missing", int(m["n"])) for m in entry["excluded_missing"] if int(m["n"])]


def _lower_first(text: str) -> str:
    """'Low or intermediate grade' -> 'low or intermediate grade'; an acronym ('LDH level') stays."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def flow_diagram(attrition: Mapping[str, Any], match_attrition: Mapping[str, Any] | None = None,
                 group_labels: Mapping[str, str] | None = None, min_cell_count: int = 0) -> FlowDiagram:
    """The flow diagram of any design: its stages down a trunk, each stage's exclusions (by reason) in
    a side box, the last stage split into its groups, and, for a matched design, who was matched.

    `attrition` is results/derived/<study>.attrition.json; `match_attrition` the match rule's
    results/matched/<study>_attrition.json. Nothing is counted here: the counts are checked to add up.
    With `min_cell_count`, every split (a stage and its exclusions by reason, the groups, matched /
    unmatched / missing) is shown after primary and complementary suppression (presentation.disclosure).
    """
    _checked_attrition(attrition)
    labels = dict(group_labels or {})
    stages, groups = attrition["stages"], attrition["groups"]
    trunk_x, side_x = 0.5, 0.56
    k_min = min_cell_count
    boxes = [FlowBox("stage0", f"{stages[0]['label']}\n{_count(_shown([int(stages[0]['n'])], k_min)[0])}",
                     trunk_x, 0.0)]
    arrows: list[tuple[str, str]] = []
    trunk: dict[str, float] = {}
    row = 0.0
    for i, stage in enumerate(stages[1:], start=1):
        excluded = [(e["reason"], int(e["n"])) for e in stage["excluded"] if int(e["n"])]
        stage_shown, *reasons_shown = _shown([int(stage["n"]), *(n for _, n in excluded)], k_min)
        total_out = sum(n for _, n in excluded)
        # the total excluded is the stage above less this one: hidden when small or when this stage is
        total_shown = (dc.hidden_text(total_out, k_min) if dc.is_small(total_out, k_min) or isinstance(stage_shown, str)
                       else total_out)
        if excluded:
            text = _exclusion_text([(r, n) for (r, _), n in zip(excluded, reasons_shown)], total_shown, width=26)
            boxes.append(FlowBox(f"out{i}", text, side_x, row + 1.3, side=True))
            arrows.append((f"stage{i - 1}", f"out{i}"))
            trunk[f"out{i}"] = trunk_x
            row += 2.6
        else:
            row += 1.5
        boxes.append(FlowBox(f"stage{i}", f"{stage['label']}\n{_count(stage_shown)}", trunk_x, row))
        arrows.append((f"stage{i - 1}", f"stage{i}"))
    last = f"stage{len(stages) - 1}"
    k = len(groups)
    xs = [(i + 0.5) / k for i in range(k)]
    matched = {m["group"]: m for m in (match_attrition or {}).get("groups", [])}
    group_row = row + 1.6
    groups_shown = _shown([int(g["n"]) for g in groups], k_min)
    any_matched_hidden = False
    any_out = any(_not_matched(m) for m in matched.values())
    matched_row = group_row + (2.8 if any_out else 1.4)
    for i, (g, x, g_shown) in enumerate(zip(groups, xs, groups_shown, strict=True)):
        boxes.append(FlowBox(f"group{i}", f"{labels.get(g['label'], g['label'])}\n{_count(g_shown)}", x, group_row))
        arrows.append((last, f"group{i}"))
        if g["label"] in matched:
            entry = matched[g["label"]]
            out = _not_matched(entry)
            # matched and each reason for not being matched add up to the group: protected together
            n_matched, *out_shown = _shown([int(entry["n_matched"]), *(n for _, n in out)], k_min)
            any_matched_hidden |= isinstance(n_matched, str)
            if out:  # outside the Matched box: a side box on the group's trunk (towards the middle)
                total_out = sum(n for _, n in out)
                total_shown = (dc.hidden_text(total_out, k_min)
                               if dc.is_small(total_out, k_min) or isinstance(n_matched, str) else total_out)
                text = _exclusion_text([(r, n) for (r, _), n in zip(out, out_shown)], total_shown, width=24)
                side = x - 0.06 if x > 0.5 else x + 0.06
                boxes.append(FlowBox(f"notmatched{i}", text, side, group_row + 1.4, side=True))
                arrows.append((f"group{i}", f"notmatched{i}"))
                trunk[f"notmatched{i}"] = x
            boxes.append(FlowBox(f"matched{i}", f"Matched\n{_count(n_matched)}", x, matched_row))
            arrows.append((f"group{i}", f"matched{i}"))
    footer = ""
    if matched:
        total = sum(int(m["n_matched"]) for m in matched.values())
        shown = dc.SUPPRESSED_VALUE if any_matched_hidden else _shown([total], k_min)[0]
        footer = f"Matched cohort: {_count(shown)}"
    return FlowDiagram(boxes, arrows, trunk=trunk, footer=footer)


def plot_flow(diagram: FlowDiagram, style: FigureStyle, *, width: float | None = None) -> Figure:
    """Draw a flow diagram: rounded boxes (exclusions grey, dashed), straight or branching arrows.

    Side boxes hang left-aligned from their parent's trunk; a parent with several children below
    branches through a horizontal bus half-way down.
    """
    import matplotlib as mpl

    rows = max(b.row for b in diagram.boxes)
    width = width or style.column_width
    with mpl.rc_context(rc_params(style)):
        foot = 0.5 if diagram.footer else 0.0
        fig = _new_figure(style, width, 0.45 * (rows + 1 + foot) + 0.25)
        fig.set_layout_engine("none")
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(rows + 0.6 + foot, -0.6)
        if diagram.footer:
            ax.text(0.5, rows + 0.55 + foot / 2, diagram.footer, ha="center", va="center",
                    fontsize=style.small_font_size, fontweight="bold", gid="flow-footer")
        artists = {}
        for box in diagram.boxes:
            hanging = box.key in diagram.trunk
            towards_left = hanging and box.x < diagram.trunk[box.key]
            artists[box.key] = ax.text(
                box.x, box.row, box.text, ha=("right" if towards_left else "left") if hanging else "center", va="center",
                multialignment="left" if hanging else "center", fontsize=style.small_font_size, linespacing=1.25,
                color=style.grey if box.side else "black",
                bbox=dict(boxstyle="round,pad=0.45,rounding_size=0.25",
                          facecolor="white" if box.side else style.box_face, edgecolor=style.grey,
                          linewidth=0.7, linestyle="--" if box.side else "-"),
                gid=f"flow-{box.key}",
            )
        fig.draw_without_rendering()
        to_data = ax.transData.inverted()
        extent = {k: to_data.transform(a.get_bbox_patch().get_window_extent()) for k, a in artists.items()}
        # extent[k] = [[x0, y_bottom], [x1, y_top]] in data units (y grows downwards on screen)
        top = {k: float(e[:, 1].min()) for k, e in extent.items()}
        bottom = {k: float(e[:, 1].max()) for k, e in extent.items()}
        left = {k: float(e[:, 0].min()) for k, e in extent.items()}
        right = {k: float(e[:, 0].max()) for k, e in extent.items()}
        by_key = {b.key: b for b in diagram.boxes}
        line = dict(color=style.grey, linewidth=0.7, solid_capstyle="butt")
        arrow = dict(arrowstyle="-|>,head_length=0.35,head_width=0.18", color=style.grey, linewidth=0.7,
                     shrinkA=0, shrinkB=0.5)

        def down_arrow(x: float, y0: float, child: str) -> None:
            ax.annotate("", xy=(x, top[child]), xytext=(x, y0), arrowprops=arrow)

        for parent in dict.fromkeys(p for p, _ in diagram.arrows):
            px = by_key[parent].x
            children = [c for p, c in diagram.arrows if p == parent]
            for c in children:
                if c in diagram.trunk:
                    edge = right[c] if by_key[c].x < diagram.trunk[c] else left[c]
                    ax.annotate("", xy=(edge, by_key[c].row), xytext=(diagram.trunk[c], by_key[c].row),
                                arrowprops=arrow)
            below = [c for c in children if c not in diagram.trunk]
            if not below:
                continue
            if len(below) == 1 and abs(by_key[below[0]].x - px) < 1e-9:
                down_arrow(px, bottom[parent], below[0])
                continue
            y_bus = max(bottom[parent] + 0.1, min(top[c] for c in below) - 0.25)
            xs = [by_key[c].x for c in below]
            ax.plot([px, px], [bottom[parent], y_bus], **line)
            ax.plot([min(xs + [px]), max(xs + [px])], [y_bus, y_bus], **line)
            for c in below:
                down_arrow(by_key[c].x, y_bus, c)
        # side-box trunks run through the side rows: draw the vertical trunk segments explicitly
        for c, tx in diagram.trunk.items():
            parent = next(p for p, ch in diagram.arrows if ch == c)
            ax.plot([tx, tx], [bottom[parent], by_key[c].row], **line)
    return _finish(fig)
