"""Rule ingest: raw SPSS/Stata export -> parquet + metadata JSON (labels, missing codes, SHA-256)."""

from nenbone.runner import run_rule


def main(smk, log):
    from nenbone.io.ingest import ingest

    summary = ingest(smk.input.raw, smk.output.table, smk.output.meta)
    log.info("ingested %s", summary)


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
