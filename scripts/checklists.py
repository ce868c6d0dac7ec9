"""Rule checklists: the STROBE and propensity-score reporting checklists as markdown tables for the appendix."""

from nenbone.runner import run_rule


def main(smk, log):
    import yaml

    from nenbone.io.files import write_text_atomic
    from nenbone.presentation.checklists import checklist_table
    from nenbone.presentation.tables import to_markdown

    for path, out in zip(smk.input, smk.output, strict=True):
        with open(path, encoding="utf-8") as fh:
            table = checklist_table(yaml.safe_load(fh), path)
        write_text_atomic(to_markdown(table), out)
        log.info("%s: %d items", path, len(table))


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
