"""Rule figure_flow: a study's cohort flow diagram, every count computed from the tables."""

from nenbone.runner import run_rule


def main(smk, log):
    import pandas as pd

    from nenbone.presentation import figures as fig_
    from nenbone.presentation.style import style_from_config

    study = smk.wildcards.study
    validated = pd.read_parquet(smk.input.validated)
    derived = pd.read_parquet(smk.input.derived)
    settings = dict(smk.params.settings)
    k = int(smk.params.min_cell_count)
    if study == "christie":
        n, exclusions, n_eligible, n_bm = fig_.christie_flow_counts(validated, derived, settings)
        diagram = fig_.christie_flow(n, exclusions, n_eligible, n_bm, min_cell_count=k)
    elif study == "mayo":
        scores = pd.read_parquet(smk.input.scores)
        matched = pd.read_parquet(smk.input.matched)
        n, exclusions, groups = fig_.mayo_flow_counts(validated, derived, scores, matched, settings,
                                                      dict(smk.params.group_labels))
        footer = f"Matched cohort: n = {sum(g.n_matched for g in groups)}"
        diagram = fig_.mayo_flow(n, exclusions, groups, footer=footer, min_cell_count=k)
    else:
        raise fig_.FigureInputError(f"figure_flow: no flow diagram is defined for study '{study}'")
    style = style_from_config(dict(smk.params.style))
    figure = fig_.plot_flow(diagram, style)
    fig_.save_figure(figure, smk.output.png, smk.output.pdf, style.dpi)
    for problem in fig_.layout_problems(figure):
        log.warning(problem)
    log.info("%s flow: %s", study, "; ".join(b.text.replace("\n", " ") for b in diagram.boxes))


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
