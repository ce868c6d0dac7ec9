"""Rule reproduction_check: every published number against the reproduced one -> checks.csv."""

from nenbone.runner import run_rule


def main(smk, log):
    import json

    import pandas as pd
    import yaml

    from nenbone.io.files import write_bytes_atomic, write_csv
    from nenbone.presentation.numbers import to_plain
    from nenbone.presentation.reproduction import CHECK_COLUMNS, check_study, summarise
    from nenbone.presentation.tables import to_markdown

    # unsuppressed values from the analyses' own outputs (private); numbers.yml says what may be shown
    raw = {study: to_plain(json.loads(open(path, encoding="utf-8").read()))
           for study, path in zip(smk.params.studies, smk.input.analysis, strict=True)}
    shown_values = yaml.safe_load(open(smk.input.numbers, encoding="utf-8"))
    checks = []
    for path, study in zip(smk.input.published, smk.params.studies, strict=True):
        checks += check_study(yaml.safe_load(open(path, encoding="utf-8")), raw, study, shown_values)
    published = {}
    for c in checks:
        published.setdefault(c.study, {})[c.quantity] = c.published
    table = pd.DataFrame([c.as_row() for c in checks], columns=list(CHECK_COLUMNS))
    write_csv(table, smk.output.csv)
    shown = table[["study", "quantity", "wording", "published", "reproduced", "status", "reason"]]
    shown = shown.rename(columns=str.capitalize)
    write_bytes_atomic(to_markdown(shown).encode("utf-8"), smk.output.md)
    counts = summarise(checks)
    summary = {"reproduction": {k.replace("-", "_"): str(v) for k, v in counts.items()}, "published": published}
    write_bytes_atomic(yaml.safe_dump(summary, sort_keys=True).encode("utf-8"), smk.output.summary)
    for c in checks:
        if c.status == "mismatch":
            log.warning("MISMATCH %s %s: published %s, reproduced %s (%s)", c.study, c.quantity, c.published, c.reproduced, c.reason)
    log.info("reproduction: %s", counts)


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
