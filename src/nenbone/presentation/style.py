"""House style of every figure: the Okabe-Ito colour-blind-safe palette, one font, journal sizes.

The style is a frozen value built from the config's `figures` section and passed to every plotting
function, so that a figure depends on nothing global. `rc_params(style)` gives the matplotlib
settings that make output byte-identical on rerun (fixed font, TrueType embedding, fixed SVG salt).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cycler import cycler

from nenbone.errors import ConfigError

# Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision
# deficiencies. Yellow is kept out of the cycle: it has too little contrast on white for lines.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
_CYCLES: dict[str, tuple[str, ...]] = {
    "okabe_ito": tuple(
        OKABE_ITO[c] for c in ("blue", "vermillion", "bluish_green", "orange", "reddish_purple", "sky_blue", "black")
    ),
}

MM_PER_INCH = 25.4


@dataclass(frozen=True)
class FigureStyle:
    """Everything a plotting function needs to know about looks; sizes in inches and points."""

    colors: tuple[str, ...]
    dpi: int = 200
    font_family: str = "DejaVu Sans"
    # One type scale with the supplement (body 10.5 pt, captions 9 pt, tables 8.8 pt): figure text
    # is 8-8.5 pt at print size, because the PDF places each vector figure at the size it is drawn
    # (src/nenbone/render/shortcodes.lua drops any width for it), column_width wide.
    font_size: float = 8.5
    small_font_size: float = 8.0
    column_width: float = 120 / MM_PER_INCH  # of the supplement's 164 mm text width (template.typ)
    page_width: float = 164 / MM_PER_INCH  # the whole text width (multi-panel figures)
    line_width: float = 1.2
    grey: str = "#595959"  # text and reference lines that should recede
    light_grey: str = "#D9D9D9"
    box_face: str = "#F2F2F2"

    def color(self, i: int) -> str:
        """The i-th colour of the palette cycle (wraps around)."""
        return self.colors[i % len(self.colors)]


def style_from_config(figures: Mapping[str, Any]) -> FigureStyle:
    """Build the style from the config's `figures` section (dpi, palette)."""
    palette = figures.get("palette", "okabe_ito")
    if palette not in _CYCLES:
        raise ConfigError(f"config figures.palette: unknown palette '{palette}' (known: {', '.join(_CYCLES)})")
    try:
        dpi = int(figures["dpi"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"config figures.dpi: an integer is required, got {figures.get('dpi')!r}") from exc
    return FigureStyle(colors=_CYCLES[palette], dpi=dpi)


def rc_params(style: FigureStyle) -> dict[str, Any]:
    """matplotlib settings for the house style; the last block pins everything that could vary by run."""
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [style.font_family],
        "font.size": style.font_size,
        "axes.titlesize": style.font_size,
        "axes.labelsize": style.font_size,
        "xtick.labelsize": style.font_size,
        "ytick.labelsize": style.font_size,
        "legend.fontsize": style.small_font_size,
        "legend.title_fontsize": style.small_font_size,
        "axes.linewidth": 0.6,
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "xtick.major.size": 2.5,
        "ytick.major.size": 2.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": cycler(color=list(style.colors)),
        "lines.linewidth": style.line_width,
        "figure.dpi": 100,
        "savefig.dpi": style.dpi,
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
        # determinism: embedded TrueType subsets, no hinting differences, fixed SVG ids
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "path",
        "svg.hashsalt": "nenbone",
        "text.usetex": False,
        "path.simplify": True,
    }
