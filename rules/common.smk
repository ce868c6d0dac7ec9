# Shared definitions: the studies, their designs, where their inputs live, helpers for rule inputs.
#
# A study names a design (`studies.<name>.design`): the design decides the derivation, the analyses,
# the figures, the supplement section and the published numbers. A design's settings are the config
# block named after it (`christie:`, `mayo:`); a study may override any of them under
# `studies.<name>.settings`. Rules are written per design, with the study as wildcard.
from nenbone.designs import DESIGNS, merge_settings, studies_of_design

STUDIES = sorted(config["studies"])
report_item = report  # Snakemake's report() marker, callable inside helper functions
# design -> the study the supplement's main section for that design reports (config supplement.main_studies)
MAIN_STUDIES = dict(config["supplement"]["main_studies"])
ADDITIONAL_STUDIES = [s for s in STUDIES if s not in MAIN_STUDIES.values()]


def design_of(study):
    return config["studies"][study]["design"]


def design_studies(design):
    """The studies of one design, as a wildcard constraint (a regex that matches none if there are none)."""
    names = studies_of_design(config["studies"], design)
    return "|".join(names) if names else "(?!x)x"


def study_settings(study):
    """A study's design settings: the design's block, overridden by `studies.<study>.settings`."""
    return merge_settings(
        config[design_of(study)], config["studies"][study].get("settings", {})
    )


def study_label(study):
    return config["studies"][study].get("label", study)


SYNTHETIC_TWIN = (
    "resources/synthetic/{design}.{ext}"  # the only inputs a rule makes (data.smk)
)

# Before any job: every configured input and codebook is a readable file (a twin may be made yet),
# and a file at a twin's path that the workflow did not write is refused, never replaced.
from nenbone.io.inputs import input_problems  # src/ is on the path (Snakefile)

INPUT_PROBLEMS = input_problems(config, SYNTHETIC_TWIN, ["sav", "dta"], DESIGNS)
if INPUT_PROBLEMS:  # one message, no traceback: the run cannot start
    print(f"nenbone: {INPUT_PROBLEMS}", file=sys.stderr)
    raise SystemExit(1)


def study_input(wildcards):
    """The raw export a study reads: the synthetic twin by default, or the user's own file."""
    return config["studies"][wildcards.study]["input"]


def study_codebook(wildcards):
    return config["studies"][wildcards.study]["codebook"]


def published_numbers(study):
    """The published numbers of the study's design (resources/published/<design>.yaml)."""
    return f"resources/published/{design_of(study)}.yaml"


def hashed_inputs(wildcards):
    """Files the results depend on that no job makes (raw exports, codebooks, config, published numbers)."""
    files = [config["studies"][s]["input"] for s in STUDIES]
    files += [config["studies"][s]["codebook"] for s in STUDIES]
    files += [
        "config/config.yaml",
        "config/analysis.yaml",
        "config/figures.yaml",
        "config/schema.yaml",
    ]
    files += [published_numbers(s) for s in STUDIES]
    return sorted(set(files))


# Figures (rules/figures.smk)


def km_specs():
    """(study, figure, spec) of every Kaplan-Meier figure: the design's figures, for each study of the design."""
    return [
        (study, name, spec)
        for study in STUDIES
        for name, spec in sorted(
            config["figure_specs"]["km"].get(design_of(study), {}).items()
        )
    ]


def km_spec(wildcards):
    return config["figure_specs"]["km"][design_of(wildcards.study)][wildcards.figure]


# Designs whose comparison is made in a propensity-matched cohort (rule match).
MATCHED_DESIGNS = ["mayo"]


# Tables (rules/analysis.smk)

TABLE_DIR = "results/tables"
DESIGN_TABLES = {
    "christie": ["baseline", "bm_features", "survival"],
    "mayo": [
        "baseline",
        "bone",
        "survival",
        "major_resection",
        "cox",
        "sensitivity",
        "balance",
    ],
}


def study_tables(study, ext):
    return [f"{TABLE_DIR}/{study}_{t}.{ext}" for t in DESIGN_TABLES[design_of(study)]]


def table_reports(design):
    """The CSV tables of a design's analysis rule, each a report item captioned by its design's text."""
    return [
        report_item(
            f"{TABLE_DIR}/{{study}}_{t}.csv",
            caption=f"../report/tables/{design}_{t}.rst",
            category=lambda w: study_label(w.study),
            subcategory="Tables",
        )
        for t in DESIGN_TABLES[design]
    ]


# Figures (rules/figures.smk)

FIGURE_SPECS = config["figure_specs"]
# The figures of each design besides its Kaplan-Meier figures (figure_specs.km.<design>) and flow diagram.
DESIGN_FIGURES = {
    "christie": ["management"],
    "mayo": ["ps_distribution", "love", "forest", "schoenfeld"],
}
KM_FIGURE_NAMES = sorted({name for _, name, _ in km_specs()})


def study_figure_names(study):
    names = [f"km_{study}_{name}" for s, name, _ in km_specs() if s == study]
    names.append(f"flow_{study}")
    names += [f"{study}_{kind}" for kind in DESIGN_FIGURES[design_of(study)]]
    return names


FIGURE_FILES = expand(
    "results/figures/{name}.{ext}",
    name=[n for s in STUDIES for n in study_figure_names(s)],
    ext=["png", "pdf"],
)


def figure_report(name, caption, subcategory, label=None):
    """The PNG and PDF outputs of a figure rule, as report items of the study's category."""
    out = {}
    for ext in ("png", "pdf"):
        out[ext] = report_item(
            f"results/figures/{name}.{ext}",
            caption=caption,
            category=lambda w: study_label(w.study),
            subcategory=subcategory,
            labels=lambda w, ext=ext: {
                "figure": (label or name).format(**dict(w.items())),
                "format": ext.upper(),
            },
        )
    return out


def km_plan(wildcards):
    """The figure's survival plan from config/analysis.yaml (for its caption); a missing plan is a config error."""
    design, spec = design_of(wildcards.study), km_spec(wildcards)
    plans = config.get("plans", {}).get(design, {}).get("survival", [])
    found = [p for p in plans if p["name"] == spec["plan"]]
    if len(found) != 1:
        raise WorkflowError(
            f"figure '{wildcards.figure}': config plans.{design}.survival has "
            f"{len(found)} plan(s) named '{spec['plan']}' (need exactly one)"
        )
    return found[0]


def flow_inputs(wildcards):
    """The study's attrition (derivation) and, for a design that matches, the match rule's attrition."""
    files = {"attrition": rules.derive.output.attrition.format(study=wildcards.study)}
    if design_of(wildcards.study) in MATCHED_DESIGNS:
        files["match_attrition"] = rules.match.output.attrition.format(
            study=wildcards.study
        )
    return files


def group_labels(wildcards):
    return FIGURE_SPECS["group_labels"].get(design_of(wildcards.study), {})


def matching_settings(wildcards):
    return study_settings(wildcards.study)["matching"]
