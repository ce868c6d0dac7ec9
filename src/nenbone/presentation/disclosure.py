"""Disclosure control: which counts and values an output may show when `disclosure.min_cell_count` is set.

One set of rules for every output (tables, numbers.yml, the reproduction check, figures):

- a count from 1 to k - 1 (k = `min_cell_count`) is shown as "<k" (`suppress_count`); 0 and counts
  of k or more are shown; the percentage beside a hidden count is hidden too;
- within a group of cells that add up to a total the reader knows (the levels of a variable and the
  column's n; a count and its complement), hiding one cell is not enough: it would follow by
  subtraction. `protect_cells` hides further cells, smallest first, until no hidden cell, and no sum
  of hidden cells, can be worked out as a count from 1 to k - 1;
- a minimum or maximum is one patient's value (and a range is two of them): hidden whenever
  control is on (`extreme_shown`), since an extreme shared by k patients cannot be told from one
  held by a single patient once only the summary is left;
- numbers at risk (`at_risk_hidden`): n(t_j) - n(t_j+1) is the number of patients who died or were
  censored between two printed times; two printed numbers at risk that differ by 1 to k - 1 would
  single those patients out. Walking forward in time, a number at risk is printed only if it equals
  the last printed one or is at least k below it (else '–'); numbers from 1 to k - 1 print '<k'. Any
  two printed numbers then differ by 0 or by k or more, so every subset of the times (a figure that
  labels every other column) is safe too, and every output uses the same flags. A Kaplan-Meier curve is
  drawn only while k or more patients are at risk (`km_truncation_time`): its last steps would show
  the event times of the last few patients. This follows the output-checking rule that k patients
  stand behind every published figure, applied to the risk set of each step; a stricter variant
  (OpenSAFELY's redaction of Kaplan-Meier curves, osutils `round_km`) also delays event times until
  k events have occurred, which is not done here (O'Keefe et al., Journal of Privacy and
  Confidentiality 2012, 4(1):127-154, discuss confidentialising survival output). Hiding columns is
  chosen over rounding the numbers at risk so that every printed number is the real one;
- a median, quartile or range of fewer than k patients is one of their values (`summary_shown`):
  hidden, like the extremes;
- a printed denominator 'n/d' and the column's n give the Missing count (n - d): where that is
  hidden, the variable's counts print bare (presentation.tables.cell_plan, with `protect_cells`'s
  `already` for cells hidden by the first relation);

k = 0 (the default for the synthetic twins) or 1 turns everything off. The functions are pure: they
take numbers and return decisions or text, and know nothing of files or studies.
"""

from __future__ import annotations

from collections.abc import Sequence

SUPPRESSED_PCT = "–"
SUPPRESSED_VALUE = "suppressed"


def is_small(n: float | int | None, k: int) -> bool:
    """A count from 1 to k - 1: hidden in outputs of real data (False when k <= 1 or n is 0)."""
    if n is None or isinstance(n, bool):
        return False
    return 0 < n < k


def suppressed_text(k: int) -> str:
    return f"<{k}"


def is_hidden_text(text: str) -> bool:
    """True for the texts a hidden value is shown as ('<k', '–', 'suppressed'); '<0.001' is a p-value."""
    import re

    return text in (SUPPRESSED_PCT, SUPPRESSED_VALUE) or re.fullmatch(r"<[1-9][0-9]*", text) is not None


def suppress_count(n: int, k: int) -> str:
    """The count as shown: '<k' for 1..k-1, the number otherwise."""
    return suppressed_text(k) if is_small(n, k) else str(int(n))


def protect_cells(counts: Sequence[int], k: int, *, total_known: bool = True,
                  shown: Sequence[bool] | None = None, already: Sequence[bool] | None = None) -> list[bool]:
    """Which cells of a group to hide (True = hidden): primary and complementary suppression.

    `counts` are the cells of one group whose sum the reader knows when `total_known` (the column's
    n printed in a header, a denominator); `shown` marks the cells the output prints (default all):
    a cell that is not printed (e.g. the 'missing' remainder, or the complement of a yes/no count)
    still gives a printed one away by subtraction, so it takes part.

    Primary: every small cell. Complementary (when the total is known): while exactly one cell is
    hidden, or the hidden cells add up to a small count, hide the smallest remaining non-zero cell
    (a printed one first: hiding a cell that is not printed protects nothing).
    A cell that is not printed is reported hidden too, so that callers can see what was protected.
    `already` marks cells hidden by another relation (e.g. the levels of a variable protected against
    their own total): they start hidden, so the protection of this relation builds on theirs.
    """
    counts = [int(c) for c in counts]
    printed = list(shown) if shown is not None else [True] * len(counts)
    if len(printed) != len(counts):
        raise ValueError("protect_cells: counts and shown differ in length")
    primary = [is_small(c, k) for c in counts]
    hidden = list(primary)
    if already is not None:
        if len(already) != len(counts):
            raise ValueError("protect_cells: counts and already differ in length")
        hidden = [h or bool(a) for h, a in zip(hidden, already)]
    if k <= 1 or not any(primary) or not total_known:
        return hidden

    def exposed() -> bool:
        n_hidden = sum(hidden)
        total = sum(c for c, h in zip(counts, hidden) if h)
        return n_hidden == 1 or is_small(total, k)

    while exposed():
        candidates = [i for i, (c, h) in enumerate(zip(counts, hidden)) if not h and c > 0]
        if not candidates:
            break
        # printed cells first (hiding a cell nobody sees protects nothing), then the smallest
        best = min(candidates, key=lambda i: (not printed[i], counts[i], i))
        hidden[best] = True
    return hidden


def group_exposed(counts: Sequence[int], hidden: Sequence[bool], k: int) -> bool:
    """True if a hidden small count can still be worked out from the total and the shown cells."""
    if not any(h and is_small(c, k) for c, h in zip(counts, hidden)):
        return False
    hidden_total = sum(int(c) for c, h in zip(counts, hidden) if h)
    return sum(hidden) == 1 or is_small(hidden_total, k)


def extreme_shown(k: int) -> bool:
    """A minimum, maximum or range may be shown only with disclosure control off (k <= 1)."""
    return k <= 1


def hidden_text(n: int, k: int) -> str:
    """What a hidden cell shows: '<k' for a small count, 'suppressed' for one hidden to protect another."""
    return suppressed_text(k) if is_small(n, k) else SUPPRESSED_VALUE


def cell_texts(counts: Sequence[int], k: int, *, total_known: bool = True,
               shown: Sequence[bool] | None = None) -> list[str]:
    """Each cell of a group as shown after primary and complementary suppression (`protect_cells`)."""
    hidden = protect_cells(counts, k, total_known=total_known, shown=shown)
    return [hidden_text(c, k) if h else str(int(c)) for c, h in zip(counts, hidden)]


def summary_shown(n: int | None, k: int) -> bool:
    """A median or quartiles of `n` patients may be shown: n of k or more, or control off (k <= 1).

    With fewer than k values a median is one patient's value (or the mean of two) and the quartiles
    are close to them; with n = 0 nothing is shown anyway."""
    return k <= 1 or n is None or int(n) >= k or int(n) == 0


def at_risk_hidden(counts: Sequence[int], k: int, *, start_hidden: Sequence[bool] | None = None) -> list[bool]:
    """Which numbers at risk of one curve (in time order) to hide ('–') so that no two printed ones differ
    by 1 to k - 1 (the patients who died or were censored between them).

    Walking forward: a number from 1 to k - 1 prints as '<k' (not flagged here, `count_text` hides it);
    0 prints; a number of k or more prints when nothing was printed yet, when it equals the last printed
    number or when it is at least k below it, else it is hidden. `start_hidden` marks numbers hidden for
    another reason (e.g. equal to a hidden curve size); they are skipped, not used as a reference.
    """
    flags = list(start_hidden) if start_hidden is not None else [False] * len(counts)
    if len(flags) != len(counts):
        raise ValueError("at_risk_hidden: counts and start_hidden differ in length")
    if k <= 1:
        return flags
    last: int | None = None
    for i, n in enumerate(int(c) for c in counts):
        if flags[i] or is_small(n, k):
            continue
        if last is None or n == last or last - n >= k or n == 0:
            last = n
        else:
            flags[i] = True
    return flags


def at_risk_texts(counts: Sequence[int], k: int, *, start_hidden: Sequence[bool] | None = None) -> list[str]:
    """Numbers at risk of one curve as printed: the number, '<k' (1 to k - 1) or '–' (`at_risk_hidden`)."""
    hidden = at_risk_hidden(counts, k, start_hidden=start_hidden)
    return [SUPPRESSED_PCT if h else suppress_count(int(c), k) for c, h in zip(counts, hidden)]


def km_truncation_time(times: Sequence[float], n_at_risk: Sequence[int], k: int) -> float | None:
    """Where a Kaplan-Meier curve stops being drawn: the last step time with k or more patients at risk
    (None: draw it all, k <= 1; or nothing past time 0 when no step has k at risk)."""
    if k <= 1:
        return None
    kept = [float(t) for t, n in zip(times, n_at_risk) if int(n) >= k]
    return max(kept) if kept else 0.0
