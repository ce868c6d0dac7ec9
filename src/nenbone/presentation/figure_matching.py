"""Matching plots: propensity-score distributions, covariate balance (Love plot), effect estimates (forest plot)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from nenbone.formatting import MINUS, hr_text, p_label
from nenbone.presentation.figure_base import FigureInputError, _finish, _new_figure, _require_columns, format_number
from nenbone.presentation.style import FigureStyle, rc_params

if TYPE_CHECKING:
    from matplotlib.figure import Figure


# ----------------------------------------------------------------------------------------------
# Matching plots: propensity scores, balance, effect estimates (mayo design)
# ----------------------------------------------------------------------------------------------


def plot_ps_distribution(
    scores: pd.DataFrame,
    style: FigureStyle,
    *,
    treated: tuple[Any, str],
    control: tuple[Any, str],
    score_col: str = "logit_ps",
    xlabel: str = "Propensity score (logit)",
    bins: int = 24,
) -> Figure:
    """Mirrored histograms (treated up, control down), % of each group, before and after matching."""
    import matplotlib as mpl

    _require_columns(scores, ["group", score_col, "matched"], "propensity-score figure")
    if scores[[score_col, "matched", "group"]].isna().any().any():
        raise FigureInputError(f"propensity-score figure: missing '{score_col}', 'matched' or 'group' values")
    values = scores[score_col].to_numpy(float)
    edges = np.histogram_bin_edges(values, bins=bins)
    panels = [("Before matching", np.ones(len(scores), dtype=bool)),
              ("After matching", scores["matched"].astype(bool).to_numpy())]
    with mpl.rc_context(rc_params(style)):
        fig = _new_figure(style, style.column_width, 3.6)
        axes = fig.subplots(2, 1, sharex=True)
        peak = 0.0
        for ax, (title, mask) in zip(axes, panels, strict=True):
            ns = []
            for sign, (value, label), color in ((1, treated, style.color(1)), (-1, control, style.color(0))):
                sel = mask & (scores["group"] == value).to_numpy(dtype=bool)
                n = int(sel.sum())
                ns.append(f"{value} n = {n}")
                counts, _ = np.histogram(values[sel], bins=edges)
                pct = 100.0 * counts / n if n else counts * 0.0
                peak = max(peak, float(pct.max()) if len(pct) else 0.0)
                ax.bar(edges[:-1], sign * pct, width=np.diff(edges), align="edge", color=color, alpha=0.85,
                       edgecolor="white", linewidth=0.3, label=label, gid=f"ps-{value}")
            ax.axhline(0, color="black", linewidth=0.6)
            ax.set_title(f"{title} ({'; '.join(ns)})", loc="left", fontsize=style.small_font_size, fontweight="bold")
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=1, frameon=False,
                   fontsize=style.small_font_size, handlelength=1.0)
        lim = 10 * math.ceil(peak / 10 + 1e-9) if peak > 0 else 10
        for ax in axes:
            ax.set_ylim(-lim, lim)
            ticks = np.linspace(-lim, lim, 5)
            ax.set_yticks(ticks, [format_number(abs(t), 0) for t in ticks])
        axes[-1].set_xlabel(xlabel)
        fig.supylabel("Patients in group (%)", fontsize=style.font_size)  # one label for both panels
    return _finish(fig)


def covariate_labels(balance: pd.DataFrame, codebook: Any = None) -> list[str]:
    """Readable name per balance row: the file's `label` column if complete, else the codebook's label of
    `covariate` with ': <level>' from the `level` column (not for a binary level '1').

    Either way the codebook's unit is appended where the label lacks it ('Age at resection (years)');
    a name the codebook does not know is shown as it is.
    """
    known: dict[str, str] = {}
    units: dict[str, str] = {}
    if codebook is not None:
        for name, var in {**getattr(codebook, "variables", {}), **getattr(codebook, "derived", {})}.items():
            unit = getattr(var, "unit", None)
            known[name] = f"{var.label} ({unit})" if unit and f"({unit})" not in var.label else var.label
            if unit:
                units[name] = unit
    if "label" in balance.columns and balance["label"].notna().all():
        return [f"{lab} ({units[cov]})" if cov in units and f"({units[cov]})" not in lab else lab
                for lab, cov in zip(balance["label"].astype(str), balance["covariate"].astype(str), strict=True)]
    levels = balance["level"] if "level" in balance.columns else pd.Series([None] * len(balance), index=balance.index)
    out = []
    for cov, level in zip(balance["covariate"].astype(str), levels, strict=True):
        text = known.get(cov, cov)
        if level is not None and not pd.isna(level) and str(level) not in ("", "1"):
            text = f"{text}: {level}"
        out.append(text)
    return out


def plot_love(
    balance: pd.DataFrame,
    style: FigureStyle,
    *,
    labels: Sequence[str] | None = None,
    threshold: float = 0.1,
    xlabel: str = "Standardised mean difference",
    label_chars: int = 26,
) -> Figure:
    """Love plot: SMD per row before (open) and after (filled) matching, +-threshold reference lines.

    `labels`: one name per row of `balance` (default: its `label` column, else `covariate`). Rows are
    drawn by decreasing |SMD| before matching. An infinite SMD (no variation in either group) is drawn
    at the axis edge with a triangle.
    """
    import textwrap

    import matplotlib as mpl

    _require_columns(balance, ["covariate", "smd_before", "smd_after"], "Love plot")
    if balance[["smd_before", "smd_after"]].isna().any().any():
        bad = balance.loc[balance[["smd_before", "smd_after"]].isna().any(axis=1), "covariate"].tolist()
        raise FigureInputError(f"Love plot: SMD missing for covariate(s) {', '.join(map(str, bad))}")
    names_in = list(labels) if labels is not None else covariate_labels(balance)
    if len(names_in) != len(balance):
        raise FigureInputError(f"Love plot: {len(names_in)} labels for {len(balance)} rows")
    data = balance.reset_index(drop=True).assign(_name=names_in)
    order = np.argsort(-data["smd_before"].abs().to_numpy(), kind="stable")
    data = data.iloc[order].reset_index(drop=True)
    k = len(data)
    with mpl.rc_context(rc_params(style)):
        wrapped = [textwrap.fill(str(n), label_chars) for n in data["_name"]]
        fig = _new_figure(style, style.column_width, 1.05 + 0.19 * k + 0.08 * sum(w.count("\n") for w in wrapped))
        ax = fig.add_subplot()
        y = np.arange(k)
        for sign in (-1, 1):
            ax.axvline(sign * threshold, color=style.grey, linestyle=(0, (3, 2)), linewidth=0.7)
        ax.axvline(0, color="black", linewidth=0.6)
        both = data[["smd_before", "smd_after"]].to_numpy(float)
        finite = np.abs(both[np.isfinite(both)])
        span = max(float(finite.max()) if finite.size else 0.0, threshold) * 1.15
        shown = np.clip(both, -span, span)
        for yi in y:
            ax.plot(shown[yi], [yi, yi], color=style.light_grey, linewidth=0.8, zorder=1)
        ax.plot(shown[:, 0], y, linestyle="none", marker="o", markersize=4,
                markerfacecolor="white", markeredgecolor=style.color(1), markeredgewidth=1.0,
                label="Before matching", gid="smd-before", zorder=3)
        ax.plot(shown[:, 1], y, linestyle="none", marker="o", markersize=4,
                color=style.color(0), label="After matching", gid="smd-after", zorder=4)
        for yi, col in zip(*np.nonzero(~np.isfinite(both)), strict=True):  # infinite SMD: a triangle at the edge
            ax.plot([shown[yi, col]], [yi], linestyle="none", marker=">" if both[yi, col] > 0 else "<",
                    markersize=5, markerfacecolor="white" if col == 0 else style.color(0),
                    markeredgecolor=style.color(1) if col == 0 else style.color(0), zorder=5, gid="smd-infinite")
        ax.set_yticks(y, wrapped)
        ax.invert_yaxis()
        ax.tick_params(axis="y", length=0, labelsize=style.small_font_size)
        ax.set_xlim(-span, span)
        ax.set_xlabel(xlabel)
        ax.grid(axis="y", color=style.light_grey, linewidth=0.3)
        fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=2, frameon=False,
                   fontsize=style.small_font_size, handletextpad=0.3, columnspacing=1.5)
    return _finish(fig)


def plot_forest(
    effects: pd.DataFrame,
    style: FigureStyle,
    *,
    xlabel: str = "Hazard ratio (log scale)",
    favours: tuple[str, str] | None = None,
    sections: Mapping[str, str] | None = None,
    label_chars: int = 24,
    width: float | None = None,
) -> Figure:
    """Forest plot: HR and CI per row (file order) on a log axis, HR = 1 line, 'HR (CI)' and p at the right.

    ``width`` (inches; default the style's column width): a wider figure, with a larger ``label_chars``,
    wraps long row labels over fewer lines and so is shorter.

    `favours` = (text left of HR 1, text right of it). `sections` maps a value of the `analysis`
    column to a bold header drawn above its rows ("*" = every other value); consecutive rows of one
    section share the header.
    """
    import textwrap

    import matplotlib as mpl
    from matplotlib.ticker import FixedLocator, NullLocator

    cols = ["label", "hr", "lower", "upper", "p"] + (["analysis"] if sections else [])
    _require_columns(effects, cols, "forest plot")
    data = effects.reset_index(drop=True)
    est = data[["hr", "lower", "upper"]].astype(float)
    bad = data.loc[(est <= 0).any(axis=1) | est.isna().any(axis=1) | ~np.isfinite(est).all(axis=1)]
    if len(bad):
        which = ", ".join(map(str, bad["label"]))
        raise FigureInputError(f"forest plot: HR or CI missing, infinite or not positive for {which}")
    # y positions: a header row where the section changes; taller rows for wrapped labels
    labels = [textwrap.fill(str(v), label_chars) for v in data["label"]]
    y, headers, pos, current = [], [], 0.0, None
    for i, lab in enumerate(labels):
        if sections:
            sec = sections.get(str(data.at[i, "analysis"]), sections.get("*"))
            if sec and sec != current:
                headers.append((pos, sec))
                pos += 1.0
            current = sec
        step = 1.0 + 0.85 * lab.count("\n")  # a row unit is 0.17 in; a label line at 8 pt about 0.14 in
        y.append(pos + (step - 1.0) / 2)
        pos += step
    y_arr = np.asarray(y)
    lo_lim = 2.0 ** math.floor(math.log2(min(float(est["lower"].min()), 1.0) / 1.05))
    hi_lim = 2.0 ** math.ceil(math.log2(max(float(est["upper"].max()), 1.0) * 1.05))
    header = -1.0
    with mpl.rc_context(rc_params(style)):
        fig = _new_figure(style, style.column_width if width is None else width, 0.85 + 0.17 * pos)
        ax, txt = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1.0, 1.3], "wspace": 0.0})
        ax.axvline(1.0, color="black", linewidth=0.6)
        ax.hlines(y_arr, est["lower"], est["upper"], color=style.color(0), linewidth=1.0, gid="forest-ci")
        ax.plot(est["hr"].to_numpy(), y_arr, linestyle="none", marker="s", markersize=3.5, color=style.color(0),
                gid="forest-hr")
        ax.set_xscale("log")
        ticks = [2.0**e for e in range(round(math.log2(lo_lim)), round(math.log2(hi_lim)) + 1)]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(ticks, [_tick(t) for t in ticks])
        ax.set_xlim(lo_lim, hi_lim)
        ax.set_yticks(y_arr, labels)
        for hy, title in headers:  # section headers start at the figure's left edge, across the label column
            ax.annotate(title, xy=(0.02, hy), xycoords=("figure fraction", "data"), ha="left", va="center",
                        fontweight="bold", fontsize=style.small_font_size, gid="forest-section",
                        bbox=dict(facecolor="white", edgecolor="none", pad=0.6))
        ax.set_ylim(pos - 0.5, header - 0.5)
        ax.tick_params(axis="y", length=0, labelsize=style.small_font_size)
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(xlabel)
        if favours:
            ax.text(1 / 1.08, header, f"\u2190 {favours[0]}", ha="right", va="center",
                    fontsize=style.small_font_size - 0.5, color=style.grey)
            ax.text(1.08, header, f"{favours[1]} \u2192", ha="left", va="center",
                    fontsize=style.small_font_size - 0.5, color=style.grey)
        txt.set_axis_off()
        txt.set_xlim(0, 1)
        txt.text(0.05, header, f"HR ({_ci_level(effects)} CI)", ha="left", va="center", fontweight="bold",
                 fontsize=style.small_font_size)
        txt.text(1.0, header, "p", ha="right", va="center", fontweight="bold", fontsize=style.small_font_size)
        for yi, (_, row) in zip(y_arr, data.iterrows(), strict=True):
            txt.text(0.05, yi, hr_text(row["hr"], row["lower"], row["upper"], missing="NR", minus=MINUS), ha="left", va="center",
                     fontsize=style.small_font_size, gid="forest-text")
            txt.text(1.0, yi, p_label(row["p"]).removeprefix("p = ").replace("p < ", "< "), ha="right",
                     va="center", fontsize=style.small_font_size)
    return _finish(fig)


def _ci_level(effects: pd.DataFrame) -> str:
    """'95%' from a `level` column when present (one value), else 95%."""
    if "level" in effects.columns and effects["level"].nunique() == 1:
        return f"{round(float(effects['level'].iloc[0]) * 100):d}%"
    return "95%"


def _tick(t: float) -> str:
    return f"{t:g}" if t >= 1 else f"{t:.3g}".rstrip("0").rstrip(".")
