# One entry point for everything: `make synth`, `make test`, `make deploy`, `make destroy`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := synth

VENV := .venv
PYTHON := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1
CDK := npx --no-install cdk --no-notices
CONFIG ?=
PIPELINE ?=
CDK_CONFIG := $(if $(PIPELINE),-c pipeline=$(PIPELINE),$(if $(CONFIG),-c config=$(CONFIG),))
PLAN_CONFIG := $(if $(PIPELINE),--pipeline $(PIPELINE),$(if $(CONFIG),--config $(CONFIG),))
# This machine's pip configuration names index folders that may not exist; pip warns about each on every run.
# PYTHONWARNINGS=ignore on install: setuptools warns on every editable install that a same-named folder could
# shadow the package (constructs/tgi_sagemaker), which is how this repository is laid out on purpose.
PIP_NOISE := ^WARNING: Location '.*' is ignored
# pip install with progress: one line per package it fetches (a first set-up takes minutes), its whole output in
# <venv>/pip-install.log, and the end of that log when it fails. $(1): the venv, $(2): pip's arguments.
define pip_install
	PYTHONWARNINGS=ignore $(1)/bin/python -m pip install --disable-pip-version-check --progress-bar off $(2) 2>&1 \
	  | tee $(1)/pip-install.log \
	  | { grep --line-buffered -E '^(Collecting|Successfully installed)' | sed -u -E 's/^(.{1,100}).*/    \1/' || true; } \
	  || { grep -v "$(PIP_NOISE)" $(1)/pip-install.log | tail -25 >&2; echo "pip failed: $(1)/pip-install.log" >&2; exit 1; }
endef

.PHONY: install install-dev synth lint-templates checkov-templates plan test lint typecheck unit deploy destroy clean

# What synthesis needs (the app, the library with its command line, cfn-lint), and no test tool: `make synth`, the
# pipeline's synth step and `npx cdk ...` (cdk.json runs app.py with .venv's Python) install only this.
$(VENV)/.synth-installed: requirements.txt requirements-checks.txt constructs/pyproject.toml
	@echo "==> $(VENV): Python packages for synthesis (aws-cdk-lib, the library, cfn-lint)"
	@[ -x $(PYTHON) ] || python3 -m venv $(VENV)
	@$(call pip_install,$(VENV),--quiet --upgrade pip)
	@$(call pip_install,$(VENV),-r requirements.txt -r requirements-checks.txt)
	@touch $@

# The tests' tools and protocol peers (pytest, ruff, mypy, moto, huggingface_hub, sagemaker-core): `make test` only.
$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.synth-installed
	@echo "==> $(VENV): test tools (pytest, ruff, mypy, moto, huggingface_hub, sagemaker-core)"
	@$(call pip_install,$(VENV),-r requirements-dev.txt)
	@touch $@

.venv-checkov/.installed: requirements-checkov.txt
	@echo "==> .venv-checkov: checkov, in a venv of its own (its pins clash with the app's)"
	@[ -x .venv-checkov/bin/python ] || python3 -m venv .venv-checkov
	@$(call pip_install,.venv-checkov,--quiet --upgrade pip)
	@$(call pip_install,.venv-checkov,-r requirements-checkov.txt)
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo "==> node_modules: the pinned CDK CLI (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.synth-installed node_modules/.installed .venv-checkov/.installed

install-dev: install $(VENV)/.dev-installed

# The deploy rehearsal's Node.js packages (tests only): the AWS SDK v3 that Lambda's Node.js runtime provides to
# CDK's own functions, and the IAM policy evaluator (AGPL-3.0, a test tool: never installed by synth, never shipped).
REHEARSAL_NODE := tests/rehearsal/runtimes/nodejs tests/rehearsal/iam_simulator
REHEARSAL_INSTALLED := $(addsuffix /node_modules/.installed,$(REHEARSAL_NODE))

$(REHEARSAL_INSTALLED): %/node_modules/.installed: %/package.json %/package-lock.json
	@echo "==> $*/node_modules: the deploy rehearsal's Node.js packages (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error --prefix $*
	touch $@

## synth: synthesize the app (default: cdk.json context; CONFIG=path.yaml for a file; PIPELINE=config/pipeline.yaml
## for the pipeline and its stages), check cdk-nag findings, cfn-lint and checkov every template, print the plan
synth: install
	rm -rf cdk.out
	$(CDK) synth --quiet $(CDK_CONFIG)
	$(MAKE) --no-print-directory lint-templates plan

lint-templates:
	tgi-sagemaker check-findings cdk.out
	find cdk.out -name '*.template.json' -print0 | xargs -0 cfn-lint --ignore-checks W3005 --
	$(MAKE) --no-print-directory checkov-templates

checkov-templates:
	@# One checkov run per assembly folder, on exactly its templates: given several --directory options, checkov
	@# 3.3.30 scans the first folder once per option and never looks at the others.
	@assemblies=$$(find cdk.out -name '*.template.json' -printf '%h\n' | sort -u); \
	[ -n "$$assemblies" ] || { echo "lint-templates: no templates under cdk.out" >&2; exit 1; }; \
	status=0; \
	for assembly in $$assemblies; do \
	  echo "checkov: $$assembly"; \
	  .venv-checkov/bin/checkov $$(printf -- '--file %s ' "$$assembly"/*.template.json) \
	    --framework cloudformation --skip-download --compact --quiet || status=1; \
	done; \
	exit $$status

plan: install
	tgi-sagemaker plan $(PLAN_CONFIG)

## test: every check CI runs
test: install-dev $(REHEARSAL_INSTALLED) lint typecheck unit

lint:
	ruff check .
	ruff format --check .

typecheck:
	mypy

unit:
	pytest

## deploy / destroy: a real AWS account (run `npx cdk bootstrap` once per account and region first)
deploy: install
	$(CDK) deploy --all $(CDK_CONFIG)

destroy: install
	$(CDK) destroy --all $(CDK_CONFIG)

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
