"""Scaled-Schoenfeld plots: beta(t) of every covariate of a Cox model, as R's plot.cox.zph draws it.

Drawn from what the analysis wrote (results/analysis/<study>.schoenfeld.json,
``nenbone.analysis.survival.ph_curves``): per covariate column the smoothed beta(t) on a grid of the
transformed time g(t), its band, the Cox coefficient and the term's test. The residual points are not
in that file (each is one patient's event time and covariate value) and are not drawn.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nenbone.formatting import MINUS, p_label
from nenbone.presentation.figure_base import FigureInputError, _finish, _new_figure, format_number
from nenbone.presentation.style import FigureStyle, rc_params

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GID_PANEL = "schoenfeld-panel"
GID_BETA_T = "schoenfeld-beta-t"
GID_BAND = "schoenfeld-band"
GID_COEF = "schoenfeld-coef"
GID_ZERO = "schoenfeld-zero"

TRANSFORM_NAMES = {"km": "Kaplan-Meier scale", "rank": "rank scale", "identity": "linear scale", "log": "log scale"}
"""How the time axis is spaced, per cox.zph transform (km: g(t) = 1 - S(t-), ticks labelled in time units)."""


def schoenfeld_models(document: Mapping[str, Any], ties: str) -> list[dict[str, Any]]:
    """The models of the analysis document fitted with ``ties`` (the study's reported tie handling), in order."""
    models = [m for m in document.get("models", []) if m.get("ties") == ties]
    if not models:
        have = sorted({str(m.get("ties")) for m in document.get("models", [])})
        raise FigureInputError(f"scaled-Schoenfeld figure: no Cox model with {ties!r} ties in the analysis "
                               f"document (have: {', '.join(have) or 'none'})")
    for m in models:
        smoother = m.get("smoother")
        if not isinstance(smoother, Mapping) or not {"df", "band_se"} <= set(smoother):
            raise FigureInputError(f"scaled-Schoenfeld figure: model {m.get('analysis')!r} does not say how its "
                                   "curve was smoothed (smoother.df, smoother.band_se)")
        for c in m.get("columns", []):
            arrays = [np.asarray(c.get(k, []), dtype=float) for k in ("x", "fit", "lower", "upper")]
            if len({a.size for a in arrays}) != 1 or not arrays[0].size or not all(np.isfinite(a).all() for a in arrays):
                raise FigureInputError(f"scaled-Schoenfeld figure: model {m.get('analysis')!r}, column "
                                       f"{c.get('term')!r}: grid, fit and band missing or of unequal length")
    return models


def ph_test_title(test: Mapping[str, Any]) -> str:
    """'χ² = 0.60, df = 1, p = 0.44': the PH test of the panel's term (cox.zph)."""
    return f"\u03c7\u00b2 = {format_number(float(test['chi2']), 2)}, df = {int(test['df'])}, {p_label(test['p'])}"


def _ticks(ticks: Sequence[Mapping[str, float]], span: tuple[float, float], min_gap: float) -> list[tuple[float, str]]:
    """Time ticks at their g(t) positions, at least ``min_gap`` apart: multiples of 5 steps first, then of 2
    steps, then single steps (step = the smallest spacing of the ticks the analysis wrote)."""
    inside = [(float(t["x"]), float(t["time"])) for t in ticks if span[0] - 1e-12 <= float(t["x"]) <= span[1] + 1e-12]
    if not inside:
        return []
    times = sorted(time for _, time in inside)
    step = min((b - a for a, b in zip(times, times[1:], strict=False)), default=times[0] or 1.0)
    kept: list[tuple[float, float]] = []
    for every in (5, 2, 1):
        for x, time in inside:
            on_grid = abs(time / (every * step) - round(time / (every * step))) < 1e-9
            if on_grid and all(abs(x - k) >= min_gap for k, _ in kept) and (x, time) not in kept:
                kept.append((x, time))
    return [(x, format_number(time, 0)) for x, time in sorted(kept)]


def plot_schoenfeld(
    models: Sequence[Mapping[str, Any]],
    style: FigureStyle,
    *,
    labels: Mapping[str, str],
    time_label: str = "Time",
    ncols: int = 3,
    label_chars: int = 28,
) -> Figure:
    """One panel per covariate column per model: beta(t) smoothed (solid) with its band (shaded), the Cox
    coefficient (dashed) and 0 (grey); panel title: the term's PH test; title: the covariate's
    readable name (``labels``: term -> name) over its PH test; y-axis beta(t). Models stacked, each headed by its label and global test.
    The legend fills the empty slots after the first model whose last row leaves two or more of them
    (e.g. beside a one-covariate model), else it goes under the panels: no row is drawn half empty."""
    import matplotlib as mpl

    from nenbone.presentation.figure_base import _wrap

    rows_per_model = [max(1, math.ceil(len(m["columns"]) / ncols)) for m in models]
    # inches: a row of panels (title, plot, ticks), the time-axis label under a model's last row, a header
    panel_h, label_h, head_h = 1.32, 0.3, 0.12
    spare_at = next((i for i, m in enumerate(models) if rows_per_model[i] * ncols - len(m["columns"]) >= 2), None)
    with mpl.rc_context(rc_params(style)):
        ratios: list[float] = []
        for r in rows_per_model:
            ratios += [head_h] + [panel_h] * (r - 1) + [panel_h + label_h]
        fig = _new_figure(style, style.page_width, (0.35 if spare_at is None else 0.05) + sum(ratios))
        grid = fig.add_gridspec(len(ratios), ncols, height_ratios=ratios)
        handles = None
        legend_slot = None
        row = 0
        for i, (model, nrows) in enumerate(zip(models, rows_per_model, strict=True)):
            head = (f"{model['label']}: {model['events']} events in {model['n']} patients; "
                    f"global test {ph_test_title(model['global'])}")
            header = fig.add_subplot(grid[row, :])
            header.axis("off")
            header.set_xticks([])
            header.set_yticks([])
            header.set_title(_wrap(head, style.page_width * 0.8, style.font_size), loc="left",
                             fontsize=style.font_size, fontweight="bold", pad=0)
            cols = model["columns"]
            for k, col in enumerate(cols):
                ax = fig.add_subplot(grid[row + 1 + k // ncols, k % ncols])
                handles = _panel(ax, col, model, style, labels, label_chars)
                if k + ncols >= len(cols):  # no panel below: the time axis is named here
                    ax.set_xlabel(time_label, fontsize=style.small_font_size)
            if i == spare_at:
                legend_slot = fig.add_subplot(grid[row + nrows, len(cols) - (nrows - 1) * ncols:])
                legend_slot.axis("off")
            row += 1 + nrows
        if handles and legend_slot is not None:
            legend_slot.legend(*handles, loc="center left", ncols=1, frameon=False,
                               fontsize=style.small_font_size, handlelength=1.8, borderaxespad=0)
        elif handles:
            fig.legend(*handles, loc="outside lower center", ncols=len(handles[0]), frameon=False,
                       fontsize=style.small_font_size, handlelength=1.8, columnspacing=1.5)
    return _finish(fig)


def _panel(ax: Any, col: Mapping[str, Any], model: Mapping[str, Any], style: FigureStyle,
           labels: Mapping[str, str], label_chars: int) -> tuple[list[Any], list[str]]:
    from matplotlib.ticker import MaxNLocator

    x, fit = np.asarray(col["x"], dtype=float), np.asarray(col["fit"], dtype=float)
    lower, upper = np.asarray(col["lower"], dtype=float), np.asarray(col["upper"], dtype=float)
    ax.set_gid(GID_PANEL)
    band = ax.fill_between(x, lower, upper, color=style.color(0), alpha=0.18, linewidth=0, gid=GID_BAND)
    (curve,) = ax.plot(x, fit, color=style.color(0), linewidth=style.line_width, gid=GID_BETA_T)
    coef = ax.axhline(float(col["coef"]), color=style.color(1), linestyle=(0, (4, 2)), linewidth=0.9, gid=GID_COEF)
    zero = ax.axhline(0.0, color=style.grey, linewidth=0.6, gid=GID_ZERO)
    name = labels.get(str(col["term"]), str(col["term"]))
    ax.set_title(f"{textwrap.fill(name, label_chars)}\n{ph_test_title(col['test'])}", fontsize=style.small_font_size,
                 loc="left")
    ax.set_ylabel("\u03b2(t)", fontsize=style.small_font_size)
    span = (float(x.min()), float(x.max()))
    ticks = _ticks(model.get("time_ticks", []), span, 0.17 * (span[1] - span[0] or 1.0))
    ax.set_xticks([t for t, _ in ticks], [lab for _, lab in ticks])
    ax.set_xlim(*span)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=3))  # a short panel: three steps, labels apart
    lo, hi = ax.get_ylim()
    ax.set_yticks([t for t in ax.get_yticks() if lo <= t <= hi])  # no tick label beyond the axis
    ax.set_ylim(lo, hi)
    ax.tick_params(labelsize=style.small_font_size)
    ax.yaxis.set_major_formatter(mpl_minus_formatter())
    smoother = model["smoother"]
    names = [f"\u03b2(t), natural spline ({int(smoother['df'])} df)", f"\u00b1{float(smoother['band_se']):g} SE band",
             "Cox coefficient (constant \u03b2)", "\u03b2 = 0"]
    return [curve, band, coef, zero], names


def mpl_minus_formatter() -> Any:
    """Tick labels as matplotlib's %g, with a typographic minus."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, pos=None: f"{v:g}".replace("-", MINUS))


def column_labels(models: Sequence[Mapping[str, Any]], codebook: Any = None) -> dict[str, str]:
    """Readable name per term: the codebook's label of its covariate (with unit), ': <level> vs <reference>'
    for a dummy of a categorical covariate (as the balance table names levels)."""
    import pandas as pd

    from nenbone.presentation.figure_matching import covariate_labels

    cols = {str(c["term"]): c for m in models for c in m["columns"]}
    frame = pd.DataFrame({"covariate": [str(c["covariate"]) for c in cols.values()],
                          "level": [None] * len(cols)})
    names = covariate_labels(frame, codebook)
    out = {}
    for (term, c), name in zip(cols.items(), names, strict=True):
        if c.get("level") is not None:
            name = f"{name}: {c['level']} vs {c['reference']}"
        out[term] = name
    return out


def time_axis_label(document: Mapping[str, Any], codebook: Any = None) -> str:
    """'Time (months)' with the unit of the model's duration in the codebook, and the scale of g(t)."""
    variables = {**getattr(codebook, "variables", {}), **getattr(codebook, "derived", {})} if codebook else {}
    unit = getattr(variables.get(str(document.get("duration"))), "unit", None)
    transforms = {m.get("transform") for m in document.get("models", [])}
    scale = TRANSFORM_NAMES.get(transforms.pop(), "") if len(transforms) == 1 else ""
    return f"Time{f' ({unit})' if unit else ''}" + (f"\n{scale}" if scale else "")
