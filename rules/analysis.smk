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
        tables=multiext(
            f"{TABLE_DIR}/christie_",
            *[f"{t}.{ext}" for t in CHRISTIE_TABLES for ext in ("csv", "md")],
        ),
    params:
        plan=config["plans"]["christie"],
        numbers=config["numbers"]["christie"],
        analysis=config["analysis"],
        disclosure=config["disclosure"],
        table_dir=TABLE_DIR,
    log:
        "results/logs/analyse_christie.log",
    script:
        "../scripts/analyse_christie.py"
