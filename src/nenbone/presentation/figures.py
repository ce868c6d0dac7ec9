"""Every figure of both studies, as pure functions: data frames / analysis results + style -> Figure.

No file is read here and no statistic is estimated here: Kaplan-Meier curves, medians and log-rank
tests come from `nenbone.analysis.survival`; matching results come in as the frames the `match`
rule writes. Each `plot_*` function returns a matplotlib `Figure` built without pyplot (no global
state); `save_figure` writes it as PNG (web) and PDF (print), byte-identical on every rerun.

Nothing that could identify a patient is ever drawn: no IDs, no dates, no row-level labels; only
counts, percentages, curves and model estimates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from nenbone.errors import NenboneError
from nenbone.presentation import disclosure as dc
from nenbone.presentation.style import FigureStyle, rc_params

if TYPE_CHECKING:  # imported lazily at run time: matplotlib and lifelines are slow to import
    from matplotlib.figure import Figure

    from nenbone.analysis.survival import KMResult

DASH = "\u2013"  # en dash for ranges
MINUS = "\u2212"

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

    rc = dict(getattr(fig, "nenbone_rc", {}))
    rc.update({"pdf.fonttype": 42, "svg.hashsalt": "nenbone"})
    for path in (png_path, pdf_path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    with mpl.rc_context(rc):
        fig.savefig(png_path, format="png", dpi=dpi, metadata=PNG_METADATA)
        fig.savefig(pdf_path, format="pdf", metadata=PDF_METADATA)


# ----------------------------------------------------------------------------------------------
# Number formatting (figures only; the numbers file has its own)
# ----------------------------------------------------------------------------------------------


def format_number(x: float | None, digits: int = 1) -> str:
    """Fixed decimals, half away from zero; None/NaN -> 'NR' (not reached)."""
    if x is None or not math.isfinite(float(x)):
        return "NR"
    from decimal import ROUND_HALF_UP, Decimal

    q = Decimal(1).scaleb(-digits)
    text = str(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))
    return text.replace("-", MINUS)


def format_p(p: float | None) -> str:
    """'p = 0.03' / 'p < 0.001', with the digits the text prints (`nenbone.presentation.numbers.format_p`)."""
    from nenbone.presentation.numbers import format_p as text_p

    if p is None or not math.isfinite(float(p)):
        return "p not available"
    digits = text_p(float(p))
    return f"p < {digits[1:]}" if digits.startswith("<") else f"p = {digits}"


def format_hr(hr: float, lower: float, upper: float) -> str:
    """'0.52 (0.31-0.88)' with an en dash."""
    return f"{format_number(hr, 2)} ({format_number(lower, 2)}{DASH}{format_number(upper, 2)})"


def count_text(n: int, min_cell_count: int = 0) -> str:
    """A count as drawn; 0 < n < min_cell_count becomes '<k' (disclosure control, as in the tables)."""
    return f"<{min_cell_count}" if 0 < n < min_cell_count else str(int(n))


# ----------------------------------------------------------------------------------------------
# Selecting rows (never a silent drop)
# ----------------------------------------------------------------------------------------------


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        have = ", ".join(map(str, frame.columns))
        raise FigureInputError(f"{what}: columns not in the data: {', '.join(absent)} (have: {have})")


def _ids(frame: pd.DataFrame, mask: Any, id_col: str | None) -> list[str]:
    rows = frame.loc[np.asarray(mask, dtype=bool)]
    if id_col and id_col in frame.columns:
        return [str(v) for v in rows[id_col].tolist()]
    return [str(v) for v in rows.index.tolist()]


def select_rows(
    frame: pd.DataFrame, where: Mapping[str, Any], what: str, id_col: str | None = "patient_id"
) -> pd.DataFrame:
    """Rows where every `column == value` holds, applied in order; a missing value is an error, not a 'no'.

    Filters apply one after another, so a column that is <NA> by definition outside an earlier
    filter (e.g. BM details for patients without BMs) is only checked where it matters.
    """
    _require_columns(frame, list(where), what)
    out = frame
    for col, value in where.items():
        missing = out[col].isna().to_numpy()
        if missing.any():
            ids = _ids(out, missing, id_col)
            raise FigureInputError(
                f"{what}: '{col}' is missing for patient(s) {', '.join(ids)}; cannot decide '{col} == {value}'"
            )
        out = out.loc[(out[col] == value).to_numpy(dtype=bool)]
    return out


def drop_unknown(
    frame: pd.DataFrame, columns: Sequence[str], what: str
) -> tuple[pd.DataFrame, int]:
    """Rows with every column known, and how many were left out (the caller logs it and says so on the figure)."""
    _require_columns(frame, list(columns), what)
    if not columns:
        return frame, 0
    known = frame[list(columns)].notna().all(axis=1).to_numpy()
    return frame.loc[known], int((~known).sum())


# ----------------------------------------------------------------------------------------------
# Kaplan-Meier figure
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KMInput:
    """The curves of one KM figure and, with two or more groups, their log-rank p."""

    curves: list[KMResult]
    logrank_p: float | None = None
    row_labels: tuple[str, ...] = ()  # short names for the at-risk rows (group levels); "" for a single curve
    n_selected: int | None = None  # patients the plan selected before splitting by group (disclosure control)


def km_curves(
    frame: pd.DataFrame,
    time_col: str,
    event_col: str,
    *,
    groups: Sequence[tuple[Any, str]] | None = None,
    group_col: str | None = None,
    label: str = "All patients",
    level: float = 0.95,
    at_risk_times: Sequence[float] = (),
    id_col: str | None = "patient_id",
) -> KMInput:
    """KM per group (in the given order) plus the log-rank test, by `nenbone.analysis.survival`.

    A missing time or event is an error naming the patients: the caller selects the rows first.
    """
    from nenbone.analysis.survival import kaplan_meier, logrank

    what = f"Kaplan-Meier figure ({time_col})"
    _require_columns(frame, [time_col, event_col] + ([group_col] if group_col else []), what)
    missing = (frame[time_col].isna() | frame[event_col].isna()).to_numpy()
    if missing.any():
        raise FigureInputError(
            f"{what}: '{time_col}' or '{event_col}' missing for patient(s) {', '.join(_ids(frame, missing, id_col))}"
        )
    if group_col is None:
        curves = [kaplan_meier(frame[time_col], frame[event_col], level=level, label=label,
                               at_risk_times=at_risk_times)]
        return KMInput(curves, row_labels=("",))
    if not groups:
        raise FigureInputError(f"{what}: group_col '{group_col}' given without the groups to draw")
    unknown = sorted(set(frame[group_col].dropna().astype(str)) - {str(v) for v, _ in groups})
    if unknown or frame[group_col].isna().any():
        raise FigureInputError(
            f"{what}: '{group_col}' has values outside {[v for v, _ in groups]}: {unknown or 'missing'}"
        )
    curves = []
    for value, name in groups:
        sub = frame.loc[(frame[group_col] == value).to_numpy(dtype=bool)]
        if sub.empty:
            raise FigureInputError(f"{what}: no patient in group {group_col} == {value!r}")
        curves.append(kaplan_meier(sub[time_col], sub[event_col], level=level, label=name, at_risk_times=at_risk_times))
    test = logrank(frame[time_col], frame[event_col], frame[group_col].astype(str)) if len(groups) > 1 else None
    return KMInput(curves, test.p if test is not None else None, tuple(str(v) for v, _ in groups))


def km_from_plan(
    frame: pd.DataFrame,
    plan: Mapping[str, Any],
    *,
    level: float,
    at_risk_times: Sequence[float],
    display: Mapping[str, str] | None = None,
) -> tuple[KMInput, dict[str, Any]]:
    """The curves of a survival plan exactly as the analysis computes them (`run_survival_plan`), relabelled.

    `display` maps a group level (or "all") to the text drawn for it. Returns the figure input and the
    plan's plain numbers (n excluded for missing values, medians, log-rank) for the log.
    """
    from dataclasses import replace

    from nenbone.analysis.plans import run_survival_plan

    numbers, curves = run_survival_plan(frame, dict(plan), level, list(at_risk_times))
    display = dict(display or {})
    drawn = [replace(km, label=display.get(key, km.label)) for key, km in curves.items()]
    rows = tuple("" if key == "all" else str(key) for key in curves)
    return KMInput(drawn, numbers.get("logrank_p"), rows, numbers.get("n_selected")), numbers


def hidden_curve_sizes(km: KMInput, min_cell_count: int) -> list[bool]:
    """Which curves' n to hide: small ones and, where the curves are part of a selection of known size,
    those that would give a small remainder away (disclosure.protect_cells)."""
    sizes = [int(c.n) for c in km.curves]
    if km.n_selected is None:
        return [dc.is_small(n, min_cell_count) for n in sizes]
    cells = [*sizes, int(km.n_selected) - sum(sizes)]
    return dc.protect_cells(cells, min_cell_count, shown=[True] * len(sizes) + [False])[:-1]


def step_coordinates(result: KMResult) -> tuple[np.ndarray, np.ndarray]:
    """Points of the step function (drawn 'steps-post'): (0, 1) then (t_j, S(t_j)) at every observed time."""
    table = result.table
    x = np.concatenate([[0.0], table["time"].to_numpy(dtype=float)])
    y = np.concatenate([[1.0], table["S"].to_numpy(dtype=float)])
    return x, y


def loglog_band(result: KMResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pointwise log(-log) band, S^exp(+-z sqrt(V)/log S) (lifelines' exponential Greenwood); 1 where S = 1."""
    from scipy.stats import norm

    table = result.table
    z = float(norm.ppf((1 + result.level) / 2))
    s = table["S"].to_numpy(dtype=float)
    v = table["variance_sum"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(s)
        half = z * np.sqrt(v) / log_s
        lower = np.where(s >= 1.0, 1.0, s ** np.exp(-half))
        upper = np.where(s >= 1.0, 1.0, s ** np.exp(half))
    x = np.concatenate([[0.0], table["time"].to_numpy(dtype=float)])
    return x, np.concatenate([[1.0], lower]), np.concatenate([[1.0], upper])


def median_text(result: KMResult, median_ci: str, unit: str) -> str:
    """'31.0 months (95% CI 24.1-37.9)'; 'not reached' when S never gets to 0.5."""
    if result.median is None:
        return "median not reached"
    if median_ci == "spss":
        lo, hi = result.spss.lower, result.spss.upper
    elif median_ci == "loglog":
        lo, hi = result.median_ci_loglog
    else:
        raise FigureInputError(f"median_ci must be 'spss' or 'loglog', got {median_ci!r}")
    ci = f"{round(result.level * 100):d}% CI {format_number(lo)}{DASH}{format_number(hi)}"
    if lo is None and hi is None and median_ci == "spss":
        ci = f"{round(result.level * 100):d}% CI not estimable"
    return f"median {format_number(result.median)} {unit} ({ci})"


def _axis_end(results: Sequence[KMResult], at_risk_times: Sequence[float]) -> float:
    """x axis end: the first at-risk time at or beyond the last follow-up, else the last at-risk time."""
    last = max(float(r.table["time"].max()) for r in results)
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
) -> Figure:
    """KM curves with censor ticks, dashed median lines (only where reached), numbers at risk underneath.

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
        for i, res in enumerate(curves):
            color = style.color(i)
            x, y = step_coordinates(res)
            if show_ci:
                bx, lo, hi = loglog_band(res)
                ax.fill_between(bx, lo, hi, step="post", color=color, alpha=0.15, linewidth=0, gid=GID_CI)
            ax.step(x, y, where="post", color=color, linewidth=style.line_width, gid=GID_CURVE, label=res.label)
            cens = res.table.loc[res.table["censored"] > 0]
            ax.plot(cens["time"].to_numpy(float), cens["S"].to_numpy(float), linestyle="none", marker="|",
                    markersize=4, markeredgewidth=0.8, color=color, gid=GID_CENSOR)
            if res.median is not None:
                ax.plot([0, res.median, res.median], [0.5, 0.5, 0], linestyle=(0, (3, 2)), linewidth=0.8,
                        color=color, gid=GID_MEDIAN)
            events = dc.cell_texts([res.events, res.n - res.events], min_cell_count, shown=[True, False])[0]
            n_text = dc.hidden_text(res.n, min_cell_count) if hidden_n[i] else str(res.n)
            if hidden_n[i]:
                events = dc.hidden_text(res.events, min_cell_count)
            who = f"{res.label} (n = {n_text}; {events} events)" if show_n else res.label
            handles.append(Line2D([], [], color=color, linewidth=style.line_width))
            labels.append(f"{who}\n{median_text(res, median_ci, time_unit)}")
        if km.logrank_p is not None:
            handles.append(Line2D([], [], linestyle="none"))
            labels.append(f"Log-rank {format_p(km.logrank_p)}")
        fig.legend(handles, labels, loc="outside upper left", frameon=False, borderaxespad=0.2,
                   handlelength=1.6, handletextpad=0.5, labelspacing=0.35, fontsize=style.small_font_size)
        ax.set_xlim(0, x_end)
        ax.set_ylim(0, 1.02)
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0], ["0", "0.25", "0.50", "0.75", "1.00"])
        ax.set_ylabel(ylabel)
        ax.set_xlabel(xlabel)
        ax.xaxis.set_tick_params(labelbottom=True)
        ax.set_xticks(shown_times, [format_number(t, 0) for t in shown_times])
        ax.grid(axis="y", color=style.light_grey, linewidth=0.4)
        ax.set_axisbelow(True)
        _draw_at_risk(tab, curves, km.row_labels or tuple(c.label for c in curves), shown_times, style,
                      min_cell_count, hidden_n)
    return _finish(fig)


def _draw_at_risk(
    tab: Any, curves: Sequence[KMResult], row_labels: Sequence[str], times: Sequence[float], style: FigureStyle,
    min_cell_count: int = 0, hidden_n: Sequence[bool] = (),
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
        for t in times:
            if float(t) not in res.at_risk:
                raise FigureInputError(f"Kaplan-Meier '{res.label}': no number at risk computed for t = {t}")
            at_risk = res.at_risk[float(t)]
            hide = i < len(hidden_n) and hidden_n[i] and at_risk == res.n
            text = dc.SUPPRESSED_PCT if hide and not dc.is_small(at_risk, min_cell_count) else count_text(at_risk, min_cell_count)
            tab.text(t, i, text, ha="center", va="center",
                     fontsize=style.small_font_size, gid=GID_AT_RISK)


def at_risk_shown(fig: Figure) -> list[tuple[float, int, str]]:
    """(time, row, text) of every number-at-risk cell drawn in a KM figure (for checks and tests)."""
    out = []
    for ax in fig.axes:
        for text in ax.texts:
            if text.get_gid() == GID_AT_RISK:
                x, y = text.get_position()
                out.append((float(x), int(round(y)), text.get_text()))
    return out


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


def _wrap(text: str, width_in: float, font_pt: float) -> str:
    """Wrap a note to the figure width (DejaVu Sans averages ~0.55 em per character)."""
    import textwrap

    chars = max(20, int(width_in * 72 / (0.56 * font_pt)))
    return "\n".join(textwrap.fill(part, chars) for part in text.split("\n"))


def _count(n: int | str) -> str:
    if isinstance(n, str):  # hidden by disclosure control
        return f"n = {n}"
    return f"n = {n:,}".replace(",", "\u2009")  # thin space as thousands separator


def _shown(counts: Sequence[int], k: int) -> list[int | str]:
    """The counts of one split (they add up to the box above) after disclosure control."""
    hidden = dc.protect_cells(list(counts), k)
    return [dc.hidden_text(n, k) if h else int(n) for n, h in zip(counts, hidden)]


def _exclusion_text(exclusions: Sequence[tuple[str, int]], width: int = 40, min_cell_count: int = 0) -> str:
    """'Excluded: n = 30' and one bullet per reason, wrapped at `width` characters."""
    import textwrap

    total = sum(n for _, n in exclusions)
    lines = [f"Excluded: {_count(total)}"]
    if len(exclusions) == 1:
        lines.append(textwrap.fill(f"({exclusions[0][0]})", width))
    else:
        shown = _shown([n for _, n in exclusions], min_cell_count)
        lines += [textwrap.fill(f"\u2022 {reason}: {_count(n)[4:]}", width, subsequent_indent="   ")
                  for (reason, _), n in zip(exclusions, shown)]
    return "\n".join(lines)


def christie_flow(
    n_screened: int, exclusions: Sequence[tuple[str, int]], n_eligible: int, n_bm: int,
    bm_label: str = "With bone metastases (BMs)", min_cell_count: int = 0,
) -> FlowDiagram:
    """Study A: screened -> eligible (exclusions aside, by reason) -> with BMs (without BMs aside).

    With `min_cell_count`, every split (excluded / eligible, BMs / no BMs, the reasons) is shown
    after primary and complementary suppression (nenbone.presentation.disclosure)."""
    if not 0 <= n_bm <= n_eligible <= n_screened or n_screened - n_eligible != sum(n for _, n in exclusions):
        raise FigureInputError(
            f"Study A flow: counts do not add up: screened {n_screened}, excluded "
            f"{sum(n for _, n in exclusions)}, eligible {n_eligible}, with BMs {n_bm}"
        )
    pct = 100.0 * n_bm / n_eligible if n_eligible else float("nan")
    k = min_cell_count
    x, side = 0.25, 0.33
    excluded_shown, eligible_shown = _shown([n_screened - n_eligible, n_eligible], k)
    bm_shown, no_bm_shown = _shown([n_bm, n_eligible - n_bm], k)
    bm_pct = "" if isinstance(bm_shown, str) else f" ({format_number(pct)}% of eligible)"
    exclusion_box = _exclusion_text(exclusions, min_cell_count=k)
    if isinstance(excluded_shown, str):
        exclusion_box = f"Excluded: {_count(excluded_shown)}"
    boxes = [
        FlowBox("screened", f"Patients with NEN screened\n{_count(_shown([n_screened], k)[0])}", x, 0),
        FlowBox("excluded", exclusion_box, side, 1.0, side=True),
        FlowBox("eligible", f"Eligible patients\n{_count(eligible_shown)}", x, 2.0),
        FlowBox("no_bm", f"Without BMs\n{_count(no_bm_shown)}", side, 2.9, side=True),
        FlowBox("bm", f"{bm_label}\n{_count(bm_shown)}{bm_pct}", x, 3.8),
    ]
    arrows = [("screened", "eligible"), ("screened", "excluded"), ("eligible", "bm"), ("eligible", "no_bm")]
    return FlowDiagram(boxes, arrows, trunk={"excluded": x, "no_bm": x})


@dataclass(frozen=True)
class FlowGroup:
    """A study group in a matching flow: all in the group, in the propensity model, matched."""

    label: str
    n: int
    n_in_model: int
    n_matched: int


def mayo_flow(
    n_resections: int,
    exclusions: Sequence[tuple[str, int]],
    groups: Sequence[FlowGroup],
    footer: str = "",
    min_cell_count: int = 0,
) -> FlowDiagram:
    """Study B: all hepatic resections (exclusions aside, by reason) -> each study group -> matched.

    With `min_cell_count`, each split (groups and excluded; matched, unmatched and missing within a
    group; the reasons) is shown after primary and complementary suppression."""
    k = len(groups)
    if k == 0:
        raise FigureInputError("Study B flow: no groups")
    excluded = sum(n for _, n in exclusions)
    if sum(g.n for g in groups) + excluded != n_resections:
        raise FigureInputError(
            f"Study B flow: groups ({sum(g.n for g in groups)}) + excluded ({excluded}) "
            f"!= all resections ({n_resections})"
        )
    for g in groups:
        if not 0 <= g.n_matched <= g.n_in_model <= g.n:
            raise FigureInputError(
                f"Study B flow: group '{g.label}': {g.n_matched} matched, {g.n_in_model} in the model, {g.n} in all"
            )
    xs = [(i + 0.5) / k for i in range(k)] if k > 1 else [0.5]
    mcc = min_cell_count
    *groups_shown, excluded_shown = _shown([g.n for g in groups] + [excluded], mcc)
    exclusion_box = (f"Excluded: {_count(excluded_shown)}" if isinstance(excluded_shown, str)
                     else _exclusion_text(exclusions, width=26, min_cell_count=mcc))
    boxes = [
        FlowBox("all", f"Hepatic resections for\nmetastatic NET\n{_count(_shown([n_resections], mcc)[0])}", 0.5, 0.0),
        FlowBox("out", exclusion_box, 0.56, 1.3, side=True),
    ]
    arrows: list[tuple[str, str]] = [("all", "out")]
    group_row, matched_row = 2.9, 4.3
    for i, (g, x, g_shown) in enumerate(zip(groups, xs, groups_shown, strict=True)):
        boxes.append(FlowBox(f"group{i}", f"{g.label}\n{_count(g_shown)}", x, group_row))
        arrows.append(("all", f"group{i}"))
        matched, unmatched, missing = _shown([g.n_matched, g.n_in_model - g.n_matched, g.n - g.n_in_model], mcc)
        lines = [f"Matched\n{_count(matched)}"]
        if g.n_in_model - g.n_matched:
            lines.append(f"unmatched: {unmatched}")
        if g.n - g.n_in_model:
            lines.append(f"missing covariate data: {missing}")
        boxes.append(FlowBox(f"matched{i}", "\n".join(lines), x, matched_row))
        arrows.append((f"group{i}", f"matched{i}"))
    return FlowDiagram(boxes, arrows, trunk={"out": 0.5}, footer=footer)


def christie_flow_counts(
    validated: pd.DataFrame, derived: pd.DataFrame, settings: Mapping[str, Any]
) -> tuple[int, list[tuple[str, int]], int, int]:
    """(screened, [(reason, n excluded)], eligible, with BMs), by the derivation's own eligibility rule.

    Reasons in the derivation's order: NEN diagnosed outside the study period, then each excluded
    primary/grade combination within it. The eligible count must equal the derived table's rows.
    """
    from nenbone.derive.christie import is_eligible, primary_group

    groups = primary_group(validated["primary_site"], settings["derivation"]["primary_group"], validated["patient_id"])
    eligibility = dict(settings["eligibility"])
    eligible = is_eligible(validated, groups, eligibility).to_numpy(dtype=bool)
    in_period = is_eligible(validated, groups, {**eligibility, "exclude": []}).to_numpy(dtype=bool)
    if int(eligible.sum()) != len(derived):
        raise FigureInputError(
            f"Study A flow: the eligibility rule gives {int(eligible.sum())} eligible patients but the derived table "
            f"has {len(derived)} rows; rerun the derivation"
        )
    exclusions = [("diagnosed outside the study period", int((~in_period).sum()))]
    for rule in eligibility.get("exclude") or []:
        one = is_eligible(validated, groups, {**eligibility, "exclude": [rule]}).to_numpy(dtype=bool)
        exclusions.append((f"G{rule['grade']} {rule['primary_group']} NEN", int((in_period & ~one).sum())))
    _require_columns(derived, ["has_bm"], "Study A flow")
    if derived["has_bm"].isna().any():
        raise FigureInputError("Study A flow: 'has_bm' is missing for some patients")
    return len(validated), exclusions, len(derived), int(derived["has_bm"].astype(bool).sum())


def mayo_flow_counts(
    validated: pd.DataFrame,
    derived: pd.DataFrame,
    scores: pd.DataFrame,
    matched: pd.DataFrame,
    settings: Mapping[str, Any],
    group_labels: Mapping[str, str],
) -> tuple[int, list[tuple[str, int]], list[FlowGroup]]:
    """(all resections, [(reason, n excluded)], groups) by the derivation's own group rule.

    Exclusions in the derivation's order: extrahepatic disease in neither group, then resection
    outside the study period. Each group's size must equal its count in the derived table.
    """
    from nenbone.derive.mayo import assign_group

    groups = {str(k): [int(c) for c in v] for k, v in settings["groups"].items()}
    group = assign_group(validated["extrahepatic"], groups)
    start, end = pd.Timestamp(settings["period"]["from"]), pd.Timestamp(settings["period"]["to"])
    dates = validated["date_resection"]
    in_period = ((dates >= start) & (dates <= end)).fillna(False).to_numpy(dtype=bool)
    in_group = group.notna().to_numpy(dtype=bool)
    exclusions = [("other extrahepatic disease", int((~in_group).sum())),
                  ("outside the study period", int((in_group & ~in_period).sum()))]
    treated, control = settings["matching"]["treated_group"], settings["matching"]["control_group"]
    out = []
    for name in (treated, control):
        n_rule = int(((group == name).fillna(False).to_numpy(dtype=bool) & in_period).sum())
        n_derived = int((derived["group"] == name).sum())
        if n_rule != n_derived:
            raise FigureInputError(
                f"Study B flow: group {name}: {n_rule} by the group rule but {n_derived} in the derived table; "
                "rerun the derivation"
            )
        out.append(FlowGroup(group_labels.get(name, name), n_derived, int((scores["group"] == name).sum()),
                             int((matched["group"] == name).sum())))
    others = sorted(set(derived["group"].dropna()) - {treated, control})
    if others:
        raise FigureInputError(f"Study B flow: derived groups other than {treated}/{control}: {others}")
    return len(validated), exclusions, out


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
            artists[box.key] = ax.text(
                box.x, box.row, box.text, ha="left" if hanging else "center", va="center",
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
                    ax.annotate("", xy=(left[c], by_key[c].row), xytext=(diagram.trunk[c], by_key[c].row),
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


# ----------------------------------------------------------------------------------------------
# Study A: symptoms and management
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BarItem:
    """One bar: a boolean column, its label, its section and which denominator it is a percentage of."""

    column: str
    label: str
    section: str
    denominator: str = "all"  # "all" (every patient shown) or the name of a boolean column (e.g. ever symptomatic)


def bar_counts(frame: pd.DataFrame, items: Sequence[BarItem], id_col: str | None = "patient_id") -> pd.DataFrame:
    """n, denominator and % per item over its denominator rows; a missing value among them is an error.

    Values outside an item's denominator (e.g. <NA> for never-symptomatic patients when the
    denominator is the ever symptomatic) are not looked at.
    """
    cols = sorted({i.column for i in items} | {i.denominator for i in items if i.denominator != "all"})
    _require_columns(frame, cols, "management figure")
    problems, rows = [], []
    for item in items:
        if item.denominator == "all":
            base = frame
        else:
            flag = frame[item.denominator]
            if flag.isna().any():
                problems.append(f"denominator '{item.denominator}' missing for patient(s) "
                                f"{', '.join(_ids(frame, flag.isna().to_numpy(), id_col))}")
                continue
            base = frame.loc[flag.astype(bool).to_numpy()]
        miss = base[item.column].isna().to_numpy()
        if miss.any():
            problems.append(f"'{item.column}' missing for patient(s) {', '.join(_ids(base, miss, id_col))}")
            continue
        n, d = int(base[item.column].astype(bool).sum()), len(base)
        rows.append({"column": item.column, "label": item.label, "section": item.section, "n": n,
                     "denominator": d, "denominator_kind": item.denominator,
                     "percent": 100.0 * n / d if d else float("nan")})
    if problems:
        raise FigureInputError("management figure: " + "; ".join(problems))
    return pd.DataFrame(rows)


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
    counts: pd.DataFrame, style: FigureStyle, *, xlabel: str, note: str = "", min_cell_count: int = 0
) -> Figure:
    """Horizontal bars of %, each labelled 'n/N (x%)', sections colour-keyed, the denominators in a note.

    A count below `min_cell_count` (disclosure control) is shown as '<k/N' with no bar and no %; a count
    whose complement (N - n) is below it as 'suppressed/N'.
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


# ----------------------------------------------------------------------------------------------
# Study B: propensity scores, balance, effect estimates
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
            ax.set_ylabel("Patients in group (%)")
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=1, frameon=False,
                   fontsize=style.small_font_size, handlelength=1.0)
        lim = 10 * math.ceil(peak / 10 + 1e-9) if peak > 0 else 10
        for ax in axes:
            ax.set_ylim(-lim, lim)
            ticks = np.linspace(-lim, lim, 5)
            ax.set_yticks(ticks, [format_number(abs(t), 0) for t in ticks])
        axes[-1].set_xlabel(xlabel)
    return _finish(fig)


def covariate_labels(balance: pd.DataFrame, codebook: Any = None) -> list[str]:
    """Readable name per balance row: the file's `label` column if complete, else built from the codebook.

    Either way the codebook's unit is appended where the label lacks it ('Age at resection (years)').

    A `level` column (or a dummy term 'name[level]' / 'name[T.level]' / 'name=level') adds
    ': <level>' (not for binary level '1'); a name the codebook does not know is shown as it is.
    """
    import re

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
        m = re.fullmatch(r"(?P<name>[^\[=]+)(?:\[(?:T\.)?(?P<lev>[^\]]+)\]|=(?P<lev2>.+))", cov)
        if m and m.group("name") in known:
            name, level = m.group("name"), m.group("lev") or m.group("lev2")
        else:
            name = cov
        text = known.get(name, name)
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
) -> Figure:
    """Forest plot: HR and CI per row (file order) on a log axis, HR = 1 line, 'HR (CI)' and p at the right.

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
        step = 1.0 + 0.4 * lab.count("\n")
        y.append(pos + (step - 1.0) / 2)
        pos += step
    y_arr = np.asarray(y)
    lo_lim = 2.0 ** math.floor(math.log2(min(float(est["lower"].min()), 1.0) / 1.05))
    hi_lim = 2.0 ** math.ceil(math.log2(max(float(est["upper"].max()), 1.0) * 1.05))
    header = -1.0
    with mpl.rc_context(rc_params(style)):
        fig = _new_figure(style, style.column_width, 0.85 + 0.17 * pos)
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
            txt.text(0.05, yi, format_hr(row["hr"], row["lower"], row["upper"]), ha="left", va="center",
                     fontsize=style.small_font_size, gid="forest-text")
            txt.text(1.0, yi, format_p(row["p"]).removeprefix("p = ").replace("p < ", "< "), ha="right",
                     va="center", fontsize=style.small_font_size)
    return _finish(fig)


def _ci_level(effects: pd.DataFrame) -> str:
    """'95%' from a `level` column when present (one value), else 95%."""
    if "level" in effects.columns and effects["level"].nunique() == 1:
        return f"{round(float(effects['level'].iloc[0]) * 100):d}%"
    return "95%"


def _tick(t: float) -> str:
    return f"{t:g}" if t >= 1 else f"{t:.3g}".rstrip("0").rstrip(".")


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
