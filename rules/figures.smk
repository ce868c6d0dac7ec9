# Figure rules: one rule per figure kind. They read what the analysis rules wrote and only draw
# (nenbone.presentation.figures): changing a figure's params or its script reruns that figure alone.
# Each figure is written twice: PNG at config figures.dpi (web, report) and PDF (print).
# `FIGURE_FILES` lists every output, for `rule all` and the supplement.

FIGURE_SPECS = config["figure_specs"]
KM_FIGURES = FIGURE_SPECS["km"]
FIGURE_CATEGORY = FIGURE_SPECS["category"]

FIGURE_NAMES = [
    *(f"km_{analysis}" for analysis in sorted(KM_FIGURES)),
    *(f"flow_{study}" for study in STUDIES),
    "christie_management",
    "mayo_ps_distribution",
    "mayo_love",
    "mayo_forest",
]
FIGURE_FILES = expand(
    "results/figures/{name}.{ext}", name=FIGURE_NAMES, ext=["png", "pdf"]
)


rule figure_km:
    """Kaplan-Meier curves with numbers at risk, medians (95% CI) and the log-rank p."""
    input:
        unpack(km_inputs),
    output:
        png=report(
            "results/figures/km_{analysis}.png",
            caption="../report/figures/km.rst",
            category=km_category,
            subcategory="Survival",
            labels=lambda w: {"figure": w.analysis, "format": "PNG"},
        ),
        pdf=report(
            "results/figures/km_{analysis}.pdf",
            caption="../report/figures/km.rst",
            category=km_category,
            subcategory="Survival",
            labels=lambda w: {"figure": w.analysis, "format": "PDF"},
        ),
    log:
        "results/logs/figure_km/{analysis}.log",
    benchmark:
        "results/benchmarks/figure_km/{analysis}.tsv"
    wildcard_constraints:
        analysis="|".join(sorted(KM_FIGURES)),
    conda:
        "../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        spec=lambda w: KM_FIGURES[w.analysis],
        plan=km_plan,
        at_risk_times=config["analysis"]["at_risk_times_months"],
        level=config["analysis"]["confidence_level"],
        min_cell_count=config["disclosure"]["min_cell_count"],
        style=config["figures"],
    script:
        "../scripts/figure_km.py"


rule figure_flow:
    """Cohort flow diagram, every count computed from the data."""
    input:
        unpack(flow_inputs),
    output:
        png=report(
            "results/figures/flow_{study}.png",
            caption="../report/figures/flow.rst",
            category=lambda w: FIGURE_CATEGORY[w.study],
            subcategory="Cohort",
            labels=lambda w: {"figure": f"flow_{w.study}", "format": "PNG"},
        ),
        pdf=report(
            "results/figures/flow_{study}.pdf",
            caption="../report/figures/flow.rst",
            category=lambda w: FIGURE_CATEGORY[w.study],
            subcategory="Cohort",
            labels=lambda w: {"figure": f"flow_{w.study}", "format": "PDF"},
        ),
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
        settings=flow_settings,
        group_labels=FIGURE_SPECS["mayo_group_labels"],
        min_cell_count=config["disclosure"]["min_cell_count"],
        style=config["figures"],
    script:
        "../scripts/figure_flow.py"


rule figure_management:
    """Study A: symptoms and management of BMs, n and % with the denominator on the figure."""
    input:
        derived="results/derived/christie.parquet",
    output:
        png=report(
            "results/figures/christie_management.png",
            caption="../report/figures/christie_management.rst",
            category="Study A",
            subcategory="Symptoms and management",
            labels={"figure": "christie_management", "format": "PNG"},
        ),
        pdf=report(
            "results/figures/christie_management.pdf",
            caption="../report/figures/christie_management.rst",
            category="Study A",
            subcategory="Symptoms and management",
            labels={"figure": "christie_management", "format": "PDF"},
        ),
    log:
        "results/logs/figure_management/christie.log",
    benchmark:
        "results/benchmarks/figure_management/christie.tsv"
    conda:
        "../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        bar_items=FIGURE_SPECS["management_items"],
        denominator_column=FIGURE_SPECS["symptom_denominator_column"][
            config["christie"]["derivation"]["symptom_percent_denominator"]
        ],
        denominator=config["christie"]["derivation"]["symptom_percent_denominator"],
        where={"has_bm": True},
        min_cell_count=config["disclosure"]["min_cell_count"],
        style=config["figures"],
    script:
        "../scripts/figure_management.py"


rule figure_ps_distribution:
    """Study B: propensity scores (logit) of LB and L before and after matching."""
    input:
        scores="results/matched/mayo_scores.parquet",
    output:
        png=report(
            "results/figures/mayo_ps_distribution.png",
            caption="../report/figures/mayo_ps_distribution.rst",
            category="Study B",
            subcategory="Propensity-score matching",
            labels={"figure": "mayo_ps_distribution", "format": "PNG"},
        ),
        pdf=report(
            "results/figures/mayo_ps_distribution.pdf",
            caption="../report/figures/mayo_ps_distribution.rst",
            category="Study B",
            subcategory="Propensity-score matching",
            labels={"figure": "mayo_ps_distribution", "format": "PDF"},
        ),
    log:
        "results/logs/figure_ps_distribution/mayo.log",
    benchmark:
        "results/benchmarks/figure_ps_distribution/mayo.tsv"
    conda:
        "../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        treated=config["mayo"]["matching"]["treated_group"],
        control=config["mayo"]["matching"]["control_group"],
        group_labels=FIGURE_SPECS["mayo_group_labels"],
        style=config["figures"],
    script:
        "../scripts/figure_ps_distribution.py"


rule figure_love:
    """Study B: standardised mean differences before and after matching (Love plot)."""
    input:
        balance="results/matched/mayo_balance.csv",
        codebook=config["studies"]["mayo"]["codebook"],
    output:
        png=report(
            "results/figures/mayo_love.png",
            caption="../report/figures/mayo_love.rst",
            category="Study B",
            subcategory="Propensity-score matching",
            labels={"figure": "mayo_love", "format": "PNG"},
        ),
        pdf=report(
            "results/figures/mayo_love.pdf",
            caption="../report/figures/mayo_love.rst",
            category="Study B",
            subcategory="Propensity-score matching",
            labels={"figure": "mayo_love", "format": "PDF"},
        ),
    log:
        "results/logs/figure_love/mayo.log",
    benchmark:
        "results/benchmarks/figure_love/mayo.tsv"
    conda:
        "../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        threshold=0.1,
        xlabel="Standardised mean difference ({} \u2212 {})".format(
            config["mayo"]["matching"]["treated_group"],
            config["mayo"]["matching"]["control_group"],
        ),
        style=config["figures"],
    script:
        "../scripts/figure_love.py"


rule figure_forest:
    """Study B: hazard ratios LB vs L from the main and every sensitivity analysis."""
    input:
        effects="results/analysis/mayo_effects.csv",
    output:
        png=report(
            "results/figures/mayo_forest.png",
            caption="../report/figures/mayo_forest.rst",
            category="Study B",
            subcategory="Effect estimates",
            labels={"figure": "mayo_forest", "format": "PNG"},
        ),
        pdf=report(
            "results/figures/mayo_forest.pdf",
            caption="../report/figures/mayo_forest.rst",
            category="Study B",
            subcategory="Effect estimates",
            labels={"figure": "mayo_forest", "format": "PDF"},
        ),
    log:
        "results/logs/figure_forest/mayo.log",
    benchmark:
        "results/benchmarks/figure_forest/mayo.tsv"
    conda:
        "../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        xlabel="Hazard ratio of death, {} vs {} (log scale)".format(
            config["mayo"]["matching"]["treated_group"],
            config["mayo"]["matching"]["control_group"],
        ),
        favours=[
            f"lower in {config['mayo']['matching']['treated_group']}",
            f"higher in {config['mayo']['matching']['treated_group']}",
        ],
        sections={
            "sensitivity": "Sensitivity analyses",
            "*": "Matched cohort (main analysis)",
        },
        style=config["figures"],
    script:
        "../scripts/figure_forest.py"
