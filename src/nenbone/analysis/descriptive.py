"""Descriptive statistics and two-group tests, each result naming the test and the software convention.

Conventions chosen to reproduce what SPSS prints:
* percentiles by the (n+1)p rule (SPSS's default "HAVERAGE", numpy ``method="weibull"``);
* 2x2 chi-square without Yates' correction (SPSS's "Pearson Chi-Square" row; its "Continuity
  Correction" row is the Yates version, also offered here);
* Mann-Whitney U with the normal approximation, tie-corrected, no continuity correction
  (SPSS's "Asymp. Sig. (2-tailed)");
* Fisher's exact test two-sided = sum of the probabilities of all tables with the same margins no more
  likely than the observed one (SPSS, Stata, R, scipy); one-sided = in the direction of the observed
  difference (SPSS "Exact Sig. (1-sided)", Stata "1-sided Fisher's exact").
scipy is imported inside the functions that need it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from nenbone.errors import NenboneError
from nenbone.formatting import count_percent_text, round_half_up  # noqa: F401 (the one rounding; re-exported)

PERCENTILE_METHOD = "SPSS (n+1)p rule, weighted average at x((n+1)p) (numpy method='weibull')"


class DescriptiveInputError(NenboneError):
    """Values or tables that cannot be summarised or tested as asked."""


@dataclass(frozen=True)
class TestResult:
    """A test's statistic, p-value and name (the name is what tables and the supplement print)."""

    test: str
    statistic: float
    p: float
    df: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------------------------------
# Percentiles, median and IQR
# ----------------------------------------------------------------------------------------------


def _finite_values(values: Any, what: str) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    bad = np.flatnonzero(np.isnan(x))
    if bad.size:
        raise DescriptiveInputError(
            f"{what}: missing values at positions {bad.tolist()} (drop them explicitly and report how many)")
    if x.size == 0:
        raise DescriptiveInputError(f"{what}: no values")
    return x


def spss_percentiles(values: Any, q: Any) -> np.ndarray | float:
    """Percentiles q (in percent, 0-100) by SPSS's (n+1)p rule.

    With x(1) <= ... <= x(n) and (n+1)p = k + g (k integer, 0 <= g < 1): x(k) + g (x(k+1) - x(k));
    (n+1)p < 1 gives x(1) and (n+1)p > n gives x(n) (numpy clips the same way).
    Missing values raise: drop them explicitly.
    """
    x = _finite_values(values, "percentiles")
    q_arr = np.asarray(q, dtype=float)
    if np.any((q_arr < 0) | (q_arr > 100)):
        raise DescriptiveInputError(f"percentiles: q must lie in 0-100 (percent), got {q}")
    out = np.percentile(x, q_arr, method="weibull")
    return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class MedianIQR:
    """Median and quartiles of the non-missing values, with the number missing stated."""

    n: int
    n_missing: int
    median: float | None
    q1: float | None
    q3: float | None
    minimum: float | None
    maximum: float | None
    method: str = PERCENTILE_METHOD
    integer_valued: bool = False  # every known value a whole number (counts, completed or calendar years)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def median_iqr(values: Any) -> MedianIQR:
    """Median (IQR) by the (n+1)p rule; missing values are counted in ``n_missing``, not hidden."""
    x = np.asarray(values, dtype=float).ravel()
    keep = x[~np.isnan(x)]
    n_missing = int(x.size - keep.size)
    if keep.size == 0:
        return MedianIQR(0, n_missing, None, None, None, None, None)
    q1, med, q3 = spss_percentiles(keep, [25, 50, 75])
    return MedianIQR(int(keep.size), n_missing, float(med), float(q1), float(q3),
                     float(keep.min()), float(keep.max()), integer_valued=bool(np.all(keep == np.round(keep))))


# ----------------------------------------------------------------------------------------------
# Counts and percentages
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountPercent:
    """n of d with the percentage rounded half away from zero (as SPSS displays), e.g. "19 (22%)"."""

    n: int
    d: int
    percent: float | None
    text: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_percent(n: int, d: int, digits: int = 0) -> CountPercent:
    """'n (p%)' with p = 100 n / d; d = 0 gives percent None and text 'n (-)'."""
    if n < 0 or d < 0 or n > d:
        raise DescriptiveInputError(f"count_percent: need 0 <= n <= d, got n={n}, d={d}")
    if digits < 0:
        raise DescriptiveInputError(f"count_percent: digits must be >= 0, got {digits}")
    return CountPercent(n, d, None if d == 0 else 100.0 * n / d, count_percent_text(n, d, digits))


# ----------------------------------------------------------------------------------------------
# Tests for tables
# ----------------------------------------------------------------------------------------------


def _table(table: Any) -> np.ndarray:
    t = np.asarray(table)
    if t.ndim != 2 or min(t.shape) < 2:
        raise DescriptiveInputError(f"contingency table must be at least 2x2, got shape {t.shape}")
    if np.any(t < 0) or np.any(np.asarray(t, dtype=float) != np.round(np.asarray(t, dtype=float))):
        raise DescriptiveInputError(f"contingency table must hold non-negative counts, got {t.tolist()}")
    if np.any(t.sum(0) == 0) or np.any(t.sum(1) == 0):
        raise DescriptiveInputError(f"contingency table has an empty row or column: {t.tolist()}")
    return t.astype(float)


def pearson_chi2(table: Any, correction: bool = False) -> TestResult:
    """Pearson chi-square sum (O-E)^2/E; correction=True applies Yates' continuity correction (2x2 only).

    SPSS's "Pearson Chi-Square" is uncorrected; its "Continuity Correction" row is Yates (2x2 only),
    computed as sum (max(0, |O-E| - 0.5))^2 / E.
    """
    from scipy.stats import chi2_contingency

    t = _table(table)
    if correction and t.shape != (2, 2):
        raise DescriptiveInputError(f"Yates' continuity correction applies to 2x2 tables only, got {t.shape}")
    stat, p, dof, expected = chi2_contingency(t, correction=correction)
    name = "Pearson chi-square with Yates' continuity correction" if correction else "Pearson chi-square"
    return TestResult(name, float(stat), float(p), float(dof),
                      {"min_expected": float(expected.min()),
                       "cells_expected_below_5": int((expected < 5).sum())})


def yates_chi2(table: Any) -> TestResult:
    """Yates-corrected 2x2 chi-square (SPSS "Continuity Correction"; tableone's 2x2 default)."""
    return pearson_chi2(table, correction=True)


def likelihood_ratio_chi2(table: Any) -> TestResult:
    """Likelihood-ratio chi-square G = 2 sum O log(O/E) (SPSS "Likelihood Ratio" row)."""
    from scipy.stats import chi2_contingency

    stat, p, dof, _ = chi2_contingency(_table(table), correction=False, lambda_="log-likelihood")
    return TestResult("likelihood-ratio chi-square", float(stat), float(p), float(dof))


def fisher_exact(table: Any, alternative: str = "two-sided") -> TestResult:
    """Fisher's exact test on a 2x2 table [[a, b], [c, d]]; statistic = sample odds ratio ad/bc.

    alternative: "two-sided" (sum of probabilities <= P(observed)), "less"/"greater" (odds ratio < 1 / > 1),
    or "one-sided" = the one-sided p in the direction of the observed odds ratio, i.e. min(less, greater)
    (SPSS "Exact Sig. (1-sided)", Stata "1-sided Fisher's exact").
    """
    from scipy.stats import fisher_exact as _fisher

    t = _table(table)
    if t.shape != (2, 2):
        raise DescriptiveInputError(f"fisher_exact: needs a 2x2 table, got shape {t.shape}")
    t_int = t.astype(int)
    if alternative == "one-sided":
        less, greater = _fisher(t_int, "less"), _fisher(t_int, "greater")
        direction = "less" if less.pvalue < greater.pvalue else "greater"
        p = min(less.pvalue, greater.pvalue)
        return TestResult("Fisher's exact test, one-sided (direction of the observed difference)",
                          float(less.statistic), float(p), None, {"direction": direction})
    if alternative not in ("two-sided", "less", "greater"):
        raise DescriptiveInputError(
            f"fisher_exact: alternative must be two-sided, one-sided, less or greater, got {alternative!r}")
    res = _fisher(t_int, alternative)
    return TestResult(f"Fisher's exact test, {alternative}", float(res.statistic), float(res.pvalue))


@dataclass(frozen=True)
class ProportionComparison:
    """x1/n1 against x2/n2 under every standard test SPSS or Stata prints for a 2x2 table."""

    x1: int
    n1: int
    x2: int
    n2: int
    p1: float
    p2: float
    tests: list[TestResult]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def p_values(self) -> dict[str, float]:
        return {t.test: t.p for t in self.tests}


def compare_proportions(x1: int, n1: int, x2: int, n2: int) -> ProportionComparison:
    """Every standard 2x2 test of x1/n1 vs x2/n2: Pearson, Yates, likelihood ratio, Fisher 2- and 1-sided.

    Used to show which published p-value follows from which test (or from none).
    """
    if not (0 <= x1 <= n1 and 0 <= x2 <= n2 and n1 > 0 and n2 > 0):
        raise DescriptiveInputError(f"compare_proportions: need 0 <= x <= n, n > 0; got {x1}/{n1}, {x2}/{n2}")
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    tests = [pearson_chi2(table), yates_chi2(table), likelihood_ratio_chi2(table),
             fisher_exact(table, "two-sided"), fisher_exact(table, "one-sided")]
    return ProportionComparison(x1, n1, x2, n2, x1 / n1, x2 / n2, tests)


# ----------------------------------------------------------------------------------------------
# Tests for continuous variables
# ----------------------------------------------------------------------------------------------


def mann_whitney(x: Any, y: Any) -> TestResult:
    """Mann-Whitney U, normal approximation with tie correction and no continuity correction (SPSS asymptotic).

    statistic = U of the first sample (scipy's U1); details give min(U1, U2) and the z value.
    """
    from scipy.stats import mannwhitneyu

    a, b = _finite_values(x, "Mann-Whitney (first sample)"), _finite_values(y, "Mann-Whitney (second sample)")
    res = mannwhitneyu(a, b, alternative="two-sided", use_continuity=False, method="asymptotic")
    n1, n2 = a.size, b.size
    n = n1 + n2
    _, counts = np.unique(np.concatenate([a, b]), return_counts=True)
    tie = float(np.sum(counts**3 - counts))
    var = n1 * n2 / 12.0 * ((n + 1) - tie / (n * (n - 1)))
    u1 = float(res.statistic)
    z = (u1 - n1 * n2 / 2.0) / np.sqrt(var) if var > 0 else float("nan")
    return TestResult("Mann-Whitney U (asymptotic, tie-corrected, no continuity correction)", u1,
                      float(res.pvalue), None, {"u_min": min(u1, n1 * n2 - u1), "z": float(z)})


def t_test(x: Any, y: Any, equal_var: bool = False) -> TestResult:
    """Two-sample t test: Welch (equal_var=False, SPSS "Equal variances not assumed") or Student (pooled)."""
    from scipy.stats import ttest_ind

    a, b = _finite_values(x, "t test (first sample)"), _finite_values(y, "t test (second sample)")
    res = ttest_ind(a, b, equal_var=equal_var)
    name = "Student t test (pooled variance)" if equal_var else "Welch t test (unequal variances)"
    return TestResult(name, float(res.statistic), float(res.pvalue), float(res.df),
                      {"mean_difference": float(a.mean() - b.mean())})


def welch_t(x: Any, y: Any) -> TestResult:
    """Welch's unequal-variance t test."""
    return t_test(x, y, equal_var=False)


def student_t(x: Any, y: Any) -> TestResult:
    """Student's pooled-variance t test."""
    return t_test(x, y, equal_var=True)


# ----------------------------------------------------------------------------------------------
# Descriptive tables: the counts, medians and tests of every row (formatted by presentation.tables)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One table cell's numbers: a count of a denominator, or the median and IQR of the known values."""

    kind: str  # "count", "median_iqr", "missing" (n = patients without a value) or "blank"
    n: int = 0
    d: int = 0
    summary: MedianIQR | None = None
    whole: bool = False  # median_iqr of calendar years: printed as whole years


@dataclass(frozen=True)
class DescribedRow:
    label: str
    level: str
    cells: list[Cell]
    test: TestResult | None


@dataclass(frozen=True)
class Description:
    """A descriptive table's numbers: the groups (name, n) and one row per row spec (and per level)."""

    groups: list[tuple[str, int]]
    rows: list[DescribedRow]
    grouped: bool


def _chi2_test(table: np.ndarray, correction: bool) -> TestResult | None:
    keep = table[:, table.sum(axis=0) > 0]
    keep = keep[keep.sum(axis=1) > 0]
    if keep.shape[0] < 2 or keep.shape[1] < 2:
        return None
    return pearson_chi2(keep, correction=correction and keep.shape == (2, 2))


def _continuous_rows(frame: Any, spec: dict, groups: list, correction: bool) -> list[DescribedRow]:
    var = spec["variable"]
    cells = [Cell("median_iqr", summary=median_iqr(frame.loc[mask, var].astype(float).to_numpy()),
                  whole=bool(spec.get("whole", False)))
             for _, mask in groups]
    test = None
    if len(groups) == 2:
        a, b = (frame.loc[m, var].dropna().astype(float) for _, m in groups)
        if len(a) and len(b):
            test = mann_whitney(a.to_numpy(), b.to_numpy())
    rows = [DescribedRow(f"{spec['label']}, median (IQR)", "", cells, test)]
    return rows + _missing_row([int(frame.loc[mask, var].isna().sum()) for _, mask in groups])


def _missing_row(missing: list[int]) -> list[DescribedRow]:
    """A 'Missing' line under a variable with missing values in any group (none when complete)."""
    if not any(missing):
        return []
    return [DescribedRow("", "Missing", [Cell("missing", n) for n in missing], None)]


def _binary_rows(frame: Any, spec: dict, groups: list, correction: bool) -> list[DescribedRow]:
    import pandas as pd

    var = spec["variable"]
    denom = (frame[spec["denominator"]].astype("boolean").fillna(False) if spec.get("denominator")
             else pd.Series(True, index=frame.index))
    values = frame[var].astype("boolean")
    counts, cells = [], []
    for _, mask in groups:
        known = mask & denom & values.notna()
        n = int((values[known] == True).sum())  # noqa: E712
        d = int(known.sum())
        counts.append((n, d - n))
        cells.append(Cell("count", n, d))
    test = _chi2_test(np.array(counts).T, correction) if len(groups) >= 2 else None
    missing = [int((mask & denom & values.isna()).sum()) for _, mask in groups]
    return [DescribedRow(spec["label"] + ", n (%)", "", cells, test)] + _missing_row(missing)


def _categorical_rows(frame: Any, spec: dict, groups: list, correction: bool) -> list[DescribedRow]:
    var = spec["variable"]
    values = frame[var].astype("string")
    levels = [str(x) for x in spec.get("levels") or sorted(values.dropna().unique())]
    table = np.array([[int(((values == lev) & mask).sum()) for _, mask in groups] for lev in levels])
    totals = [int((values.notna() & mask).sum()) for _, mask in groups]
    test = _chi2_test(table, correction) if len(groups) >= 2 else None
    rows = [DescribedRow(spec["label"] + ", n (%)", "", [Cell("blank")] * len(groups), test)]
    labels = spec.get("level_labels") or {}
    for lev, counts in zip(levels, table):
        rows.append(DescribedRow("", labels.get(lev, lev), [Cell("count", int(n), d) for n, d in zip(counts, totals)],
                                 None))
    return rows + _missing_row([int((values.isna() & mask).sum()) for _, mask in groups])


ROW_KINDS = {"continuous": _continuous_rows, "binary": _binary_rows, "categorical": _categorical_rows}


def describe(frame: Any, rows: list[dict], chi_square_correction: bool = False, group: str | None = None,
             group_labels: dict[str, str] | None = None) -> Description:
    """The numbers of a descriptive table: per row spec (and level) a cell per group, and the test between groups."""
    import pandas as pd

    if group is None:
        groups = [("All", pd.Series(True, index=frame.index))]
    else:
        labels = group_labels or {}
        keys = list(labels) if labels else sorted(frame[group].dropna().astype(str).unique())
        groups = [(labels.get(k, k), (frame[group].astype("string") == k).fillna(False).astype(bool)) for k in keys]
    out: list[DescribedRow] = []
    for spec in rows:
        out.extend(ROW_KINDS[spec["kind"]](frame, spec, groups, chi_square_correction))
    return Description([(name, int(mask.sum())) for name, mask in groups], out, group is not None)
