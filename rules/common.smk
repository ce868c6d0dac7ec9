# Shared definitions: the studies, where their inputs live, and helpers for rule inputs.
STUDIES = sorted(config["studies"])


wildcard_constraints:
    study="|".join(STUDIES),


def study_input(wildcards):
    """The raw export a study reads: the synthetic twin by default, or the user's own file."""
    return config["studies"][wildcards.study]["input"]


def study_codebook(wildcards):
    return config["studies"][wildcards.study]["codebook"]
