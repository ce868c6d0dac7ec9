"""Rule analyse_christie: a christie-design study's numbers, Kaplan-Meier curves and descriptive tables."""

from nenbone.runner import run_rule


def main(smk, log):
    import json

    import pandas as pd

    from nenbone.io.files import write_csv, write_json
    from nenbone.presentation.analyses import AnalysisSettings
    from nenbone.presentation.christie_analysis import analyse_christie
    from nenbone.presentation.numbers import to_plain
    from nenbone.presentation.tables import write_tables

    p = smk.params
    derived = pd.read_parquet(smk.input.derived)
    validation = json.loads(open(smk.input.validation_report, encoding="utf-8").read())
    attrition = json.loads(open(smk.input.attrition, encoding="utf-8").read())
    settings = AnalysisSettings(p.plan, p.numbers, p.analysis, p.median_ci, p.disclosure["min_cell_count"])
    result = analyse_christie(derived, validation["n_rows"], settings, p.management, smk.wildcards.study, attrition)
    write_tables(result.tables, p.table_names, smk.output.tables, smk.output.markdown)
    write_json(to_plain(result.numbers), smk.output.numbers)
    write_json(to_plain(result.curves), smk.output.curves)
    write_json(result.protected, smk.output.protected)  # names cells, never counts
    write_csv(result.management, smk.output.management)
    log.info("%s: %d tables, numbers in %s", smk.wildcards.study, len(result.tables), smk.output.numbers)


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
