"""Rule replication: an additional cohort's value of each published number, beside the published and the
design's main study's (the synthetic twin by default)."""

from nenbone.runner import run_rule


def main(smk, log):
    import json

    import pandas as pd
    import yaml

    from nenbone.io.files import write_bytes_atomic, write_csv
    from nenbone.presentation.numbers import to_plain
    from nenbone.presentation.reproduction import REPLICATION_COLUMNS, replication_rows
    from nenbone.presentation.tables import to_markdown

    # unsuppressed values from the analyses' own outputs (private); numbers.yml says what may be shown
    raw = {}
    for study, path in ((smk.params.twin, smk.input.twin_analysis), (smk.wildcards.study, smk.input.analysis)):
        with open(path, encoding="utf-8") as fh:
            raw[study] = to_plain(json.load(fh))
    with open(smk.input.numbers, encoding="utf-8") as fh:
        shown_values = yaml.safe_load(fh)
    with open(smk.input.published, encoding="utf-8") as fh:
        published = yaml.safe_load(fh)
    rows = replication_rows(published, raw, smk.params.twin, smk.wildcards.study, shown_values)
    table = pd.DataFrame(rows, columns=list(REPLICATION_COLUMNS))
    write_csv(table, smk.output.csv)
    # the design's main study is named a twin only when its input is the embedded synthetic twin
    main_is_twin = shown_values["data"]["studies"][smk.params.twin]["synthetic"] == "yes"
    main_header = f"{smk.params.twin_label} (twin)" if main_is_twin else smk.params.twin_label
    shown = table.drop(columns="quantity").rename(columns={
        "label": "Published number", "wording": "Wording", "published": "Published", "twin": main_header,
        "cohort": smk.params.label, "cohort_status": "Status"})
    write_bytes_atomic(to_markdown(shown).encode("utf-8"), smk.output.md)
    log.info("%s: %s", smk.wildcards.study, table["cohort_status"].value_counts().to_dict())


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
