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
