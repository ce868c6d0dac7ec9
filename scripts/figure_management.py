"""Rule figure_management (christie design): symptoms and management of BMs as n/N (%) bars."""

from nenbone.runner import run_rule


def main(smk, log):
    import pandas as pd

    from nenbone.presentation import figures as fig_
    from nenbone.presentation.style import style_from_config

    derived = pd.read_parquet(smk.input.derived)
    bm = fig_.select_rows(derived, dict(smk.params.where), f"figure '{smk.wildcards.study}_management'")
    configured = smk.params.denominator_column
    items = [
        fig_.BarItem(i["column"], i["label"], i["section"],
                     configured if i["denominator"] == "config" else i["denominator"])
        for i in smk.params.bar_items
    ]
    counts = fig_.bar_counts(bm, items)
    note = fig_.denominator_note(counts, {"all": "patients with BMs", "bm_symptoms_ever": "ever symptomatic"})
    style = style_from_config(dict(smk.params.style))
    figure = fig_.plot_bars(counts, style, xlabel="Patients (%)", note=note,
                            min_cell_count=int(smk.params.min_cell_count))
    fig_.save_figure(figure, smk.output.png, smk.output.pdf, style.dpi)
    for problem in fig_.layout_problems(figure):
        log.warning(problem)
    log.info("denominator setting %s\n%s", smk.params.denominator, counts.to_string(index=False))


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
