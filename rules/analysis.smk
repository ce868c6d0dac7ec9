# Analysis rules, one per design, each study of the design as the wildcard `study`: matching
# (designs with a matched comparison), numbers, tables and survival.


MANAGEMENT_WHERE = {"has_bm": True}  # the christie design's management counts and bars: patients with BMs


rule analyse_christie:
    """Christie design: counts, percentages, median age (SPSS percentiles), tables, Kaplan-Meier."""
    input:
        derived=rules.derive.output.table,
        attrition=rules.derive.output.attrition,
        validation_report=rules.validate.output.report,
    output:
        numbers="results/analysis/{study}.json",
        curves="results/analysis/{study}.curves.json",
        protected="results/analysis/{study}.protected.json",
        management="results/analysis/{study}_management.csv",
        tables=table_reports("christie"),
        markdown=[f"{TABLE_DIR}/{{study}}_{t}.md" for t in DESIGN_TABLES["christie"]],
    log:
        "results/logs/analyse_christie/{study}.log",
    benchmark:
        "results/benchmarks/analyse_christie/{study}.tsv"
    wildcard_constraints:
        study=design_studies("christie"),
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        code=code_digest("scripts/analyse_christie.py"),
        label=lambda w: study_label(w.study),
        plan=config["plans"]["christie"],
        numbers=config["numbers"]["christie"],
        analysis=config["analysis"],
        median_ci=lambda w: study_settings(w.study)["median_ci"],
        disclosure=config["disclosure"],
        table_names=DESIGN_TABLES["christie"],
        management=lambda w: {
            "where": MANAGEMENT_WHERE,
            "items": config["figure_specs"]["management_items"],
            "denominator_column": config["figure_specs"]["symptom_denominator_column"][
                study_settings(w.study)["derivation"]["symptom_percent_denominator"]
            ],
        },
    script:
        "../scripts/analyse_christie.py"


rule match:
    """Mayo design: propensity score and greedy 1:k caliper matching without replacement; balance; attrition."""
    input:
        derived=rules.derive.output.table,
        codebook=study_codebook,
    output:
        matched="results/matched/{study}_matched.parquet",
        scores="results/matched/{study}_scores.parquet",
        balance="results/matched/{study}_balance.csv",
        summary="results/matched/{study}_matching.json",
        attrition="results/matched/{study}_attrition.json",
    log:
        "results/logs/match/{study}.log",
    benchmark:
        "results/benchmarks/match/{study}.tsv"
    wildcard_constraints:
        study=design_studies("mayo"),
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        code=code_digest("scripts/match.py"),
        matching=lambda w: study_settings(w.study)["matching"],
    script:
        "../scripts/match.py"


rule analyse_mayo:
    """Mayo design: matched-cohort numbers and tables, Kaplan-Meier, log-rank, Cox, sensitivity analyses."""
    input:
        derived=rules.derive.output.table,
        matched=rules.match.output.matched,
        scores=rules.match.output.scores,
        balance=rules.match.output.balance,
        matching_summary=rules.match.output.summary,
        validation_report=rules.validate.output.report,
        codebook=study_codebook,
    output:
        numbers="results/analysis/{study}.json",
        curves="results/analysis/{study}.curves.json",
        protected="results/analysis/{study}.protected.json",
        effects="results/analysis/{study}_effects.csv",
        schoenfeld="results/analysis/{study}.schoenfeld.json",
        tables=table_reports("mayo"),
        markdown=[f"{TABLE_DIR}/{{study}}_{t}.md" for t in DESIGN_TABLES["mayo"]],
    log:
        "results/logs/analyse_mayo/{study}.log",
    benchmark:
        "results/benchmarks/analyse_mayo/{study}.tsv"
    wildcard_constraints:
        study=design_studies("mayo"),
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        code=code_digest("scripts/analyse_mayo.py"),
        label=lambda w: study_label(w.study),
        plan=config["plans"]["mayo"],
        numbers=config["numbers"]["mayo"],
        analysis=config["analysis"],
        median_ci=lambda w: study_settings(w.study)["median_ci"],
        disclosure=config["disclosure"],
        matching=lambda w: study_settings(w.study)["matching"],
        sensitivity=lambda w: study_settings(w.study)["sensitivity"],
        imputation=lambda w: study_settings(w.study)["multiple_imputation"],
        table_names=DESIGN_TABLES["mayo"],
    script:
        "../scripts/analyse_mayo.py"
