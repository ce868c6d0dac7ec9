"""Rule ingest: raw SPSS/Stata export -> parquet + metadata JSON (labels, missing codes, SHA-256)."""

from nenbone.runner import run_rule


def main(smk, log):
    from nenbone.codebook import load_codebook
    from nenbone.io.ingest import ingest

    codebook = load_codebook(smk.input.codebook)
    summary = ingest(smk.input.raw, smk.output.table, smk.output.meta, codebook, smk.params.undeclared)
    log.info("ingested %d rows x %d declared columns from %s (%d undeclared column(s) dropped)",
             summary["n_rows"], len(summary["columns"]), summary["input_file"], len(summary["dropped_columns"]))


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
