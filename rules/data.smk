# Data rules: synthetic twins -> ingestion -> validation -> derivation.


rule synthetic_cohort:
    """Write a design's deterministic synthetic twin as a real SPSS (.sav) or Stata (.dta) file, and
    the record (SHA-256) that marks it as the workflow's own: only a recorded file is ever replaced.
    """
    input:
        codebook=lambda w: config["studies"][MAIN_STUDIES[w.design]]["codebook"],
    output:
        twin=SYNTHETIC_TWIN,
        record=f"{SYNTHETIC_TWIN}.sha256",
    log:
        "results/logs/synthetic_cohort/{design}.{ext}.log",
    benchmark:
        "results/benchmarks/synthetic_cohort/{design}.{ext}.tsv"
    wildcard_constraints:
        ext="sav|dta",
        design="|".join(DESIGNS),
    conda:
        "../envs/ingest.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=code_digest("scripts/synthetic_cohort.py", exclude=TWIN_BORROWED_CODE),
        settings=lambda w: config["synthetic"][w.design],
        study_config=lambda w: config[w.design],
    script:
        "../scripts/synthetic_cohort.py"


rule ingest:
    """Read the raw export (never written) into parquet, keeping labels and missing codes."""
    input:
        raw=study_input,
        codebook=study_codebook,
    output:
        table="results/ingested/{study}.parquet",
        meta="results/ingested/{study}.meta.json",
    log:
        "results/logs/ingest/{study}.log",
    benchmark:
        "results/benchmarks/ingest/{study}.tsv"
    conda:
        "../envs/ingest.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=code_digest("scripts/ingest.py"),
        undeclared=config.get("ingest", {}).get("undeclared_columns", "drop"),
    script:
        "../scripts/ingest.py"


rule validate:
    """Check every value against the codebook; report all violations at once."""
    input:
        table="results/ingested/{study}.parquet",
        meta="results/ingested/{study}.meta.json",
        codebook=study_codebook,
    output:
        table="results/validated/{study}.parquet",
        report="results/validated/{study}.report.json",
    log:
        "results/logs/validate/{study}.log",
    benchmark:
        "results/benchmarks/validate/{study}.tsv"
    conda:
        "../envs/ingest.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=code_digest("scripts/validate.py"),
        source=study_input,
    script:
        "../scripts/validate.py"


rule derive:
    """Derive the study's analysis variables (definitions: the codebook's derived section)."""
    input:
        table="results/validated/{study}.parquet",
        codebook=study_codebook,
    output:
        table="results/derived/{study}.parquet",
        attrition="results/derived/{study}.attrition.json",
    log:
        "results/logs/derive/{study}.log",
    benchmark:
        "results/benchmarks/derive/{study}.tsv"
    conda:
        "../envs/ingest.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=code_digest("scripts/derive.py"),
        design=lambda w: design_of(w.study),
        settings=lambda w: study_settings(w.study),
        days_per_month=config["days_per_month"],
    script:
        "../scripts/derive.py"
