"""Rule analyse_mayo: a mayo-design study's numbers and tables in the matched cohort, Kaplan-Meier curves,
Cox models and sensitivity analyses."""

from nenbone.runner import run_rule


def main(smk, log):
    import json

    import pandas as pd

    from nenbone.codebook import load_codebook
    from nenbone.io.files import write_csv, write_json
    from nenbone.presentation.analyses import AnalysisSettings
    from nenbone.presentation.mayo_analysis import analyse_mayo
    from nenbone.presentation.numbers import to_plain
    from nenbone.presentation.tables import write_tables

    p = smk.params
    summary = json.loads(open(smk.input.matching_summary, encoding="utf-8").read())
    validation = json.loads(open(smk.input.validation_report, encoding="utf-8").read())
    labels = {n: d.label for n, d in load_codebook(smk.input.codebook).derived.items()}
    settings = AnalysisSettings(p.plan, p.numbers, p.analysis, p.median_ci, p.disclosure["min_cell_count"])
    result = analyse_mayo(pd.read_parquet(smk.input.derived), pd.read_parquet(smk.input.matched),
                          pd.read_parquet(smk.input.scores), pd.read_csv(smk.input.balance), summary,
                          validation["n_rows"], settings, p.matching, p.sensitivity, dict(p.imputation), labels)
    write_tables(result.tables, p.table_names, smk.output.tables, smk.output.markdown)
    write_csv(result.effects, smk.output.effects, float_format="%.6f")
    write_json(to_plain(result.numbers), smk.output.numbers)
    write_json(to_plain(result.curves), smk.output.curves)
    write_json(result.protected, smk.output.protected)  # names cells, never counts
    write_json(to_plain(result.schoenfeld), smk.output.schoenfeld)
    log.info("%s: %d tables, %d effect estimates", smk.wildcards.study, len(result.tables), len(result.effects))


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
