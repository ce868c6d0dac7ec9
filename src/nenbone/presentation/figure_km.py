"""Kaplan-Meier figures: the curves the analysis wrote, drawn with numbers at risk, medians and the log-rank p."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from nenbone.formatting import MINUS, count_text, interval_text, p_label
from nenbone.presentation import disclosure as dc
from nenbone.presentation.figure_base import (GID_AT_RISK, GID_CENSOR, GID_CI, GID_CURVE, GID_MEDIAN,
                                              FigureInputError, _finish, _new_figure, format_number)
from nenbone.presentation.style import FigureStyle, rc_params

if TYPE_CHECKING:
    from matplotlib.figure import Figure


# ----------------------------------------------------------------------------------------------
# Kaplan-Meier figure
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KMCurve:
    """One Kaplan-Meier curve as the analysis wrote it (results/analysis/<study>.curves.json): drawn, never recomputed."""

    label: str
    n: int
    events: int
    level: float
    median: float | None
    median_ci_spss: tuple[float | None, float | None]
    median_ci_loglog: tuple[float | None, float | None]
    at_risk: dict[float, int]
    time: np.ndarray
    S: np.ndarray
    lower: np.ndarray  # pointwise log-log band (nenbone.analysis.survival.loglog_band)
    upper: np.ndarray
    censored: np.ndarray
    n_at_risk: np.ndarray | None = None  # at each step time (disclosure control cuts the curve where few remain)

    @classmethod
    def from_record(cls, record: Mapping[str, Any], label: str | None = None) -> KMCurve:
        steps = record["steps"]
        return cls(label=record["label"] if label is None else label, n=int(record["n"]), events=int(record["events"]),
                   level=float(record["level"]), median=record["median"],
                   median_ci_spss=tuple(record["median_ci_spss"]), median_ci_loglog=tuple(record["median_ci_loglog"]),
                   at_risk={float(t): int(n) for t, n in record["at_risk"]},
                   time=np.asarray(steps["time"], dtype=float), S=np.asarray(steps["S"], dtype=float),
                   lower=np.asarray(steps["lower"], dtype=float), upper=np.asarray(steps["upper"], dtype=float),
                   censored=np.asarray(steps["censored"], dtype=int),
                   n_at_risk=np.asarray(steps["n_at_risk"], dtype=int) if "n_at_risk" in steps else None)


@dataclass(frozen=True)
class KMInput:
    """The curves of one KM figure and, with two or more groups, their log-rank p."""

    curves: list[KMCurve]
    logrank_p: float | None = None
    row_labels: tuple[str, ...] = ()  # short names for the at-risk rows (group levels); "" for a single curve
    n_selected: int | None = None  # patients the plan selected before splitting by group (disclosure control)


def km_input(plan_curves: Mapping[str, Any], display: Mapping[str, str] | None = None) -> KMInput:
    """A survival plan's curves from the analysis' curves document, relabelled by `display` (level or "all")."""
    display = dict(display or {})
    records = list(plan_curves["curves"])
    if not records:
        raise FigureInputError("Kaplan-Meier figure: the plan has no curves")
    curves = [KMCurve.from_record(r, display.get(str(r["key"]))) for r in records]
    rows = tuple("" if r["key"] == "all" else display.get(str(r["key"]), str(r["key"])) for r in records)  # legend names
    return KMInput(curves, plan_curves.get("logrank_p"), rows, plan_curves.get("n_selected"))


def hidden_curve_sizes(km: KMInput, min_cell_count: int) -> list[bool]:
    """Which curves' n to hide: small ones and, where the curves are part of a selection of known size,
    those that would give a small remainder away (disclosure.protect_cells)."""
    sizes = [int(c.n) for c in km.curves]
    if km.n_selected is None:
        return [dc.is_small(n, min_cell_count) for n in sizes]
    cells = [*sizes, int(km.n_selected) - sum(sizes)]
    return dc.protect_cells(cells, min_cell_count, shown=[True] * len(sizes) + [False])[:-1]


def drawn_part(curve: KMCurve, min_cell_count: int) -> KMCurve:
    """The part of a curve drawn: all of it, or with disclosure control only the steps while k or more
    patients are at risk (disclosure.km_truncation_time); a curve of fewer than k is not drawn past 0."""
    if min_cell_count <= 1:
        return curve
    if curve.n_at_risk is None:
        raise FigureInputError(f"Kaplan-Meier '{curve.label}': the curve has no numbers at risk per step, "
                               "needed to cut it where fewer than min_cell_count remain (rerun the analysis)")
    cut = dc.km_truncation_time(curve.time, curve.n_at_risk, min_cell_count)
    keep = curve.time <= cut
    return replace(curve, time=curve.time[keep], S=curve.S[keep], lower=curve.lower[keep],
                   upper=curve.upper[keep], censored=curve.censored[keep], n_at_risk=curve.n_at_risk[keep])


def at_risk_row(curve: KMCurve, min_cell_count: int, n_hidden: bool = False,
                joint: Collection[float] = ()) -> dict[float, str]:
    """A curve's numbers at risk as printed, by time, over the analysis' whole grid (so that any subset
    of the times printed is safe: disclosure.at_risk_hidden); a number equal to a hidden n shows '–', and
    so does one at a time the study's register hides in the curve's family (`joint`,
    protection.at_risk_register)."""
    from nenbone.presentation.protection import curve_start_hidden

    times = sorted(curve.at_risk)
    counts = [curve.at_risk[t] for t in times]
    start = curve_start_hidden(counts, curve.n, n_hidden, times, joint, min_cell_count)
    return dict(zip(times, dc.at_risk_texts(counts, min_cell_count, start_hidden=start)))


def step_coordinates(curve: KMCurve) -> tuple[np.ndarray, np.ndarray]:
    """Points of the step function (drawn 'steps-post'): (0, 1) then (t_j, S(t_j)) at every observed time."""
    return np.concatenate([[0.0], curve.time]), np.concatenate([[1.0], curve.S])


def band_coordinates(curve: KMCurve) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The analysis' pointwise log-log band as steps from (0, 1)."""
    return (np.concatenate([[0.0], curve.time]), np.concatenate([[1.0], curve.lower]),
            np.concatenate([[1.0], curve.upper]))


def median_text(result: KMCurve, median_ci: str, unit: str, min_cell_count: int = 0) -> str:
    """'31.0 months (95% CI 24.1-37.9)'; 'not reached' when S never gets to 0.5; 'suppressed' for a
    curve of fewer than `min_cell_count` patients (disclosure.summary_shown)."""
    if not dc.summary_shown(result.n, min_cell_count):
        return f"median {dc.SUPPRESSED_VALUE}"
    if result.median is None:
        return "median not reached"
    if median_ci == "spss":
        lo, hi = result.median_ci_spss
    elif median_ci == "loglog":
        lo, hi = result.median_ci_loglog
    else:
        raise FigureInputError(f"median_ci must be 'spss' or 'loglog', got {median_ci!r}")
    name = {"spss": "SPSS", "loglog": "log-log"}[median_ci]
    ci = f"{round(result.level * 100):d}% CI {interval_text(lo, hi, missing='NR', minus=MINUS)}, {name}"
    if lo is None and hi is None and median_ci == "spss":
        ci = f"{round(result.level * 100):d}% CI not estimable, {name}"
    return f"median {format_number(result.median)} {unit} ({ci})"


def _axis_end(results: Sequence[KMCurve], at_risk_times: Sequence[float]) -> float:
    """x axis end: the first at-risk time at or beyond the last follow-up, else the last at-risk time."""
    last = max(float(r.time.max()) for r in results)
    times = sorted(float(t) for t in at_risk_times)
    if not times:
        return last
    beyond = [t for t in times if t >= last]
    return beyond[0] if beyond else times[-1]


def plot_km(
    km: KMInput,
    style: FigureStyle,
    *,
    at_risk_times: Sequence[float],
    xlabel: str,
    ylabel: str,
    time_unit: str = "months",
    median_ci: str = "spss",
    show_ci: bool = False,
    show_n: bool = True,
    min_cell_count: int = 0,
    hidden_times: Sequence[Collection[float]] = (),
) -> Figure:
    """KM curves with censor ticks, dashed median lines (only where reached), numbers at risk underneath.

    `hidden_times` gives, curve by curve, the times at which the study's register hides the number at
    risk with the rest of the curve's family (protection.at_risk_register).

    The legend above the plot gives each curve's n, median and its CI (convention `median_ci`) and,
    with two or more curves, the log-rank p. The x axis ends at the last at-risk time when follow-up
    runs beyond it (stated in the caption).
    """
    import matplotlib as mpl
    from matplotlib.lines import Line2D

    curves = km.curves
    hidden_n = hidden_curve_sizes(km, min_cell_count)
    x_end = _axis_end(curves, at_risk_times)
    shown_times = [float(t) for t in at_risk_times if float(t) <= x_end]
    n_rows = len(curves)
    with mpl.rc_context(rc_params(style)):
        height = 2.45 + 0.17 * (n_rows + 1) + 0.13 * (n_rows + (km.logrank_p is not None))
        fig = _new_figure(style, style.column_width, height)
        ax, tab = fig.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [4.2, 0.32 * (n_rows + 1.2)], "hspace": 0.02}
        )
        handles, labels = [], []
        for i, full in enumerate(curves):
            color = style.color(i)
            res = drawn_part(full, min_cell_count)
            x, y = step_coordinates(res)
            if show_ci:
                bx, lo, hi = band_coordinates(res)
                ax.fill_between(bx, lo, hi, step="post", color=color, alpha=0.15, linewidth=0, gid=GID_CI)
            ax.step(x, y, where="post", color=color, linewidth=style.line_width, gid=GID_CURVE, label=res.label)
            cens = res.censored > 0
            ax.plot(res.time[cens], res.S[cens], linestyle="none", marker="|",
                    markersize=4, markeredgewidth=0.8, color=color, gid=GID_CENSOR)
            if res.median is not None and dc.summary_shown(res.n, min_cell_count) and (
                    min_cell_count <= 1 or (res.time.size and res.median <= res.time.max())):
                ax.plot([0, res.median, res.median], [0.5, 0.5, 0], linestyle=(0, (3, 2)), linewidth=0.8,
                        color=color, gid=GID_MEDIAN)
            events = dc.cell_texts([res.events, res.n - res.events], min_cell_count, shown=[True, False])[0]
            n_text = dc.hidden_text(res.n, min_cell_count) if hidden_n[i] else str(res.n)
            if hidden_n[i]:
                events = dc.hidden_text(res.events, min_cell_count)
            who = f"{res.label} (n = {n_text}; {events} events)" if show_n else res.label
            handles.append(Line2D([], [], color=color, linewidth=style.line_width))
            labels.append(f"{who}\n{median_text(res, median_ci, time_unit, min_cell_count)}")
        if km.logrank_p is not None:
            handles.append(Line2D([], [], linestyle="none"))
            labels.append(f"Log-rank {p_label(km.logrank_p)}")
        fig.legend(handles, labels, loc="outside upper left", frameon=False, borderaxespad=0.2,
                   handlelength=1.6, handletextpad=0.5, labelspacing=0.35, fontsize=style.small_font_size)
        ax.set_xlim(0, x_end)
        ax.set_ylim(0, 1.02)
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0], ["0", "0.25", "0.50", "0.75", "1.00"])
        ax.set_ylabel(ylabel)
        ax.set_xlabel(xlabel)
        ax.xaxis.set_tick_params(labelbottom=True)
        labelled = labelled_times(shown_times)
        ax.set_xticks(labelled, [format_number(t, 0) for t in labelled])
        ax.set_xticks(shown_times, minor=True)  # a tick at every at-risk time; labels and counts at every k-th
        ax.grid(axis="y", color=style.light_grey, linewidth=0.4)
        ax.set_axisbelow(True)
        _draw_at_risk(tab, curves, km.row_labels or tuple(c.label for c in curves), labelled, style,
                      min_cell_count, hidden_n, hidden_times)
    return _finish(fig)


MAX_TIME_LABELS = 11  # more at-risk times than this: label (and count at) every k-th tick so the labels do not collide


def labelled_times(times: Sequence[float], max_labels: int = MAX_TIME_LABELS) -> list[float]:
    """Every k-th at-risk time (k the smallest keeping at most `max_labels`), starting at the first."""
    times = [float(t) for t in times]
    k = max(1, -(-len(times) // max_labels))
    return times[::k]


def _draw_at_risk(
    tab: Any, curves: Sequence[KMCurve], row_labels: Sequence[str], times: Sequence[float], style: FigureStyle,
    min_cell_count: int = 0, hidden_n: Sequence[bool] = (), hidden_times: Sequence[Collection[float]] = (),
) -> None:
    """Numbers at risk: one row per curve (colour-keyed label), a column per at-risk time; a curve whose
    n is hidden (`hidden_n`) shows no number at risk equal to its n."""
    for side in ("top", "right", "bottom", "left"):
        tab.spines[side].set_visible(False)
    tab.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    widest = max((len(count_text(v, min_cell_count)) for c in curves for v in c.at_risk.values()), default=1)
    # the first column sits on x = 0: move the row labels left by half the widest number, plus a gap
    tab.tick_params(axis="y", which="both", left=False, pad=0.35 * style.small_font_size * widest + 4)
    n = len(curves)
    tab.set_ylim(n - 0.5, -1.1)
    tab.set_yticks(range(n), list(row_labels))
    for i, label in enumerate(tab.get_yticklabels()):
        label.set_color(style.color(i))
        label.set_fontsize(style.small_font_size)
    tab.text(0.0, -0.95, "Number at risk", transform=tab.get_yaxis_transform(), ha="left", va="center",
             fontsize=style.small_font_size, fontweight="bold")
    for i, res in enumerate(curves):
        row = at_risk_row(res, min_cell_count, i < len(hidden_n) and hidden_n[i],
                          hidden_times[i] if i < len(hidden_times) else ())
        for t in times:
            if float(t) not in row:
                raise FigureInputError(f"Kaplan-Meier '{res.label}': no number at risk computed for t = {t}")
            tab.text(t, i, row[float(t)], ha="center", va="center", fontsize=style.small_font_size, gid=GID_AT_RISK)


def at_risk_shown(fig: Figure) -> list[tuple[float, int, str]]:
    """(time, row, text) of every number-at-risk cell drawn in a KM figure (for checks and tests)."""
    out = []
    for ax in fig.axes:
        for text in ax.texts:
            if text.get_gid() == GID_AT_RISK:
                x, y = text.get_position()
                out.append((float(x), int(round(y)), text.get_text()))
    return out
