# Analysis rules: matching (Study B), numbers, tables and survival for each study.

TABLE_DIR = "results/tables"
CHRISTIE_TABLES = ["baseline", "bm_features", "survival"]


rule analyse_christie:
    """Study A: counts, percentages, median age (SPSS percentiles), tables, Kaplan-Meier."""
    input:
        derived="results/derived/christie.parquet",
        validation_report="results/validated/christie.report.json",
    output:
        numbers="results/analysis/christie.json",
        tables=[
            report(
                f"{TABLE_DIR}/christie_{t}.csv",
                caption=f"../report/tables/christie_{t}.rst",
                category="Study A",
                subcategory="Tables",
            )
            for t in CHRISTIE_TABLES
        ],
        markdown=expand(f"{TABLE_DIR}/christie_{{t}}.md", t=CHRISTIE_TABLES),
    log:
        "results/logs/analyse_christie.log",
    benchmark:
        "results/benchmarks/analyse_christie.tsv"
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        code=code_digest("scripts/analyse_christie.py"),
        plan=config["plans"]["christie"],
        numbers=config["numbers"]["christie"],
        analysis=config["analysis"],
        disclosure=config["disclosure"],
        table_names=CHRISTIE_TABLES,
    script:
        "../scripts/analyse_christie.py"


rule match:
    """Study B: propensity score and greedy 1:k caliper matching without replacement; balance."""
    input:
        derived="results/derived/mayo.parquet",
        codebook=config["studies"]["mayo"]["codebook"],
    output:
        matched="results/matched/mayo_matched.parquet",
        scores="results/matched/mayo_scores.parquet",
        balance="results/matched/mayo_balance.csv",
        summary="results/matched/mayo_matching.json",
    log:
        "results/logs/match.log",
    benchmark:
        "results/benchmarks/match.tsv"
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        code=code_digest("scripts/match.py"),
        matching=config["mayo"]["matching"],
    script:
        "../scripts/match.py"


MAYO_TABLES = [
    "baseline",
    "bone",
    "survival",
    "major_resection",
    "cox",
    "sensitivity",
    "balance",
]


rule analyse_mayo:
    """Study B: matched-cohort numbers and tables, Kaplan-Meier, log-rank, Cox, sensitivity analyses."""
    input:
        derived="results/derived/mayo.parquet",
        matched="results/matched/mayo_matched.parquet",
        balance="results/matched/mayo_balance.csv",
        matching_summary="results/matched/mayo_matching.json",
        validation_report="results/validated/mayo.report.json",
    output:
        numbers="results/analysis/mayo.json",
        effects="results/analysis/mayo_effects.csv",
        tables=[
            report(
                f"{TABLE_DIR}/mayo_{t}.csv",
                caption=f"../report/tables/mayo_{t}.rst",
                category="Study B",
                subcategory="Tables",
            )
            for t in MAYO_TABLES
        ],
        markdown=expand(f"{TABLE_DIR}/mayo_{{t}}.md", t=MAYO_TABLES),
    log:
        "results/logs/analyse_mayo.log",
    benchmark:
        "results/benchmarks/analyse_mayo.tsv"
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        code=code_digest("scripts/analyse_mayo.py"),
        plan=config["plans"]["mayo"],
        numbers=config["numbers"]["mayo"],
        analysis=config["analysis"],
        disclosure=config["disclosure"],
        matching=config["mayo"]["matching"],
        sensitivity=config["mayo"]["sensitivity"],
        table_names=MAYO_TABLES,
    script:
        "../scripts/analyse_mayo.py"
