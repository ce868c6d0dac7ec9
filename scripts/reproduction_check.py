"""Rule reproduction_check: every published number against the reproduced one -> checks.csv, and the
supplement's reproduction section: status by source, discrepancies, compact table, full table, caption."""

from nenbone.runner import run_rule

NUMERIC = ("Published", "Reproduced", "Tolerance")  # right-aligned


def main(smk, log):
    import json

    import pandas as pd
    import yaml

    from nenbone.io.files import write_bytes_atomic, write_csv
    from nenbone.presentation.numbers import to_plain
    from nenbone.presentation.reproduction import (
        CHECK_COLUMNS, check_study, compact_table, discrepancies_markdown, full_table, main_input_text,
        origin_caveat, pipe_table, status_by_source, summarise)

    # unsuppressed values from the analyses' own outputs (private); numbers.yml says what may be shown
    raw = {study: to_plain(json.loads(open(path, encoding="utf-8").read()))
           for study, path in zip(smk.params.studies, smk.input.analysis, strict=True)}
    shown_values = yaml.safe_load(open(smk.input.numbers, encoding="utf-8"))
    # what each input was (numbers.yml `data`, from the validation reports): says 'twin' only of a twin
    embedded = {study: shown_values["data"]["studies"][study]["synthetic"] == "yes" for study in smk.params.studies}
    labels = dict(smk.params.labels)
    checks, source_order = [], []
    for path, study in zip(smk.input.published, smk.params.studies, strict=True):
        published = yaml.safe_load(open(path, encoding="utf-8"))
        checks += check_study(published, raw, study, shown_values, embedded_twin=embedded[study])
        source_order += [s for s in published["sources"].values() if s not in source_order]
    published = {}
    for c in checks:
        published.setdefault(c.study, {})[c.quantity] = c.published
    table = pd.DataFrame([c.as_row() for c in checks], columns=list(CHECK_COLUMNS))
    write_csv(table, smk.output.csv)
    write_bytes_atomic(pipe_table(full_table(checks), NUMERIC).encode("utf-8"), smk.output.md)
    write_bytes_atomic(pipe_table(compact_table(checks), NUMERIC).encode("utf-8"), smk.output.compact)
    by_source = status_by_source(checks, source_order)
    write_bytes_atomic(pipe_table(by_source, list(by_source.columns[1:])).encode("utf-8"), smk.output.by_source)
    write_bytes_atomic(discrepancies_markdown(checks).encode("utf-8"), smk.output.discrepancies)
    counts = summarise(checks)
    reproduction = {k.replace("-", "_"): str(v) for k, v in counts.items()}
    reproduction["caveat"] = origin_caveat({labels[s]: embedded[s] for s in smk.params.studies})
    reproduction["main_input"] = {design: main_input_text(labels[study], embedded[study])
                                  for design, study in dict(smk.params.main_studies).items()}
    summary = {"reproduction": reproduction, "published": published}
    write_bytes_atomic(yaml.safe_dump(summary, sort_keys=True, allow_unicode=True, width=100).encode("utf-8"),
                       smk.output.summary)
    for c in checks:
        if c.status == "mismatch":
            log.warning("MISMATCH %s %s: published %s, reproduced %s (%s)", c.study, c.quantity, c.published, c.reproduced, c.reason)
    log.info("reproduction: %s", counts)


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
