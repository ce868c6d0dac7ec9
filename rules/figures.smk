# Figure rules: one rule per figure kind, the study as wildcard. They read what the analysis and
# derivation rules wrote and draw (nenbone.presentation): changing a figure's params or its script
# reruns that figure alone. Each figure is written twice: PNG at config figures.dpi (web, report)
# and PDF (print). `FIGURE_FILES` (rules/common.smk) lists every output, for `rule all` and the supplement.


rule figure_km:
    """Kaplan-Meier curves with numbers at risk, medians (95% CI) and the log-rank p."""
    input:
        curves="results/analysis/{study}.curves.json",
        protected="results/analysis/{study}.protected.json",
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
        code=code_digest("scripts/figure_km.py"),
        label=lambda w: study_label(w.study),
        spec=km_spec,
        design=lambda w: design_of(w.study),
        plan=km_plan,
        level=config["analysis"]["confidence_level"],
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
        code=code_digest("scripts/figure_flow.py"),
        label=lambda w: study_label(w.study),
        design=lambda w: design_of(w.study),
        matching=lambda w: study_settings(w.study).get("matching", {}),
        group_labels=group_labels,
        min_cell_count=config["disclosure"]["min_cell_count"],
        style=config["figures"],
    script:
        "../scripts/figure_flow.py"


rule figure_management:
    """Christie design: symptoms and management of BMs, n and % with the denominator on the figure."""
    input:
        counts=rules.analyse_christie.output.management,
        protected=rules.analyse_christie.output.protected,
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
        code=code_digest("scripts/figure_management.py"),
        label=lambda w: study_label(w.study),
        min_cell_count=config["disclosure"]["min_cell_count"],
        where=MANAGEMENT_WHERE,
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
        code=code_digest("scripts/figure_ps_distribution.py"),
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
        code=code_digest("scripts/figure_love.py"),
        label=lambda w: study_label(w.study),
        threshold=config["analysis"]["smd_threshold"],
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
        code=code_digest("scripts/figure_forest.py"),
        label=lambda w: study_label(w.study),
        matching=matching_settings,
        sections={
            "sensitivity": "Sensitivity analyses",
            "*": "Matched cohort (main analysis)",
        },
        style=config["figures"],
    script:
        "../scripts/figure_forest.py"


rule figure_schoenfeld:
    """Mayo design: beta(t) from the scaled Schoenfeld residuals, one panel per covariate per Cox model
    (R's plot.cox.zph curve and band), titled with its proportional-hazards test."""
    input:
        schoenfeld=rules.analyse_mayo.output.schoenfeld,
        codebook=study_codebook,
    output:
        **figure_report(
            "{study}_schoenfeld",
            "../report/figures/mayo_schoenfeld.rst",
            "Effect estimates",
        ),
    log:
        "results/logs/figure_schoenfeld/{study}.log",
    benchmark:
        "results/benchmarks/figure_schoenfeld/{study}.tsv"
    wildcard_constraints:
        study=design_studies("mayo"),
    conda:
        "../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        code=code_digest("scripts/figure_schoenfeld.py"),
        label=lambda w: study_label(w.study),
        ties=config["analysis"]["cox_ties"],
        ph_plot=config["analysis"]["ph_plot"],
        style=config["figures"],
    script:
        "../scripts/figure_schoenfeld.py"
