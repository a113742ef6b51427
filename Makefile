# Two commands on a fresh machine:
#   make book   the virtual environment, every chapter executed (quick profile), the site in _build/html/
#   make test   every test: unit tests, notebook regression (nbval) on tests/reference/, browser test of the site
#
# Options: make book PROFILE=paper DEVICE=cuda SEED=1 DATA_ROOT=/data CHAPTERS="fig03"
#          (CHAPTERS limits execution; the site still needs an executed notebook for every chapter in _toc.yml)
#          WORKERS=N runs independent chapters on a Dask LocalCluster of N processes; SCHEDULER=tcp://host:8786
#          on an existing Dask cluster (README, "On a cluster"); either resumes: chapters that finished are kept
#          SCHEDULER=tls://host:8786 TLS_CA=ca.pem TLS_CERT=client.pem TLS_KEY=client-key.pem: the same over TLS
#          (a shared network: every connection encrypted, the client's certificate signed by the CA)
#          THREADS=T CPU threads per chapter (default 1), serial or on a cluster: the same T, the same results
# Other targets: execute (chapters only), site (HTML only, from _build/executed/<profile>/), references
# (regenerate tests/reference/*.ipynb on purpose), lint, clean (the build), distclean (also the venv),
# sensitivity (each threshold halved and doubled, from the build's stored measurements: which verdicts move;
# THRESHOLDS="NEAR_ZERO MAJORITY" limits it; the claims page shows it once the site is rebuilt).
# The published run (profile paper unless PROFILE= is given):
#   make publish         the site from published/<profile>/ (no data, no execution), each page with its provenance
#   make publish-store   copy the run in _build into published/<profile>/ (notebooks, results, measurements, manifest)
#   make restore-store   copy published/<profile>/ back into _build, so `make book` reads its measurements back
#   make store           regenerate it all: quick and paper profiles, sensitivity, claims, publish-store (resumable)

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-from-pyproject
BUILD ?= _build
PROFILE ?= quick
DEVICE ?= auto
SEED ?= 0
CHAPTERS ?=
DATA_ROOT ?=
THREADS ?= 1
WORKERS ?=
SCHEDULER ?=
TLS_CA ?=
TLS_CERT ?=
TLS_KEY ?=
PYTEST_ARGS ?=
THRESHOLDS ?=
# publish, publish-store, restore-store: the paper profile unless PROFILE is given
PUBLISH_PROFILE = $(if $(filter command line environment,$(origin PROFILE)),$(PROFILE),paper)

RUN_ARGS = --profile $(PROFILE) --device $(DEVICE) --seed $(SEED) --threads $(THREADS) --build-dir $(BUILD) \
	$(if $(DATA_ROOT),--data-root $(DATA_ROOT)) $(if $(WORKERS),--workers $(WORKERS)) \
	$(if $(SCHEDULER),--scheduler $(SCHEDULER)) $(if $(TLS_CA),--tls-ca-file $(TLS_CA)) \
	$(if $(TLS_CERT),--tls-cert $(TLS_CERT)) $(if $(TLS_KEY),--tls-key $(TLS_KEY))

.DEFAULT_GOAL := book
.PHONY: book execute site publish publish-store restore-store sensitivity store test references lint clean distclean venv

# The venv is (re)built from pyproject.toml only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -e ".[dev]"
	touch $@

venv: $(STAMP)

book: $(STAMP)
	$(PY) -m repro.runner run $(CHAPTERS) $(RUN_ARGS)
	$(PY) -m repro.runner site --profile $(PROFILE) --build-dir $(BUILD)

execute: $(STAMP)
	$(PY) -m repro.runner run $(CHAPTERS) $(RUN_ARGS)

site: $(STAMP)
	$(PY) -m repro.runner site --profile $(PROFILE) --build-dir $(BUILD)

publish: $(STAMP)
	$(PY) -m repro.runner publish --profile $(PUBLISH_PROFILE) --build-dir $(BUILD)

publish-store: $(STAMP)
	$(PY) -m repro.runner publish-store --profile $(PUBLISH_PROFILE) --build-dir $(BUILD)

restore-store: $(STAMP)
	$(PY) -m repro.runner restore-store --profile $(PUBLISH_PROFILE) --build-dir $(BUILD)

sensitivity: $(STAMP)
	$(PY) -m repro.runner sensitivity --profile $(PROFILE) --device $(DEVICE) --seed $(SEED) --threads $(THREADS) \
		--build-dir $(BUILD) $(if $(DATA_ROOT),--data-root $(DATA_ROOT)) $(if $(THRESHOLDS),--thresholds $(THRESHOLDS))

# The published store regenerated, one command, resumable (every measurement is stored as it is made, so a second
# call reads back what the first finished): the quick profile (the findings' other column), the paper profile, its
# sensitivity table, the claims page again (it shows that table), then published/paper/.
store: $(STAMP)
	$(PY) -m repro.runner run $(subst --profile $(PROFILE),--profile quick,$(RUN_ARGS))
	$(PY) -m repro.runner run $(subst --profile $(PROFILE),--profile paper,$(RUN_ARGS))
	$(MAKE) sensitivity PROFILE=paper
	$(PY) -m repro.runner run claims $(subst --profile $(PROFILE),--profile paper,$(RUN_ARGS))
	$(MAKE) publish-store PROFILE=paper

test: $(STAMP)
	$(PY) -m pytest --nbval-lax --nbval-current-env $(PYTEST_ARGS) tests

references: $(STAMP)
	$(PY) -m repro.runner references $(CHAPTERS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests book

clean:
	rm -rf $(BUILD) .pytest_cache .ruff_cache

distclean: clean
	rm -rf $(VENV)
