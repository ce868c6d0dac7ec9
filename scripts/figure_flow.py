"""Rule figure_flow: a study's cohort flow diagram, drawn from the attrition its derivation (and matching) wrote."""

from nenbone.runner import run_rule


def main(smk, log):
    import json

    from nenbone.presentation import figures as fig_
    from nenbone.presentation.style import style_from_config

    def read(path):
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)

    match = read(smk.input.match_attrition) if "match_attrition" in smk.input.keys() else None
    diagram = fig_.flow_diagram(read(smk.input.attrition), match, dict(smk.params.group_labels),
                               int(smk.params.min_cell_count))
    style = style_from_config(dict(smk.params.style))
    figure = fig_.plot_flow(diagram, style)
    fig_.save_figure(figure, smk.output.png, smk.output.pdf, style.dpi)
    for problem in fig_.layout_problems(figure):
        log.warning(problem)
    log.info("flow: %s", "; ".join(b.text.replace("\n", " ") for b in diagram.boxes))


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
