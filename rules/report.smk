# Reporting rules: numbers.yml, the reproduction check, provenance and the rendered supplement.


rule numbers:
    """Every number the supplement quotes, formatted once (results/numbers.yml)."""
    input:
        **{study: f"results/analysis/{study}.json" for study in STUDIES},
        codebooks=[config["studies"][s]["codebook"] for s in STUDIES],
    output:
        "results/numbers.yml",
    params:
        studies=STUDIES,
        config={k: config[k] for k in ("christie", "mayo", "analysis", "days_per_month")},
    log:
        "results/logs/numbers.log",
    script:
        "../scripts/numbers.py"


rule reproduction_check:
    """Compare each published number with its reproduced value (match / mismatch / not-reproducible)."""
    input:
        numbers="results/numbers.yml",
        published=expand("resources/published/{study}.yaml", study=STUDIES),
    output:
        csv=report(
            "results/reproduction/checks.csv",
            caption="../report/reproduction.rst",
            category="Reproduction",
        ),
        md="results/reproduction/checks.md",
        summary="results/reproduction/summary.yml",
    log:
        "results/logs/reproduction_check.log",
    script:
        "../scripts/reproduction_check.py"
