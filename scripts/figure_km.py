"""Rule figure_km: a Kaplan-Meier figure (curves, numbers at risk, medians, log-rank p) of one survival plan."""

from nenbone.runner import run_rule


def main(smk, log):
    import pandas as pd

    from nenbone.analysis.effects import matched_cohort
    from nenbone.presentation import figures as fig_
    from nenbone.presentation.style import style_from_config

    spec = dict(smk.params.spec)
    frame = pd.read_parquet(smk.input.derived)
    if "matched" in smk.input.keys():
        frame = matched_cohort(frame, pd.read_parquet(smk.input.matched))  # the cohort the analysis uses
    times = [float(t) for t in smk.params.at_risk_times]
    km, numbers = fig_.km_from_plan(frame, dict(smk.params.plan), level=float(smk.params.level),
                                    at_risk_times=times, display=dict(spec.get("display", {})))
    if numbers.get("n_excluded_missing"):
        log.info("plan '%s': %d patient(s) left out for a missing time or event (as in the analysis)",
                 smk.params.plan["name"], numbers["n_excluded_missing"])
    style = style_from_config(dict(smk.params.style))
    figure = fig_.plot_km(km, style, at_risk_times=times, xlabel=spec["xlabel"], ylabel=spec["ylabel"],
                          median_ci=spec.get("median_ci", "spss"), show_ci=bool(spec.get("show_ci", False)),
                          min_cell_count=int(smk.params.min_cell_count))
    fig_.save_figure(figure, smk.output.png, smk.output.pdf, style.dpi)
    for problem in fig_.layout_problems(figure):
        log.warning(problem)
    for curve in km.curves:
        log.info("%s: n=%d events=%d median=%s", curve.label, curve.n, curve.events, curve.median)
    if km.logrank_p is not None:
        log.info("log-rank p=%.6g", km.logrank_p)


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
