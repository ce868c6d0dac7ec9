# Figure rules: one rule per figure kind, the study as wildcard. They read what the analysis and
# derivation rules wrote and draw (nenbone.presentation): changing a figure's params or its script
# reruns that figure alone. Each figure is written twice: PNG at config figures.dpi (web, report)
# and PDF (print). `FIGURE_FILES` lists every output, for `rule all` and the supplement.

FIGURE_SPECS = config["figure_specs"]
# The figures of each design besides its Kaplan-Meier figures (figure_specs.km.<design>) and flow diagram.
DESIGN_FIGURES = {
    "christie": ["management"],
    "mayo": ["ps_distribution", "love", "forest"],
}
KM_FIGURE_NAMES = sorted({name for _, name, _ in km_specs()})


def study_figure_names(study):
    names = [f"km_{study}_{name}" for s, name, _ in km_specs() if s == study]
    names.append(f"flow_{study}")
    names += [f"{study}_{kind}" for kind in DESIGN_FIGURES[design_of(study)]]
    return names


FIGURE_FILES = expand(
    "results/figures/{name}.{ext}",
    name=[n for s in STUDIES for n in study_figure_names(s)],
    ext=["png", "pdf"],
)


def figure_report(name, caption, subcategory, label=None):
    """The PNG and PDF outputs of a figure rule, as report items of the study's category."""
    out = {}
    for ext in ("png", "pdf"):
        out[ext] = report_item(
            f"results/figures/{name}.{ext}",
            caption=caption,
            category=lambda w: study_label(w.study),
            subcategory=subcategory,
            labels=lambda w, ext=ext: {
                "figure": (label or name).format(**dict(w.items())),
                "format": ext.upper(),
            },
        )
    return out


def km_plan(wildcards):
    """The figure's survival plan from config/analysis.yaml (for its caption); a missing plan is a config error."""
    design, spec = design_of(wildcards.study), km_spec(wildcards)
    plans = config.get("plans", {}).get(design, {}).get("survival", [])
    found = [p for p in plans if p["name"] == spec["plan"]]
    if len(found) != 1:
        raise WorkflowError(
            f"figure '{wildcards.figure}': config plans.{design}.survival has "
            f"{len(found)} plan(s) named '{spec['plan']}' (need exactly one)"
        )
    return found[0]


def flow_inputs(wildcards):
    """The study's attrition (derivation) and, for a design that matches, the match rule's attrition."""
    files = {"attrition": rules.derive.output.attrition.format(study=wildcards.study)}
    if design_of(wildcards.study) in MATCHED_DESIGNS:
        files["match_attrition"] = rules.match.output.attrition.format(
            study=wildcards.study
        )
    return files


def group_labels(wildcards):
    return FIGURE_SPECS["group_labels"].get(design_of(wildcards.study), {})


def matching_settings(wildcards):
    return study_settings(wildcards.study)["matching"]


rule figure_km:
    """Kaplan-Meier curves with numbers at risk, medians (95% CI) and the log-rank p."""
    input:
        curves="results/analysis/{study}.curves.json",
    output:
        **figure_report(
            "km_{study}_{figure}",
            "../report/figures/km.rst",
            "Survival",
            label="{study}_{figure}",
        ),
    log:
        "results/logs/figure_km/{study}_{figure}.log",
    benchmark:
        "results/benchmarks/figure_km/{study}_{figure}.tsv"
    wildcard_constraints:
        figure="|".join(KM_FIGURE_NAMES) if KM_FIGURE_NAMES else "(?!x)x",
    conda:
        "../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        label=lambda w: study_label(w.study),
        spec=km_spec,
        design=lambda w: design_of(w.study),
        plan=km_plan,
        level=config["analysis"]["confidence_level"],
        at_risk_times=config["analysis"]["at_risk_times_months"],
        min_cell_count=config["disclosure"]["min_cell_count"],
        style=config["figures"],
    script:
        "../scripts/figure_km.py"


rule figure_flow:
    """Cohort flow diagram of any design, drawn from the attrition the derivation (and matching) wrote."""
    input:
        unpack(flow_inputs),
    output:
        **figure_report("flow_{study}", "../report/figures/flow.rst", "Cohort"),
    log:
        "results/logs/figure_flow/{study}.log",
    benchmark:
        "results/benchmarks/figure_flow/{study}.tsv"
    conda:
        "../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        label=lambda w: study_label(w.study),
        design=lambda w: design_of(w.study),
        matching=lambda w: study_settings(w.study).get("matching", {}),
        group_labels=group_labels,
        style=config["figures"],
    script:
        "../scripts/figure_flow.py"


rule figure_management:
    """Christie design: symptoms and management of BMs, n and % with the denominator on the figure."""
    input:
        counts=rules.analyse_christie.output.management,
    output:
        **figure_report(
            "{study}_management",
            "../report/figures/christie_management.rst",
            "Symptoms and management",
        ),
    log:
        "results/logs/figure_management/{study}.log",
    benchmark:
        "results/benchmarks/figure_management/{study}.tsv"
    wildcard_constraints:
        study=design_studies("christie"),
    conda:
        "../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        label=lambda w: study_label(w.study),
        min_cell_count=config["disclosure"]["min_cell_count"],
        style=config["figures"],
        denominator=lambda w: study_settings(w.study)["derivation"][
            "symptom_percent_denominator"
        ],
    script:
        "../scripts/figure_management.py"


rule figure_ps_distribution:
    """Mayo design: propensity scores (logit) of the two groups before and after matching."""
    input:
        scores=rules.match.output.scores,
    output:
        **figure_report(
            "{study}_ps_distribution",
            "../report/figures/mayo_ps_distribution.rst",
            "Propensity-score matching",
        ),
    log:
        "results/logs/figure_ps_distribution/{study}.log",
    benchmark:
        "results/benchmarks/figure_ps_distribution/{study}.tsv"
    wildcard_constraints:
        study=design_studies("mayo"),
    conda:
        "../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        label=lambda w: study_label(w.study),
        matching=matching_settings,
        group_labels=group_labels,
        style=config["figures"],
    script:
        "../scripts/figure_ps_distribution.py"


rule figure_love:
    """Mayo design: standardised mean differences before and after matching (Love plot)."""
    input:
        balance=rules.match.output.balance,
        codebook=study_codebook,
    output:
        **figure_report(
            "{study}_love",
            "../report/figures/mayo_love.rst",
            "Propensity-score matching",
        ),
    log:
        "results/logs/figure_love/{study}.log",
    benchmark:
        "results/benchmarks/figure_love/{study}.tsv"
    wildcard_constraints:
        study=design_studies("mayo"),
    conda:
        "../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        label=lambda w: study_label(w.study),
        threshold=0.1,
        matching=matching_settings,
        style=config["figures"],
    script:
        "../scripts/figure_love.py"


rule figure_forest:
    """Mayo design: hazard ratios of the treated against the control group, main and sensitivity analyses."""
    input:
        effects=rules.analyse_mayo.output.effects,
    output:
        **figure_report(
            "{study}_forest", "../report/figures/mayo_forest.rst", "Effect estimates"
        ),
    log:
        "results/logs/figure_forest/{study}.log",
    benchmark:
        "results/benchmarks/figure_forest/{study}.tsv"
    wildcard_constraints:
        study=design_studies("mayo"),
    conda:
        "../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        label=lambda w: study_label(w.study),
        matching=matching_settings,
        sections={
            "sensitivity": "Sensitivity analyses",
            "*": "Matched cohort (main analysis)",
        },
        style=config["figures"],
    script:
        "../scripts/figure_forest.py"
