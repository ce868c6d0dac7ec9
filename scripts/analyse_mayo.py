"""Rule analyse_mayo: Study B's numbers and tables in the matched cohort, Cox models and sensitivity analyses."""

from nenbone.runner import run_rule


def main(smk, log):
    import json

    import pandas as pd

    from nenbone.analysis import effects
    from nenbone.io.files import write_csv, write_json
    from nenbone.presentation.mayo_report import mayo_report
    from nenbone.presentation.numbers import to_plain
    from nenbone.presentation.tables import TableSettings, write_tables

    derived = pd.read_parquet(smk.input.derived)
    matched = pd.read_parquet(smk.input.matched)
    balance = pd.read_csv(smk.input.balance)
    summary = json.loads(open(smk.input.matching_summary, encoding="utf-8").read())
    validation = json.loads(open(smk.input.validation_report, encoding="utf-8").read())
    p = smk.params
    settings = TableSettings(p.analysis["chi_square_correction"], p.disclosure["min_cell_count"])
    cohort = effects.matched_cohort(derived, matched)
    report, effect_rows = mayo_report(derived, cohort, balance, summary, validation["n_rows"], p.plan, p.numbers,
                                      p.analysis, p.matching, p.sensitivity, settings)
    write_tables(report.tables, p.table_names, smk.output.tables, smk.output.markdown)
    write_csv(pd.DataFrame(effect_rows), smk.output.effects, float_format="%.6f")
    write_json(to_plain(report.numbers), smk.output.numbers)
    log.info("Study B: %d tables, %d effect estimates", len(report.tables), len(effect_rows))


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
