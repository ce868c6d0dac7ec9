"""Rule validate: ingested table -> clean table, or a failure listing every violation."""

from nenbone.runner import run_rule


def main(smk, log):
    from nenbone.codebook import load_codebook
    from nenbone.io.files import write_json, write_parquet
    from nenbone.io.ingest import read_ingested
    from nenbone.validation import validate, validation_report

    codebook = load_codebook(smk.input.codebook)
    raw, meta = read_ingested(smk.input.table, smk.input.meta)
    source = meta.get("input_file", smk.input.table)
    clean = validate(raw, codebook, source=source, meta=meta)
    write_parquet(clean, smk.output.table)
    write_json(validation_report(raw, clean, codebook, meta), smk.output.report)
    log.info("%s: %d rows valid", source, len(clean))


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
