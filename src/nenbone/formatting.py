"""How every number is printed: half-up rounding, fixed decimals, p-values, intervals, hazard ratios.

One module for the tables, the figures, numbers.yml and the reproduction check, so a value prints
the same wherever it appears. Shared by all layers (like `errors`): it computes nothing.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

NOT_REACHED = "not reached"
DASH = "\u2013"  # en dash for ranges and intervals
MINUS = "\u2212"  # typographic minus (figures)


def round_half_up(x: float, digits: int = 0) -> Decimal:
    """Round half away from zero (22.5 -> 23), not Python's round-half-to-even (22.5 -> 22)."""
    quantum = Decimal(1).scaleb(-digits)
    return Decimal(repr(float(x))).quantize(quantum, rounding=ROUND_HALF_UP)


def _missing(x: float | None) -> bool:
    return x is None or not math.isfinite(float(x))


def number_text(x: float | None, digits: int = 1, *, missing: str = NOT_REACHED, minus: str = "-") -> str:
    """Fixed decimals, half away from zero; None/NaN -> `missing`; `minus` replaces the hyphen-minus."""
    if _missing(x):
        return missing
    return str(round_half_up(float(x), digits)).replace("-", minus)  # type: ignore[arg-type]


P_THRESHOLD = 0.05  # a p-value is never printed on the other side of this


def p_text(p: float | None) -> str:
    """A p-value as printed: two significant digits (0.046, 0.42, 0.0092), '< 0.001' below 0.001; '' if none.

    More digits are kept when two would carry p across 0.05 (0.0496 prints '0.0496', not '0.050').
    """
    if _missing(p):
        return ""
    p = float(p)  # type: ignore[arg-type]
    if p < 0.001:
        return "< 0.001"
    exponent = math.floor(math.log10(p))
    digits = max(1 - exponent, 0)  # two significant digits
    while True:
        rounded = round_half_up(p, digits)
        if rounded != 0 and math.floor(math.log10(float(rounded))) > exponent:  # 0.0999 -> 0.10, 0.99999 -> 1.0
            rounded = round_half_up(p, digits - 1)
        if (float(rounded) < P_THRESHOLD) == (p < P_THRESHOLD) or digits >= 12:
            return str(rounded)
        digits += 1


def p_label(p: float | None) -> str:
    """'p = 0.030' / 'p < 0.001' (figure legends); 'p not available' if none."""
    text = p_text(p)
    if not text:
        return "p not available"
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def quantile_text(x: float | None, integer_valued: bool, *, whole: bool = False, digits: int = 1,
                  missing: str = NOT_REACHED) -> str:
    """A median, quartile or range limit. Of an integer-valued variable (counts, completed years) an
    integral value prints without decimals ('2', not '2.0') and one between two values keeps `digits`
    (SPSS's quartile 47.5); `whole` (calendar years) always prints whole numbers."""
    if _missing(x):
        return missing
    x = float(x)  # type: ignore[arg-type]
    if whole or (integer_valued and x.is_integer()):
        return str(round_half_up(x, 0))
    return number_text(x, digits, missing=missing)


def interval_text(lower: float | None, upper: float | None, digits: int = 1, *, missing: str = NOT_REACHED,
                  minus: str = "-") -> str:
    """'12.3–45.6'; a limit not reached prints as `missing`; no interval at all as '-'."""
    if lower is None and upper is None:
        return "-"
    return f"{number_text(lower, digits, missing=missing, minus=minus)}{DASH}" \
           f"{number_text(upper, digits, missing=missing, minus=minus)}"


def hr_text(hr: float, lower: float, upper: float, *, missing: str = NOT_REACHED, minus: str = "-") -> str:
    """'0.52 (0.31–0.88)': a hazard ratio with its interval, two decimals."""
    return f"{number_text(hr, 2, missing=missing, minus=minus)} " \
           f"({interval_text(lower, upper, 2, missing=missing, minus=minus)})"


def count_percent_text(n: int, d: int, digits: int = 0) -> str:
    """'n (p%)' with p = 100 n / d rounded half up; 'n (-)' when d = 0."""
    if d == 0:
        return f"{n} (-)"
    return f"{n} ({round_half_up(100.0 * n / d, digits)}%)"


def count_text(n: int, min_cell_count: int = 0) -> str:
    """A count as shown; 0 < n < min_cell_count becomes '<k' (disclosure control)."""
    return f"<{min_cell_count}" if 0 < n < min_cell_count else str(int(n))
