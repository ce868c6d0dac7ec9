"""Rule derive: clean table -> the study's derived analysis variables and its attrition (who left, why)."""

from nenbone.runner import run_rule


def main(smk, log):
    import pandas as pd

    from nenbone.derive import deriver
    from nenbone.derive.attrition import minimal_attrition
    from nenbone.io.files import write_json, write_parquet

    clean = pd.read_parquet(smk.input.table)
    settings = dict(smk.params.settings)
    derived = deriver(smk.params.design)(clean, settings, smk.params.days_per_month)
    write_parquet(derived, smk.output.table)
    write_json(minimal_attrition(smk.params.design, clean, derived, settings), smk.output.attrition)
    log.info("derived %d rows x %d variables", *derived.shape)


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
