# Reporting rules: numbers.yml, the reproduction check, provenance and the rendered supplement.


rule numbers:
    """Every number the supplement quotes, formatted once (results/numbers.yml)."""
    input:
        **{study: f"results/analysis/{study}.json" for study in STUDIES},
        protected=[f"results/analysis/{study}.protected.json" for study in STUDIES],
        codebooks=[config["studies"][s]["codebook"] for s in STUDIES],
        reports=[f"results/validated/{s}.report.json" for s in STUDIES],
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
        code=code_digest("scripts/numbers.py"),
        studies=STUDIES,
        designs={s: design_of(s) for s in STUDIES},
        settings={s: study_settings(s) for s in STUDIES},
        config={k: config[k] for k in ("analysis", "days_per_month")},
        min_cell_count=config["disclosure"]["min_cell_count"],
        labels={s: study_label(s) for s in STUDIES},
        twin_cutoffs={
            d: config["synthetic"][d]["data_cutoff"]
            for d in sorted(config["synthetic"])
        },
    script:
        "../scripts/numbers.py"


rule reproduction_check:
    """Compare each published number with its reproduced value, and write the reproduction section."""
    input:
        numbers=rules.numbers.output[0],
        published=[published_numbers(s) for s in MAIN_STUDIES.values()],
        analysis=[f"results/analysis/{s}.json" for s in MAIN_STUDIES.values()],
    output:
        csv=report(
            "results/reproduction/checks.csv",
            caption="../report/reproduction.rst",
            category="Reproduction",
        ),
        md="results/reproduction/checks.md",
        compact="results/reproduction/checks_compact.md",
        by_source="results/reproduction/status_by_source.md",
        discrepancies="results/reproduction/discrepancies.md",
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
        code=code_digest("scripts/reproduction_check.py"),
        studies=list(MAIN_STUDIES.values()),
        labels={s: study_label(s) for s in MAIN_STUDIES.values()},
        main_studies=MAIN_STUDIES,
    script:
        "../scripts/reproduction_check.py"


rule replication:
    """An additional cohort's value of every published number beside the published and the twin's."""
    input:
        numbers=rules.numbers.output[0],
        published=lambda w: published_numbers(w.study),
        analysis="results/analysis/{study}.json",
        twin_analysis=lambda w: f"results/analysis/{MAIN_STUDIES[design_of(w.study)]}.json",
    output:
        csv="results/reproduction/{study}_replication.csv",
        md="results/reproduction/{study}_replication.md",
    log:
        "results/logs/replication/{study}.log",
    benchmark:
        "results/benchmarks/replication/{study}.tsv"
    wildcard_constraints:
        study="|".join(ADDITIONAL_STUDIES) if ADDITIONAL_STUDIES else "(?!x)x",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        code=code_digest("scripts/replication.py"),
        twin=lambda w: MAIN_STUDIES[design_of(w.study)],
        twin_label=lambda w: study_label(MAIN_STUDIES[design_of(w.study)]),
        label=lambda w: study_label(w.study),
    script:
        "../scripts/replication.py"


rule additional_cohorts:
    """The supplement's "Additional cohorts" section: each additional study from its design's template."""
    input:
        templates=sorted(
            {f"manuscript/designs/{design_of(s)}.md" for s in ADDITIONAL_STUDIES}
        ),
        replication=expand(rules.replication.output.md, study=ADDITIONAL_STUDIES),
        tables=[f for s in ADDITIONAL_STUDIES for f in study_tables(s, "md")],
        figures=[
            f"results/figures/{n}.png"
            for s in ADDITIONAL_STUDIES
            for n in study_figure_names(s)
        ],
    output:
        "results/supplement/additional_cohorts.md",
    log:
        "results/logs/additional_cohorts.log",
    benchmark:
        "results/benchmarks/additional_cohorts.tsv"
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        code=code_digest("scripts/additional_cohorts.py"),
        studies={
            s: {
                "design": design_of(s),
                "label": study_label(s),
                "template": f"manuscript/designs/{design_of(s)}.md",
            }
            for s in ADDITIONAL_STUDIES
        },
    script:
        "../scripts/additional_cohorts.py"


rule checklists:
    """The reporting checklists (STROBE, propensity-score reporting) as appendix tables of the supplement."""
    input:
        "manuscript/checklists/strobe.yaml",
        "manuscript/checklists/ps_reporting.yaml",
    output:
        "results/tables/checklist_strobe.md",
        "results/tables/checklist_ps_reporting.md",
    log:
        "results/logs/checklists.log",
    benchmark:
        "results/benchmarks/checklists.tsv"
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        code=code_digest("scripts/checklists.py"),
    script:
        "../scripts/checklists.py"


rule render_supplement:
    """Provenance of the run, then the supplement (Quarto source) as self-contained HTML and PDF."""
    input:
        source="manuscript/supplement.qmd",
        project="manuscript/_quarto.yml",
        bib="manuscript/references.bib",
        metadata=[rules.numbers.output[0], rules.reproduction_check.output.summary],
        checks=[
            rules.reproduction_check.output.md,
            rules.reproduction_check.output.compact,
            rules.reproduction_check.output.by_source,
            rules.reproduction_check.output.discrepancies,
        ],
        checklists=rules.checklists.output,
        additional=rules.additional_cohorts.output[0],
        tables=[f for s in STUDIES for f in study_tables(s, "md")],
        figures=FIGURE_FILES,  # PNG for the HTML, the vector PDF for the PDF
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
        code=code_digest("scripts/render_supplement.py"),
        root=workflow.basedir,
        engine=config["render"]["engine"],
        source_date_epoch=config["render"]["source_date_epoch"],
        config={k: v for k, v in config.items()},
    script:
        "../scripts/render_supplement.py"
