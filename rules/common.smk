# Shared definitions: the studies, where their inputs live, and helpers for rule inputs.
STUDIES = sorted(config["studies"])


def study_input(wildcards):
    """The raw export a study reads: the synthetic twin by default, or the user's own file."""
    return config["studies"][wildcards.study]["input"]


def study_codebook(wildcards):
    return config["studies"][wildcards.study]["codebook"]


def hashed_inputs(wildcards):
    """Files the results depend on that no job makes (raw exports, codebooks, config, published numbers)."""
    files = [config["studies"][s]["input"] for s in STUDIES]
    files += [config["studies"][s]["codebook"] for s in STUDIES]
    files += ["config/config.yaml", "config/analysis.yaml", "config/schema.yaml"]
    files += expand("resources/published/{study}.yaml", study=STUDIES)
    return sorted(set(files))
