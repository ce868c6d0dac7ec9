"""Rule additional_cohorts: the supplement's "Additional cohorts" section, each study from its design's template."""

from nenbone.runner import run_rule


def main(smk, log):
    from pathlib import Path

    from nenbone.io.files import write_bytes_atomic
    from nenbone.presentation.cohorts import additional_cohorts_section

    studies = {name: dict(spec) for name, spec in smk.params.studies.items()}
    templates = {spec["template"]: Path(spec["template"]).read_text(encoding="utf-8") for spec in studies.values()}
    text = additional_cohorts_section(studies, templates)
    write_bytes_atomic(text.encode("utf-8"), smk.output[0])
    log.info("additional cohorts: %s", ", ".join(studies) or "none")


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
