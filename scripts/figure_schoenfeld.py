"""Rule figure_schoenfeld (mayo design): beta(t) from the scaled Schoenfeld residuals of every covariate of
each Cox model (R's plot.cox.zph curve and band), titled with its proportional-hazards test."""

from nenbone.runner import run_rule


def main(smk, log):
    import json

    from nenbone.codebook import load_codebook
    from nenbone.presentation import figures as fig_
    from nenbone.presentation.style import style_from_config

    document = json.loads(open(smk.input.schoenfeld, encoding="utf-8").read())
    models = fig_.schoenfeld_models(document, smk.params.ties)
    codebook = load_codebook(smk.input.codebook)
    labels = fig_.column_labels(models, codebook)
    style = style_from_config(dict(smk.params.style))
    figure = fig_.plot_schoenfeld(models, style, labels=labels, time_label=fig_.time_axis_label(document, codebook))
    fig_.save_figure(figure, smk.output.png, smk.output.pdf, style.dpi)
    for problem in fig_.layout_problems(figure):
        log.warning(problem)
    log.info("%d Cox models (%s ties), %d panels", len(models), smk.params.ties,
             sum(len(m["columns"]) for m in models))


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
