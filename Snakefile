# nenbone: rebuild two studies of bone metastases in neuroendocrine neoplasms, from the raw
# SPSS/Stata exports to a rendered supplement. Run: snakemake --cores 4 (profiles/default is
# picked up automatically). Config: config/config.yaml, validated by config/schema.yaml.
import sys
import time
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


# Codebooks, code meanings, config code lists and the exports' metadata, checked before any job.
from nenbone.preflight import preflight_or_exit

preflight_or_exit(config)


include: "rules/digest.smk"


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


# Wall times of this run's jobs only, outside results/ (they vary from run to run). A failed run
# removes the supplement it could not rebuild and records what failed (nenbone.provenance).
RUN_STARTED = time.time()


onsuccess:
    from nenbone.provenance import RULE_TIMES, clear_failed_run, collect_rule_times

    collect_rule_times("results/benchmarks", RULE_TIMES, since=RUN_STARTED)
    clear_failed_run()


onerror:
    from nenbone.provenance import record_failed_run

    record_failed_run(
        log,
        ["results/supplement/supplement.html", "results/supplement/supplement.pdf"],
    )
