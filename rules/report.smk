# Reporting rules: numbers.yml, the reproduction check, provenance and the rendered supplement.


rule numbers:
    """Every number the supplement quotes, formatted once (results/numbers.yml)."""
    input:
        **{study: f"results/analysis/{study}.json" for study in STUDIES},
        codebooks=[config["studies"][s]["codebook"] for s in STUDIES],
    output:
        "results/numbers.yml",
    log:
        "results/logs/numbers.log",
    benchmark:
        "results/benchmarks/numbers.tsv"
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        studies=STUDIES,
        config={
            k: config[k] for k in ("christie", "mayo", "analysis", "days_per_month")
        },
        min_cell_count=config["disclosure"]["min_cell_count"],
    script:
        "../scripts/numbers.py"


rule reproduction_check:
    """Compare each published number with its reproduced value (match / mismatch / not-reproducible)."""
    input:
        numbers="results/numbers.yml",
        analysis=expand("results/analysis/{study}.json", study=STUDIES),
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
    benchmark:
        "results/benchmarks/reproduction_check.tsv"
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        studies=STUDIES,
    script:
        "../scripts/reproduction_check.py"


rule render_supplement:
    """Provenance of the run, then the supplement (Quarto source) as self-contained HTML and PDF."""
    input:
        source="manuscript/supplement.qmd",
        project="manuscript/_quarto.yml",
        bib="manuscript/references.bib",
        metadata=["results/numbers.yml", "results/reproduction/summary.yml"],
        checks="results/reproduction/checks.md",
        tables=expand(f"{TABLE_DIR}/christie_{{t}}.md", t=CHRISTIE_TABLES)
        + expand(f"{TABLE_DIR}/mayo_{{t}}.md", t=MAYO_TABLES),
        figures=[f for f in FIGURE_FILES if f.endswith(".png")],
        # the offline renderer's templates and filter: a change to them rerenders
        renderer=expand(
            "src/nenbone/render/{f}",
            f=["template.typ", "template.html", "supplement.css", "shortcodes.lua"],
        ),
        hashed=hashed_inputs,
    output:
        html=report(
            "results/supplement/supplement.html",
            caption="../report/supplement.rst",
            category="Supplement",
        ),
        pdf="results/supplement/supplement.pdf",
        provenance_md="results/provenance.md",
        provenance_json="results/provenance/provenance.json",
        packages="results/provenance/packages.txt",
        config="results/provenance/config.yaml",
        render_info="results/provenance/render.json",
    log:
        "results/logs/render_supplement.log",
    benchmark:
        "results/benchmarks/render_supplement.tsv"
    conda:
        "../envs/render.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        root=workflow.basedir,
        engine=config["render"]["engine"],
        source_date_epoch=config["render"]["source_date_epoch"],
        config={k: v for k, v in config.items()},
    script:
        "../scripts/render_supplement.py"
