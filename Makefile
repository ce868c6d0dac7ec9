# Two commands for a fresh machine with python3 (3.11+), make and git:
#   make reproduce   set up .venv from requirements.lock, run the whole workflow
#   make test        the same set-up, then the test suite
#   make check       the fast unit lane (no workflow, SLURM or browser tests)
PYTHON ?= python3
VENV   ?= .venv
CORES  ?= 4
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: reproduce test check test-slurm lint benchmark clean venv

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml scripts/bootstrap.sh
	PYTHON=$(PYTHON) VENV=$(VENV) sh scripts/bootstrap.sh
	touch $@

reproduce: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

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
