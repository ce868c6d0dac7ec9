"""Rule figure_management (christie design): symptoms and management of BMs as n/N (%) bars, drawn from
the counts the analysis rule wrote."""

from nenbone.runner import run_rule


def main(smk, log):
    import json

    import pandas as pd

    from nenbone.presentation import figures as fig_
    from nenbone.presentation.protection import bar_levels
    from nenbone.presentation.style import style_from_config

    counts = pd.read_csv(smk.input.counts, keep_default_na=False)
    with open(smk.input.protected, encoding="utf-8") as fh:  # the study's register of protected cells
        protected = bar_levels(json.load(fh)["cells"], dict(smk.params.where))
    note = fig_.denominator_note(counts, {"all": "patients with BMs", "bm_symptoms_ever": "ever symptomatic"})
    style = style_from_config(dict(smk.params.style))
    figure = fig_.plot_bars(counts, style, xlabel="Patients (%)", note=note,
                            min_cell_count=int(smk.params.min_cell_count), protected=protected)
    fig_.save_figure(figure, smk.output.png, smk.output.pdf, style.dpi)
    for problem in fig_.layout_problems(figure):
        log.warning(problem)
    log.info("\n%s", counts.to_string(index=False))


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
