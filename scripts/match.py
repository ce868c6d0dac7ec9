"""Rule match (mayo design): propensity score and greedy 1:k caliper matching, with the balance table."""

from nenbone.runner import run_rule


def main(smk, log):
    import pandas as pd

    from nenbone.analysis.matching import match_study
    from nenbone.codebook import load_codebook
    from nenbone.io.files import write_csv, write_json, write_parquet

    settings = dict(smk.params.matching)
    labels = {n: d.label for n, d in load_codebook(smk.input.codebook).derived.items()}
    out = match_study(pd.read_parquet(smk.input.derived), settings, labels)
    write_parquet(out.matched, smk.output.matched)
    write_parquet(out.scores, smk.output.scores)
    write_csv(out.balance, smk.output.balance, float_format="%.6f")
    write_json(out.summary, smk.output.summary)
    write_json(out.attrition, smk.output.attrition)
    summary = out.summary
    log.info("matched %d treated with %d controls", summary["n_treated_matched"], summary["n_controls_matched"])
    if summary["n_treated_fewer_than_ratio"]:
        log.warning("%d treated patient(s) matched with fewer than %d controls: %s",
                    summary["n_treated_fewer_than_ratio"], settings["ratio"], summary["fewer_than_ratio_reasons"])


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
