"""Rule figure_love (mayo design): covariate balance (standardised mean differences) before and after matching."""

from nenbone.runner import run_rule


def main(smk, log):
    import pandas as pd

    from nenbone.codebook import load_codebook
    from nenbone.presentation import figures as fig_
    from nenbone.presentation.style import style_from_config

    balance = pd.read_csv(smk.input.balance)
    labels = fig_.covariate_labels(balance, load_codebook(smk.input.codebook))
    style = style_from_config(dict(smk.params.style))
    matching = smk.params.matching
    xlabel = f"Standardised mean difference ({matching['treated_group']} \u2212 {matching['control_group']})"
    figure = fig_.plot_love(balance, style, labels=labels, threshold=float(smk.params.threshold), xlabel=xlabel)
    fig_.save_figure(figure, smk.output.png, smk.output.pdf, style.dpi)
    for problem in fig_.layout_problems(figure):
        log.warning(problem)
    log.info("%d covariates; max |SMD| before %.3f, after %.3f", len(balance),
             balance["smd_before"].abs().max(), balance["smd_after"].abs().max())


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
