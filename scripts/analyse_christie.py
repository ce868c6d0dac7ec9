"""Rule analyse_christie: a christie-design study's numbers, Kaplan-Meier curves and descriptive tables."""

from nenbone.runner import run_rule


def main(smk, log):
    import json

    import pandas as pd

    from nenbone.analysis.missing_data import missing_by_analysis
    from nenbone.analysis.plans import MEDIAN_CI_NAMES, curves_document
    from nenbone.analysis.plans import select_rows
    from nenbone.analysis.summaries import BarItem, bar_counts, descriptive_tables, study_numbers
    from nenbone.io.files import write_csv, write_json
    from nenbone.presentation.numbers import to_plain
    from nenbone.presentation.study_report import study_report
    from nenbone.presentation.tables import TableSettings, write_tables

    derived = pd.read_parquet(smk.input.derived)
    validation = json.loads(open(smk.input.validation_report, encoding="utf-8").read())
    attrition = json.loads(open(smk.input.attrition, encoding="utf-8").read())
    settings = TableSettings(smk.params.analysis["chi_square_correction"], smk.params.disclosure["min_cell_count"])
    numbers, curves = study_numbers(derived, smk.params.plan, smk.params.numbers, smk.params.analysis,
                                    median_ci=smk.params.median_ci)
    descriptions = descriptive_tables(derived, smk.params.plan.get("tables", {}), settings.chi_square_correction)
    report = study_report(smk.params.plan, numbers, descriptions, settings, smk.params.median_ci,
                          smk.params.analysis["confidence_level"])
    numbers = {"n_screened": validation["n_rows"], "n_eligible": len(derived),
               "n_excluded": validation["n_rows"] - len(derived), **report.numbers,
               "median_ci_name": MEDIAN_CI_NAMES[smk.params.median_ci],
               "missing_data": {**missing_by_analysis(derived, smk.params.plan.get("tables", {}),
                                                      smk.params.plan.get("survival", [])),
                                "kept_unknown_grade": attrition.get("kept_unknown_grade", [])}}
    write_tables(report.tables, smk.params.table_names, smk.output.tables, smk.output.markdown)
    write_json(to_plain(numbers), smk.output.numbers)
    write_json(to_plain(curves_document(numbers, curves, smk.params.median_ci)), smk.output.curves)
    where, configured = dict(smk.params.management["where"]), smk.params.management["denominator_column"]
    items = [BarItem(i["column"], i["label"], i["section"], configured if i["denominator"] == "config" else i["denominator"])
             for i in smk.params.management["items"]]
    counts = bar_counts(select_rows(derived, where, f"{smk.wildcards.study} management counts"), items)
    write_csv(counts, smk.output.management)
    log.info("%s: %d tables, numbers in %s", smk.wildcards.study, len(report.tables), smk.output.numbers)


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
