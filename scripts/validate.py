"""Rule validate: ingested table -> clean table, or a failure listing every violation."""

from nenbone.runner import run_rule


def main(smk, log):
    from nenbone.codebook import load_codebook
    from nenbone.validation import validate_ingested

    codebook = load_codebook(smk.input.codebook)
    clean = validate_ingested(smk.input.table, smk.input.meta, codebook, smk.output.table, smk.output.report,
                              source=smk.params.source)
    log.info("%d rows valid against %s", len(clean), smk.input.codebook)


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
