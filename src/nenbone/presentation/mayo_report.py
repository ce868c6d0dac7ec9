"""The tables of a matched design (mayo) from what the analysis estimated (`effects.matched_comparison`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from nenbone.formatting import hr_text, number_text, p_text
from nenbone.presentation import disclosure as dc


def major_table(tests: list[dict[str, Any]], matched: dict[str, Any] | None = None) -> pd.DataFrame:
    """Major resection, LB against L: every standard test of the marginal 2x2 table, then the tests that
    respect the matching (stratified by matched set). The chi-square column is blank where a test has none."""
    def chi2(t: dict[str, Any]) -> str:
        return "" if t["statistic"] is None or t["test"].startswith("Fisher") else number_text(t["statistic"], 2)
    rows = [{"Analysis": "Marginal 2x2 table" if i == 0 else "", "Test": t["test"], "Chi-square": chi2(t),
             "p": p_text(t["p"])} for i, t in enumerate(tests)]
    if matched:
        cl = matched["clogit"]
        odds = "" if cl["or"] is None else f"OR {hr_text(cl['or'], cl['or_lower'], cl['or_upper'])}"
        rows += [
            {"Analysis": "By matched set", "Test": "Cochran-Mantel-Haenszel, no continuity correction",
             "Chi-square": number_text(matched["cmh_chi2"], 2), "p": p_text(matched["cmh_p"])},
            {"Analysis": "", "Test": "Cochran-Mantel-Haenszel, continuity correction (R's default)", "Chi-square": "",
             "p": p_text(matched["cmh_corrected_p"])},
            {"Analysis": "", "Test": "Exact conditional test", "Chi-square": "", "p": p_text(matched["exact_p"])},
            {"Analysis": "", "Test": f"Conditional logistic regression, likelihood ratio; {odds}".rstrip("; "),
             "Chi-square": "", "p": p_text(cl["lr_p"])},
        ]
    return pd.DataFrame(rows)


def effects_table(rows: list[dict[str, Any]], with_medians: bool, min_cell_count: int = 0) -> pd.DataFrame:
    """Effects (Cox, sensitivity analyses); with `min_cell_count`, small counts, events with a small
    censored remainder and medians of groups smaller than k are hidden (disclosure)."""
    k = min_cell_count
    count = lambda v: "" if v in ("", None) else dc.suppress_count(int(v), k)  # noqa: E731
    out = []
    for r in rows:
        events = "" if r.get("events") is None else dc.cell_texts([int(r["events"]), int(r["n"]) - int(r["events"])], k,
                                                                   shown=[True, False])[0]
        line = {"Analysis": r["label"], "n": count(r["n"]), "Events": events,
                "HR (95% CI)": hr_text(r["hr"], r["lower"], r["upper"]),
                "p": p_text(r["p"])}
        if not with_medians and r.get("p_model") is not None:  # Cox table: the model-based SE beside the robust one
            line = {**line, "HR (95% CI), model-based SE": hr_text(r["hr"], r["lower_model"], r["upper_model"]),
                    "p, model-based SE": p_text(r["p_model"])}
            if r.get("ph_p") is not None:
                line["PH test p (global)"] = p_text(r["ph_p"])
        if with_medians:
            def med(key: str, n: Any) -> str:
                if r.get(key, "") in ("", None):
                    return ""
                return number_text(r[key], 1) if dc.summary_shown(None if n in ("", None) else int(n), k) \
                    else dc.SUPPRESSED_VALUE
            line = {"Analysis": r["label"], "LB, n": count(r.get("n_lb", "")), "L, n": count(r.get("n_l", "")),
                    "Median LB, months": med("median_lb", r.get("n_lb")), "Median L, months": med("median_l", r.get("n_l")),
                    "Log-rank p": p_text(r.get("logrank_p")), **{k: v for k, v in line.items() if k != "Analysis"}}
        out.append(line)
    return pd.DataFrame(out)


def balance_display(balance: pd.DataFrame, ratios: pd.DataFrame | None = None) -> pd.DataFrame:
    """SMDs before and after matching and, for continuous covariates, the variance ratios (blank otherwise)."""
    fmt = lambda x: number_text(float(x), 2, missing="NaN")  # noqa: E731
    out = pd.DataFrame({"Covariate": balance["label"], "SMD before matching": balance["smd_before"].map(fmt),
                        "SMD after matching": balance["smd_after"].map(fmt)})
    if ratios is not None:
        by = ratios.set_index("covariate")
        vr = lambda col: [number_text(float(by.loc[c, col]), 2) if c in by.index and by.loc[c, "kind"] == "continuous"  # noqa: E731
                          else "" for c in balance["covariate"]]
        out["Variance ratio before"] = vr("variance_ratio_before")
        out["Variance ratio after"] = vr("variance_ratio_after")
    return out


def matched_tables(comparison: dict[str, Any], balance: pd.DataFrame, min_cell_count: int = 0) -> dict[str, pd.DataFrame]:
    """The major-resection, Cox, sensitivity and balance tables."""
    return {"major_resection": major_table(comparison["major_tests"], comparison["numbers"].get("major_matched")),
            "cox": effects_table(comparison["cox_rows"], with_medians=False, min_cell_count=min_cell_count),
            "sensitivity": effects_table(comparison["sensitivity_rows"], with_medians=True, min_cell_count=min_cell_count),
            "balance": balance_display(balance, comparison.get("variance_ratios"))}
