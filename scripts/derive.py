"""Rule derive: clean table -> the study's derived analysis variables."""

from nenbone.runner import run_rule


def main(smk, log):
    import pandas as pd

    from nenbone.derive import deriver
    from nenbone.io.files import write_parquet

    clean = pd.read_parquet(smk.input.table)
    derived = deriver(smk.wildcards.study)(clean, dict(smk.params.settings), smk.params.days_per_month)
    write_parquet(derived, smk.output.table)
    log.info("derived %d rows x %d variables", *derived.shape)


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
