"""Bar figures: n/N (%) per item with the denominators in a note (the christie design's management figure)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nenbone.presentation import disclosure as dc
from nenbone.presentation.figure_base import _finish, _new_figure, _wrap, format_number
from nenbone.presentation.style import FigureStyle, rc_params

if TYPE_CHECKING:
    from matplotlib.figure import Figure


# ----------------------------------------------------------------------------------------------
# Bars: symptoms and management (christie design)
# ----------------------------------------------------------------------------------------------


def denominator_note(counts: pd.DataFrame, descriptions: Mapping[str, str]) -> str:
    """'Denominators: 85 patients with BMs; pain or hypercalcaemia, SRE: 66 ever symptomatic', from the counts."""
    kinds = list(dict.fromkeys(counts["denominator_kind"]))
    if len(kinds) == 1:
        d = int(counts["denominator"].iloc[0])
        return f"Denominator: all {d} {descriptions.get(kinds[0], kinds[0])}"
    parts = []
    for kind in kinds:
        sub = counts.loc[counts["denominator_kind"] == kind]
        d = int(sub["denominator"].iloc[0])
        if kind == "all":
            parts.append(f"{d} {descriptions.get(kind, kind)}")
        else:
            which = ", ".join(sub["label"].str.lower())
            parts.append(f"{which}: {d} {descriptions.get(kind, kind)}")
    return "Denominators: " + "; ".join(parts)


def plot_bars(
    counts: pd.DataFrame, style: FigureStyle, *, xlabel: str, note: str = "", min_cell_count: int = 0,
    protected: Mapping[str, Collection[str]] | None = None,
) -> Figure:
    """Horizontal bars of %, each labelled 'n/N (x%)', sections colour-keyed, the denominators in a note.

    A count below `min_cell_count` (disclosure control) is shown as '<k/N' with no bar and no %, and so is
    one whose complement would be small; `protected` gives, by column, the levels the study's register of
    protected cells hides (presentation.protection.bar_levels): a bar is hidden where the register hides
    its count, or the rest of its denominator.
    """
    import matplotlib as mpl

    counts = counts.reset_index(drop=True)
    sections = list(dict.fromkeys(counts["section"]))
    k = len(counts)
    with mpl.rc_context(rc_params(style)):
        fig = _new_figure(style, style.column_width, 0.9 + 0.2 * k + (0.25 if note else 0))
        ax = fig.add_subplot()
        y = np.arange(k)
        colors = [style.color(sections.index(s)) for s in counts["section"]]
        hidden = np.array([dc.protect_cells([int(n), int(d) - int(n)], min_cell_count, shown=[True, False])[0]
                           for n, d in zip(counts["n"], counts["denominator"])], dtype=bool)
        if protected and "column" in counts.columns:
            from nenbone.presentation.protection import bar_hidden

            hidden |= np.array([bar_hidden(protected.get(str(c), ())) for c in counts["column"]], dtype=bool)
        widths = np.where(hidden, 0.0, counts["percent"].to_numpy(float))
        ax.barh(y, widths, color=colors, height=0.68, gid="bars")
        for yi, row in counts.iterrows():
            shown_n = dc.hidden_text(int(row["n"]), min_cell_count) if hidden[yi] else str(int(row["n"]))
            text = f"{shown_n}/{row['denominator']}"
            if not hidden[yi]:
                text += f" ({format_number(row['percent'], 0)}%)"
            ax.text(widths[yi] + 1.5, yi, text, va="center", ha="left", fontsize=style.small_font_size)
        ax.set_yticks(y, counts["label"])
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xticks([0, 20, 40, 60, 80, 100])
        ax.set_xlabel(xlabel)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.grid(axis="x", color=style.light_grey, linewidth=0.4)
        ax.set_axisbelow(True)
        if len(sections) > 1:
            from matplotlib.patches import Patch

            ax.legend([Patch(color=style.color(i)) for i in range(len(sections))], sections, loc="lower left",
                      bbox_to_anchor=(0.0, 1.0), ncols=len(sections), frameon=False, borderaxespad=0.2,
                      handlelength=1.0, fontsize=style.small_font_size)
        if note:
            fig.supxlabel(_wrap(note, style.column_width, style.small_font_size), fontsize=style.small_font_size,
                          color=style.grey, x=0.02, ha="left", multialignment="left")
    return _finish(fig)
