"""Rule synthetic_cohort: write a design's synthetic twin as a real SPSS/Stata file."""

from nenbone.runner import run_rule


def main(smk, log):
    from nenbone.codebook import load_codebook
    from nenbone.io.spss_stata import write_raw
    from nenbone.synthetic import generator
    from nenbone.validation import validate

    design = smk.wildcards.design
    codebook = load_codebook(smk.input.codebook)
    raw = generator(design)(dict(smk.params.settings), dict(smk.params.study_config))
    validate(raw, codebook, source=f"synthetic twin '{design}'")
    write_raw(raw, smk.output[0], codebook, file_label=f"nenbone synthetic twin: {codebook.title}")
    log.info("wrote %s rows x %s variables to %s", len(raw), raw.shape[1], smk.output[0])


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
