"""Rule derive: clean table -> the study's derived analysis variables + who was excluded, by reason."""

from nenbone.runner import run_rule


def main(smk, log):
    import pandas as pd

    from nenbone.codebook import load_codebook
    from nenbone.derive import study_module
    from nenbone.io.files import write_json, write_parquet

    codebook = load_codebook(smk.input.codebook)
    study = study_module(smk.wildcards.study)
    clean = pd.read_parquet(smk.input.table)
    settings = dict(smk.params.settings)
    derived = study.derive(clean, settings, smk.params.days_per_month, codebook)
    flow = study.attrition(clean, settings, codebook)
    write_parquet(derived, smk.output.table)
    write_json(flow, smk.output.attrition)
    log.info("derived %d rows x %d variables", *derived.shape)


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
