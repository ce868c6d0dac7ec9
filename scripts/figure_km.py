"""Rule figure_km: a Kaplan-Meier figure (curves, numbers at risk, medians, log-rank p) of one survival plan,
drawn from the curves the analysis rule wrote."""

from nenbone.runner import run_rule


def main(smk, log):
    import json

    from nenbone.presentation import figures as fig_
    from nenbone.presentation.style import style_from_config

    spec = dict(smk.params.spec)
    with open(smk.input.curves, encoding="utf-8") as fh:
        curves = json.load(fh)
    if spec["plan"] not in curves:
        raise fig_.FigureInputError(f"{smk.input.curves}: no curves of the survival plan '{spec['plan']}'")
    km = fig_.km_input(curves[spec["plan"]], dict(spec.get("display", {})))
    with open(smk.input.protected, encoding="utf-8") as fh:  # numbers at risk hidden with their family's
        joint = {r["curve"]: r["hidden_times"] for r in json.load(fh)["at_risk"] if r["plan"] == spec["plan"]}
    hidden_times = [joint.get(str(record["key"]), ()) for record in curves[spec["plan"]]["curves"]]
    times = sorted(km.curves[0].at_risk)  # the analysis' grid: every analysis.at_risk_every_months to the end of follow-up
    style = style_from_config(dict(smk.params.style))
    figure = fig_.plot_km(km, style, at_risk_times=times, xlabel=spec["xlabel"], ylabel=spec["ylabel"],
                          median_ci=curves[spec["plan"]]["median_ci"], show_ci=bool(spec.get("show_ci", False)),
                          min_cell_count=int(smk.params.min_cell_count), hidden_times=hidden_times)
    fig_.save_figure(figure, smk.output.png, smk.output.pdf, style.dpi)
    for problem in fig_.layout_problems(figure):
        log.warning(problem)
    for curve in km.curves:
        log.info("%s: n=%d events=%d median=%s", curve.label, curve.n, curve.events, curve.median)
    # the numbers at risk as drawn (after disclosure control), per curve key: checked against numbers.yml
    drawn = fig_.at_risk_shown(figure)
    legend = [t.get_text() for box in figure.legends for t in box.get_texts()]
    for row, record in enumerate(curves[spec["plan"]]["curves"]):
        texts = {f"{t:g}": text for t, r, text in sorted(drawn) if r == row}
        log.info("at risk drawn: %s", json.dumps({"plan": spec["plan"], "key": str(record["key"]), "at_risk": texts,
                                                  "legend": legend[row] if row < len(legend) else ""}))
    if km.logrank_p is not None:
        log.info("log-rank p=%.6g", km.logrank_p)


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
