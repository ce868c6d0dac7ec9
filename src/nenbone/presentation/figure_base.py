"""What every figure shares: metadata, element ids, the input error, creating, finishing and
saving a figure (PNG + PDF, byte-identical reruns), number formatting and the layout checks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from nenbone.errors import NenboneError
from nenbone.formatting import MINUS, number_text
from nenbone.presentation.style import FigureStyle, rc_params

if TYPE_CHECKING:  # imported lazily at run time: matplotlib is slow to import
    from matplotlib.figure import Figure


# PNG/PDF metadata that would otherwise carry the matplotlib version or the date of the run.
PNG_METADATA: dict[str, Any] = {"Software": None}
PDF_METADATA: dict[str, Any] = {"Creator": None, "Producer": None, "CreationDate": None}

GID_CURVE = "km-curve"
GID_CENSOR = "km-censor"
GID_MEDIAN = "km-median"
GID_CI = "km-ci"
GID_AT_RISK = "at-risk"


class FigureInputError(NenboneError):
    """The data handed to a figure cannot be drawn honestly (missing columns or values, empty groups)."""


# ----------------------------------------------------------------------------------------------
# Writing figures
# ----------------------------------------------------------------------------------------------


def _new_figure(style: FigureStyle, width: float, height: float) -> Figure:
    """A pyplot-free Figure with the house style's rc settings remembered for drawing and saving."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    fig.nenbone_rc = rc_params(style)  # type: ignore[attr-defined]
    return fig


def _finish(fig: Figure) -> Figure:
    """Lay the figure out once under its own rc settings, so saving later cannot change tick text."""
    import matplotlib as mpl

    with mpl.rc_context(getattr(fig, "nenbone_rc", {})):
        fig.draw_without_rendering()
    return fig


def save_figure(fig: Figure, png_path: str | Path, pdf_path: str | Path, dpi: int) -> None:
    """Write PNG (at `dpi`) and PDF, with metadata stripped of dates and versions: reruns are byte-identical."""
    import matplotlib as mpl

    from nenbone.io.files import atomic_paths

    rc = dict(getattr(fig, "nenbone_rc", {}))
    rc.update({"pdf.fonttype": 42, "svg.hashsalt": "nenbone"})
    with mpl.rc_context(rc), atomic_paths(png_path, pdf_path) as (png_tmp, pdf_tmp):
        fig.savefig(png_tmp, format="png", dpi=dpi, metadata=PNG_METADATA)
        fig.savefig(pdf_tmp, format="pdf", metadata=PDF_METADATA)


# ----------------------------------------------------------------------------------------------
# Number formatting (figures only; the numbers file has its own)
# ----------------------------------------------------------------------------------------------


def format_number(x: float | None, digits: int = 1) -> str:
    """A number as figures draw it: fixed decimals, half up, 'NR' if not reached, a true minus sign."""
    return number_text(x, digits, missing="NR", minus=MINUS)



def _wrap(text: str, width_in: float, font_pt: float) -> str:
    """Wrap a note to the figure width (DejaVu Sans averages ~0.55 em per character)."""
    import textwrap

    chars = max(20, int(width_in * 72 / (0.56 * font_pt)))
    return "\n".join(textwrap.fill(part, chars) for part in text.split("\n"))


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        have = ", ".join(map(str, frame.columns))
        raise FigureInputError(f"{what}: columns not in the data: {', '.join(absent)} (have: {have})")




# ----------------------------------------------------------------------------------------------
# Layout checks (used by tests and by the rules' logs)
# ----------------------------------------------------------------------------------------------


def overlapping_texts(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of visible, non-empty texts whose rendered boxes overlap (should be none)."""
    import matplotlib as mpl
    import matplotlib.text

    with mpl.rc_context(getattr(fig, "nenbone_rc", {})):
        fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()
        texts = [t for t in fig.findobj(lambda a: isinstance(a, mpl.text.Text))
                 if t.get_visible() and t.get_text().strip() and t.figure is fig]
        boxes = [(t, t.get_window_extent(renderer)) for t in texts]
    pairs = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i][1], boxes[j][1]
            if a.width and b.width and a.overlaps(b):
                ix = min(a.x1, b.x1) - max(a.x0, b.x0)
                iy = min(a.y1, b.y1) - max(a.y0, b.y0)
                if ix > 0.5 and iy > 0.5:
                    pairs.append((boxes[i][0].get_text(), boxes[j][0].get_text()))
    return pairs


def outside_figure(fig: Figure) -> list[str]:
    """Texts that stick out of the figure canvas (would be clipped)."""
    import matplotlib as mpl
    import matplotlib.text

    with mpl.rc_context(getattr(fig, "nenbone_rc", {})):
        fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()
        w, h = fig.bbox.width, fig.bbox.height
        hidden = set()
        for ax in fig.axes:
            for axis, (lo, hi) in ((ax.xaxis, sorted(ax.get_xlim())), (ax.yaxis, sorted(ax.get_ylim()))):
                for tick in axis.get_major_ticks():
                    if not lo - 1e-9 * abs(hi - lo) <= tick.get_loc() <= hi + 1e-9 * abs(hi - lo):
                        hidden.update({id(tick.label1), id(tick.label2)})
        out = []
        for t in fig.findobj(lambda a: isinstance(a, mpl.text.Text)):
            if not (t.get_visible() and t.get_text().strip()) or id(t) in hidden:
                continue
            bb = t.get_window_extent(renderer)
            if bb.x0 < -0.5 or bb.y0 < -0.5 or bb.x1 > w + 0.5 or bb.y1 > h + 0.5:
                out.append(t.get_text())
    return out


def overlapping_boxes(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of drawn text boxes (flow-diagram boxes) whose frames overlap (should be none)."""
    import matplotlib as mpl
    import matplotlib.text

    with mpl.rc_context(getattr(fig, "nenbone_rc", {})):
        fig.draw_without_rendering()
        boxes = [(t.get_text(), t.get_bbox_patch().get_window_extent())
                 for t in fig.findobj(lambda a: isinstance(a, mpl.text.Text))
                 if t.get_visible() and t.get_bbox_patch() is not None]
    return [(boxes[i][0], boxes[j][0]) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
            if boxes[i][1].overlaps(boxes[j][1])]


def layout_problems(fig: Figure) -> list[str]:
    """Overlapping or clipped texts and boxes, as messages for the rule's log (a reader would stumble on them)."""
    out = [f"overlapping texts: {a!r} and {b!r}" for a, b in overlapping_texts(fig)]
    out += [f"overlapping boxes: {a!r} and {b!r}" for a, b in overlapping_boxes(fig)]
    out += [f"text outside the figure: {t!r}" for t in outside_figure(fig)]
    return out
