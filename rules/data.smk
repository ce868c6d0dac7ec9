# Data rules: synthetic twins -> ingestion -> validation -> derivation.


rule synthetic_cohort:
    """Write a study's deterministic synthetic twin as a real SPSS (.sav) or Stata (.dta) file, and
    the record (SHA-256) that marks it as the workflow's own: only a recorded file is ever replaced."""
    input:
        codebook=study_codebook,
    output:
        twin=SYNTHETIC_TWIN,
        record=SYNTHETIC_TWIN + ".sha256",
    log:
        "results/logs/synthetic_cohort/{study}.{ext}.log",
    benchmark:
        "results/benchmarks/synthetic_cohort/{study}.{ext}.tsv"
    wildcard_constraints:
        ext="sav|dta",
    conda:
        "../envs/ingest.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=lambda w: config["synthetic"][w.study],
        study_config=lambda w: config[w.study],
    script:
        "../scripts/synthetic_cohort.py"


rule ingest:
    """Read the raw export (never written) into parquet, keeping labels and missing codes."""
    input:
        raw=study_input,
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
        source=study_input,
    script:
        "../scripts/validate.py"


rule derive:
    """Derive the study's analysis variables (definitions: the codebook's derived section)."""
    input:
        table="results/validated/{study}.parquet",
    output:
        table="results/derived/{study}.parquet",
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
        settings=lambda w: config[w.study],
        days_per_month=config["days_per_month"],
    script:
        "../scripts/derive.py"
