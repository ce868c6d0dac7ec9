"""Rule derive: clean table -> the study's derived analysis variables + who was excluded, by reason."""

from nenbone.runner import run_rule


def main(smk, log):
    import pandas as pd

    from nenbone.codebook import load_codebook
    from nenbone.derive import design_module, empty_groups
    from nenbone.errors import ValidationError, Violation
    from nenbone.io.files import write_json, write_parquet

    codebook = load_codebook(smk.input.codebook)
    study = design_module(smk.params.design)
    clean = pd.read_parquet(smk.input.table)
    settings = dict(smk.params.settings)
    derived = study.derive(clean, settings, smk.params.days_per_month, codebook)
    flow = study.attrition(clean, settings, codebook)
    empty = empty_groups(flow)
    if empty:
        raise ValidationError(file=str(smk.input.table), violations=[
            Violation("(cohort)", "every group has patients", (),
                      f"no patient in group '{g}' after the exclusions ({flow['stages'][-1]['n']} eligible)")
            for g in empty])
    write_parquet(derived, smk.output.table)
    write_json(flow, smk.output.attrition)
    log.info("derived %d rows x %d variables", *derived.shape)


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
