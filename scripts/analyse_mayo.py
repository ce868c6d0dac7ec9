"""Rule analyse_mayo: a mayo-design study's numbers and tables in the matched cohort, Kaplan-Meier curves,
Cox models and sensitivity analyses."""

from nenbone.runner import run_rule


def main(smk, log):
    import json

    import pandas as pd

    from nenbone.analysis import effects
    from nenbone.codebook import load_codebook
    from nenbone.analysis.plans import MEDIAN_CI_NAMES, curves_document
    from nenbone.analysis.summaries import descriptive_tables, study_numbers
    from nenbone.io.files import write_csv, write_json
    from nenbone.presentation.mayo_report import matched_tables
    from nenbone.presentation.numbers import to_plain
    from nenbone.presentation.study_report import study_report
    from nenbone.presentation.tables import TableSettings, write_tables

    derived = pd.read_parquet(smk.input.derived)
    matched = pd.read_parquet(smk.input.matched)
    balance = pd.read_csv(smk.input.balance)
    summary = json.loads(open(smk.input.matching_summary, encoding="utf-8").read())
    validation = json.loads(open(smk.input.validation_report, encoding="utf-8").read())
    p = smk.params
    settings = TableSettings(p.analysis["chi_square_correction"], p.disclosure["min_cell_count"])
    cohort = effects.matched_cohort(derived, matched)
    numbers, curves = study_numbers(cohort, p.plan, p.numbers, p.analysis, median_ci=p.median_ci)
    labels = {n: d.label for n, d in load_codebook(smk.input.codebook).derived.items()}
    comparison = effects.matched_comparison(derived, cohort, summary, validation["n_rows"], p.plan, p.analysis,
                                            p.matching, p.sensitivity, pd.read_parquet(smk.input.scores),
                                            dict(p.imputation), labels)
    descriptions = descriptive_tables(cohort, p.plan.get("tables", {}), settings.chi_square_correction)
    report = study_report(p.plan, numbers, descriptions, settings, p.median_ci, p.analysis["confidence_level"])
    report.numbers["median_ci_name"] = MEDIAN_CI_NAMES[p.median_ci]
    for key, value in comparison["numbers"].items():
        if isinstance(value, dict) and isinstance(report.numbers.get(key), dict):
            report.numbers[key].update(value)
        else:
            report.numbers[key] = value
    report.tables.update(matched_tables(comparison, balance, settings.min_cell_count))
    effect_rows = comparison["cox_rows"] + comparison["sensitivity_rows"]
    write_tables(report.tables, p.table_names, smk.output.tables, smk.output.markdown)
    write_csv(pd.DataFrame(effect_rows), smk.output.effects, float_format="%.6f")
    write_json(to_plain(report.numbers), smk.output.numbers)
    write_json(to_plain(curves_document(numbers, curves, p.median_ci)), smk.output.curves)
    log.info("%s: %d tables, %d effect estimates", smk.wildcards.study, len(report.tables), len(effect_rows))


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
