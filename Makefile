# Two commands for a fresh machine with python3 (3.11+), make and git:
#   make reproduce   set up .venv from requirements.lock, run the whole workflow
#   make test        the same set-up, then the test suite
PYTHON ?= python3
VENV   ?= .venv
CORES  ?= 4
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: reproduce test test-slurm lint benchmark clean clean-private venv

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml scripts/bootstrap.sh
	PYTHON=$(PYTHON) VENV=$(VENV) sh scripts/bootstrap.sh
	touch $@

reproduce: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

test: $(STAMP)
	$(BIN)/python -m pytest

test-slurm: $(STAMP)
	bash tests/slurm/run_cluster_test.sh

lint: $(STAMP)
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile rules/

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf results .snakemake

# Everything row-level or unsuppressed the workflow made, and every log that may name patients
# (README "Privacy"). Shareable outputs (supplement, tables, figures, numbers.yml, checks) stay;
# the next run rebuilds the rest. The raw exports and the twins' folder are not touched.
PRIVATE := results/ingested results/validated results/derived results/matched results/analysis \
           results/logs .snakemake/log .snakemake/slurm_logs
clean-private:
	rm -rf $(PRIVATE)
