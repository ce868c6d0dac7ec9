"""Rule match (mayo design): propensity score and greedy 1:k caliper matching, with the balance table."""

from nenbone.runner import run_rule


def main(smk, log):
    import pandas as pd

    from nenbone.analysis.matching import balance_table, match, match_attrition, matching_summary
    from nenbone.codebook import load_codebook
    from nenbone.io.files import write_csv, write_json, write_parquet

    derived = pd.read_parquet(smk.input.derived)
    settings = dict(smk.params.matching)
    result = match(derived, settings)
    matched = result.matched[["patient_id", "group", "ps", "logit", "match_id", "weight"]]
    write_parquet(matched.rename(columns={"logit": "logit_ps"}), smk.output.matched)
    scores = result.scores[["patient_id", "group", "ps", "logit", "matched"]].rename(columns={"logit": "logit_ps"})
    write_parquet(scores, smk.output.scores)
    labels = {n: d.label for n, d in load_codebook(smk.input.codebook).derived.items()}
    balance = balance_table(derived, result, settings["covariates"])
    balance.insert(0, "label", [labels.get(v, v) + (f": {lvl}" if lvl not in ("", "1") else "") for v, lvl in zip(balance["variable"], balance["level"])])
    balance = balance.rename(columns={"variable": "covariate"})
    write_csv(balance, smk.output.balance, float_format="%.6f")
    summary = matching_summary(result, balance)
    write_json(summary, smk.output.summary)
    write_json(match_attrition(derived, result, settings, labels), smk.output.attrition)
    log.info("matched %d treated with %d controls", summary["n_treated_matched"], summary["n_controls_matched"])
    if summary["n_treated_fewer_than_ratio"]:
        log.warning("%d treated patient(s) matched with fewer than %d controls: %s",
                    summary["n_treated_fewer_than_ratio"], settings["ratio"], summary["fewer_than_ratio_reasons"])


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
