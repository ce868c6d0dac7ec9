# nenbone: rebuild two studies of bone metastases in neuroendocrine neoplasms, from the raw
# SPSS/Stata exports to a rendered supplement. Run: snakemake --cores 4 (profiles/default is
# picked up automatically). Config: config/config.yaml, validated by config/schema.yaml.
import sys
from pathlib import Path

import yaml
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"
configfile: "config/analysis.yaml"
configfile: "config/figures.yaml"


# The package under src/ is importable in every job, also in the conda environments of envs/ (which
# do not install it) and in SLURM jobs (sbatch passes the environment on).
PACKAGE_SRC = Path(workflow.basedir) / "src"
sys.path.insert(0, str(PACKAGE_SRC))
from nenbone.runner import expose_to_jobs
from nenbone.configcheck import check_config, check_designs

expose_to_jobs(PACKAGE_SRC)

# Strict: an unknown (misspelt) key is refused with the closest valid one; numbers given with
# --config are read as numbers. Every problem is listed at once.
with open(
    Path(workflow.basedir) / "config" / "schema.yaml", encoding="utf-8"
) as _schema:
    CONFIG_SCHEMA = yaml.safe_load(_schema)
config.update(check_config(config, CONFIG_SCHEMA))
check_designs(config, CONFIG_SCHEMA)


include: "rules/common.smk"


# Seconds-long bookkeeping: run by the controller itself, never submitted to a cluster.
localrules:
    all,
    synthetic_cohort,
    numbers,
    reproduction_check,
    replication,
    additional_cohorts,
    render_supplement,


wildcard_constraints:
    study="|".join(STUDIES),


include: "rules/data.smk"
include: "rules/analysis.smk"
include: "rules/figures.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        rules.reproduction_check.output.csv,
        rules.render_supplement.output.html,
        rules.render_supplement.output.pdf,
        FIGURE_FILES,


onsuccess:
    from nenbone.provenance import collect_rule_times

    collect_rule_times("results/benchmarks", "results/provenance/rule_times.tsv")
