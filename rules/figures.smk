# Figure rules: one rule per figure kind. They read what the analysis rules wrote and only draw
# (nenbone.presentation.figures): changing a figure's params or its script reruns that figure alone.
# Each figure is written twice: PNG at config figures.dpi (web, report) and PDF (print).
# `FIGURE_FILES` lists every output, for `rule all` and the supplement.

FIGURE_CATEGORY = {"christie": "Study A", "mayo": "Study B"}

# Kaplan-Meier figures: each draws one survival plan of config/analysis.yaml (plans.<study>.survival,
# by name), computed exactly as the analysis computes it; only the presentation is set here.
# `display`: text per curve (group level, or "all" for a single curve).
KM_FIGURES = {
    "christie_os_from_bm": {
        "study": "christie",
        "plan": "os_from_bm",
        "cohort": "derived",
        "display": {"all": "Patients with BMs"},
        "xlabel": "Time since identification of BMs (months)",
        "ylabel": "Overall survival (probability)",
        "median_ci": "spss",
        "show_ci": True,
    },
    "christie_os_from_symptoms": {
        "study": "christie",
        "plan": "os_from_symptoms",
        "cohort": "derived",
        "display": {"all": "Symptomatic, onset recorded"},
        "xlabel": "Time since onset of BM-related symptoms (months)",
        "ylabel": "Overall survival (probability)",
        "median_ci": "spss",
        "show_ci": True,
    },
    "christie_time_to_bm": {
        "study": "christie",
        "plan": "time_to_bm",
        "cohort": "derived",
        "display": {"all": "Metachronous BMs"},
        "xlabel": "Time since first distant metastasis (months)",
        "ylabel": "Proportion without BMs",
        "median_ci": "spss",
        "show_ci": True,
    },
    "mayo_os_by_group": {
        "study": "mayo",
        "plan": "os",
        "cohort": "matched",
        "display": {"LB": "HRmNET/LB (liver + bone)", "L": "HRmNET/L (liver only)"},
        "xlabel": "Time since hepatic resection (months)",
        "ylabel": "Overall survival (probability)",
        "median_ci": "loglog",
        "show_ci": False,
    },
    "mayo_os_lb_by_primary": {
        "study": "mayo",
        "plan": "os_lb_by_primary",
        "cohort": "matched",
        "display": {"GI": "GI NET", "pancreas": "Pancreatic NET"},
        "xlabel": "Time since hepatic resection (months)",
        "ylabel": "Overall survival (probability)",
        "median_ci": "loglog",
        "show_ci": False,
    },
}


# Study A symptoms and management: boolean derived columns, in drawing order. "config" = the
# denominator chosen by christie.derivation.symptom_percent_denominator; "all" = all with BMs.
MANAGEMENT_ITEMS = [
    {
        "column": "bm_symptoms_at_dx",
        "label": "Symptoms at BM diagnosis",
        "section": "Symptoms",
        "denominator": "all",
    },
    {
        "column": "bm_symptoms_ever",
        "label": "Symptoms at any time",
        "section": "Symptoms",
        "denominator": "all",
    },
    {
        "column": "pain_or_hypercalcaemia",
        "label": "Pain or hypercalcaemia",
        "section": "Symptoms",
        "denominator": "config",
    },
    {
        "column": "sre",
        "label": "Skeletal-related event",
        "section": "Symptoms",
        "denominator": "config",
    },
    {
        "column": "tx_analgesia",
        "label": "Analgesia",
        "section": "Management",
        "denominator": "all",
    },
    {
        "column": "tx_radiotherapy",
        "label": "Radiotherapy",
        "section": "Management",
        "denominator": "all",
    },
    {
        "column": "tx_bisphosphonate",
        "label": "Bisphosphonates",
        "section": "Management",
        "denominator": "all",
    },
    {
        "column": "tx_surgery",
        "label": "Surgery",
        "section": "Management",
        "denominator": "all",
    },
]
SYMPTOM_DENOMINATOR_COLUMN = {"all_bm": "all", "ever_symptomatic": "bm_symptoms_ever"}

MAYO_GROUP_LABELS = {"LB": "HRmNET/LB (liver + bone)", "L": "HRmNET/L (liver only)"}

FIGURE_FILES = (
    expand(
        "results/figures/km_{analysis}.{ext}",
        analysis=sorted(KM_FIGURES),
        ext=["png", "pdf"],
    )
    + expand("results/figures/flow_{study}.{ext}", study=STUDIES, ext=["png", "pdf"])
    + expand(
        "results/figures/{name}.{ext}",
        name=[
            "christie_management",
            "mayo_ps_distribution",
            "mayo_love",
            "mayo_forest",
        ],
        ext=["png", "pdf"],
    )
)


def km_inputs(wildcards):
    """The derived table of the figure's study; for the matched cohort also the match list."""
    spec = KM_FIGURES[wildcards.analysis]
    files = {"derived": f"results/derived/{spec['study']}.parquet"}
    if spec.get("cohort") == "matched":
        files["matched"] = f"results/matched/{spec['study']}_matched.parquet"
    return files


def km_plan(wildcards):
    """The figure's survival plan from config/analysis.yaml; a missing plan is a config error."""
    spec = KM_FIGURES[wildcards.analysis]
    plans = config.get("plans", {}).get(spec["study"], {}).get("survival", [])
    found = [p for p in plans if p["name"] == spec["plan"]]
    if len(found) != 1:
        raise WorkflowError(
            f"figure '{wildcards.analysis}': config plans.{spec['study']}.survival has "
            f"{len(found)} plan(s) named '{spec['plan']}' (need exactly one)"
        )
    return found[0]


def km_category(wildcards):
    return FIGURE_CATEGORY[KM_FIGURES[wildcards.analysis]["study"]]


def flow_inputs(wildcards):
    """Screened (validated) and eligible (derived) rows; Study B also who entered the model and who was matched."""
    files = {
        "validated": f"results/validated/{wildcards.study}.parquet",
        "derived": f"results/derived/{wildcards.study}.parquet",
    }
    if wildcards.study == "mayo":
        files["scores"] = "results/matched/mayo_scores.parquet"
        files["matched"] = "results/matched/mayo_matched.parquet"
    return files


def flow_settings(wildcards):
    """Only the config the flow counts depend on (eligibility or groups, period and matching)."""
    keys = {
        "christie": ["eligibility", "derivation"],
        "mayo": ["groups", "period", "matching"],
    }
    return {k: config[wildcards.study][k] for k in keys[wildcards.study]}


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
    wildcard_constraints:
        analysis="|".join(sorted(KM_FIGURES)),
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
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        settings=flow_settings,
        group_labels=MAYO_GROUP_LABELS,
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
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        bar_items=MANAGEMENT_ITEMS,
        denominator_column=SYMPTOM_DENOMINATOR_COLUMN[
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
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        treated=config["mayo"]["matching"]["treated_group"],
        control=config["mayo"]["matching"]["control_group"],
        group_labels=MAYO_GROUP_LABELS,
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
            "lower in " + config["mayo"]["matching"]["treated_group"],
            "higher in " + config["mayo"]["matching"]["treated_group"],
        ],
        sections={
            "sensitivity": "Sensitivity analyses",
            "*": "Matched cohort (main analysis)",
        },
        style=config["figures"],
    script:
        "../scripts/figure_forest.py"
