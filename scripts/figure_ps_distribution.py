"""Rule figure_ps_distribution (mayo design): propensity scores before and after matching."""

from nenbone.runner import run_rule


def main(smk, log):
    import pandas as pd

    from nenbone.presentation import figures as fig_
    from nenbone.presentation.style import style_from_config

    scores = pd.read_parquet(smk.input.scores)
    labels = dict(smk.params.group_labels)
    treated, control = smk.params.matching["treated_group"], smk.params.matching["control_group"]
    style = style_from_config(dict(smk.params.style))
    figure = fig_.plot_ps_distribution(
        scores, style, treated=(treated, labels.get(treated, treated)), control=(control, labels.get(control, control)),
        xlabel=f"Propensity score (log-odds of being in {treated})",
    )
    fig_.save_figure(figure, smk.output.png, smk.output.pdf, style.dpi)
    for problem in fig_.layout_problems(figure):
        log.warning(problem)
    log.info("%d patients, %d matched", len(scores), int(scores["matched"].astype(bool).sum()))


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
