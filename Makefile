# Two commands for a fresh machine with python3 (3.11+), make and git:
#   make reproduce   set up .venv from requirements.lock, run the whole workflow
#   make test        the same set-up, then the test suite
#   make check       the fast unit lane (no workflow, SLURM or browser tests)
PYTHON ?= python3
VENV   ?= .venv
CORES  ?= 4
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: reproduce test check test-slurm lint benchmark clean clean-private venv verify manifest codecheck

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml scripts/bootstrap.sh
	PYTHON=$(PYTHON) VENV=$(VENV) sh scripts/bootstrap.sh
	touch $@

reproduce: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

# A reviewer's check: rerun everything in a scratch copy, compare with manifest.json, cross-check
# the survival numbers in R, certificate in results/verify/ (exit status 1 on any difference).
verify: $(STAMP)
	$(BIN)/python tools/verify.py --cores $(CORES)

# The authors' claim: regenerate manifest.json on purpose from a fresh run, then commit it.
manifest: $(STAMP)
	$(BIN)/python tools/verify.py --manifest --cores $(CORES)

# codecheck.yml from the workflow's outputs (regenerate when rules or outputs change).
codecheck: $(STAMP)
	$(BIN)/python tools/codecheck.py

test: $(STAMP)
	$(BIN)/python -m pytest

check: $(STAMP)
	$(BIN)/python -m pytest -q -m "not integration and not slurm and not browser and not slow"

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
