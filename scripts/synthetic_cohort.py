"""Rule synthetic_cohort: write a design's synthetic twin as a real SPSS/Stata file, and its record
(SHA-256) that marks it as the workflow's own (nenbone.io.inputs)."""

from nenbone.runner import run_rule


def main(smk, log):
    from nenbone.codebook import load_codebook
    from nenbone.io.inputs import write_twin_record
    from nenbone.io.spss_stata import write_raw
    from nenbone.synthetic import generator
    from nenbone.validation import validate

    design = smk.wildcards.design
    codebook = load_codebook(smk.input.codebook)
    raw = generator(design)(dict(smk.params.settings), dict(smk.params.study_config))
    validate(raw, codebook, source=f"synthetic twin '{design}'")
    write_raw(raw, smk.output.twin, codebook, file_label=f"nenbone synthetic twin: {codebook.title}")
    write_twin_record(smk.output.twin)
    log.info("wrote %s rows x %s variables to %s", len(raw), raw.shape[1], smk.output.twin)


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
