"""Rule figure_forest (mayo design): hazard ratios (main and sensitivity analyses) as a forest plot."""

from nenbone.runner import run_rule


def main(smk, log):
    import pandas as pd

    from nenbone.presentation import figures as fig_
    from nenbone.presentation.style import style_from_config

    effects = pd.read_csv(smk.input.effects)
    style = style_from_config(dict(smk.params.style))
    treated, control = smk.params.matching["treated_group"], smk.params.matching["control_group"]
    xlabel = f"Hazard ratio of death, {treated} vs {control} (log scale)"
    favours = (f"lower in {treated}", f"higher in {treated}")
    # the text width, so the long labels of the sensitivity analyses take two or three lines, not five
    figure = fig_.plot_forest(effects, style, xlabel=xlabel, favours=favours,
                              sections=dict(smk.params.sections), width=style.page_width, label_chars=42)
    fig_.save_figure(figure, smk.output.png, smk.output.pdf, style.dpi)
    for problem in fig_.layout_problems(figure):
        log.warning(problem)
    log.info("%d estimates drawn", len(effects))


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
