"""The tables of a matched design (mayo) from what the analysis estimated (`effects.matched_comparison`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from nenbone.formatting import hr_text, number_text, p_text


def major_table(tests: list[dict[str, Any]]) -> pd.DataFrame:
    """Major resection, LB against L: every standard 2x2 test."""
    return pd.DataFrame([{"Test": t["test"], "Statistic": "" if t["statistic"] is None else number_text(t["statistic"], 3),
                          "p": number_text(t["p"], 3)} for t in tests])


def effects_table(rows: list[dict[str, Any]], with_medians: bool) -> pd.DataFrame:
    out = []
    for r in rows:
        line = {"Analysis": r["label"], "n": str(r["n"]), "Events": str(r["events"]),
                "HR (95% CI)": hr_text(r["hr"], r["lower"], r["upper"]),
                "p": p_text(r["p"])}
        if with_medians:
            med = lambda k: "" if r.get(k, "") in ("", None) else number_text(r[k], 1)  # noqa: E731
            line = {"Analysis": r["label"], "LB, n": str(r.get("n_lb", "")), "L, n": str(r.get("n_l", "")),
                    "Median LB, months": med("median_lb"), "Median L, months": med("median_l"),
                    "Log-rank p": p_text(r.get("logrank_p")), **{k: v for k, v in line.items() if k != "Analysis"}}
        out.append(line)
    return pd.DataFrame(out)


def balance_display(balance: pd.DataFrame) -> pd.DataFrame:
    fmt = lambda x: number_text(float(x), 2, missing="NaN")  # noqa: E731
    return pd.DataFrame({"Covariate": balance["label"], "SMD before matching": balance["smd_before"].map(fmt),
                         "SMD after matching": balance["smd_after"].map(fmt)})


def matched_tables(comparison: dict[str, Any], balance: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The major-resection, Cox, sensitivity and balance tables."""
    return {"major_resection": major_table(comparison["major_tests"]),
            "cox": effects_table(comparison["cox_rows"], with_medians=False),
            "sensitivity": effects_table(comparison["sensitivity_rows"], with_medians=True),
            "balance": balance_display(balance)}
