# Two entry points: `make synth` and `make test`. Each sets itself up from nothing
# (python3, node and npm are all it needs) and is a no-op for set-up already done.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
# jsii and the CDK CLI run on the Node.js pinned in package.json (jsii dropped node 20).
# .tools/bin brings uv: the venv uv makes has no pip, and the handler asset build then uses uv pip.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/.venv/bin:$(CURDIR)/.tools/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/.venv

UV := .tools/bin/uv

.PHONY: help setup asset synth test test-compat lint typecheck pytest bench mutate mutate-changed clean

help:
	@echo "make synth   synthesize the example app with the CDK CLI (templates in cdk.out/)"
	@echo "make test    lint, type-check and run the test suite"
	@echo "make test-compat  the construct tests on the lowest and the newest aws-cdk-lib"
	@echo "make bench   run the benchmarks (writes bench/RESULTS.md and bench/DAY_TWO.md)"
	@echo "make mutate  mutation testing (writes bench/MUTATION.md); MODULES=constructs JOBS=2 ..."

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: the environment may set PYTHONDONTWRITEBYTECODE, and then every test
# subprocess (packaging, import cost, cdk synth) recompiled aws-cdk-lib (aws_ec2 alone is 7.7 MB).
.venv/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --quiet --extra cli --compile-bytecode
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The handlers' Lambda asset in .build/lambda/ (handler code + the pinned cryptography wheels):
# built unless it is fresh (same pins and handler sources), a no-op then. The wheel's build
# hook (hatch_build.py) ships the same asset; a checkout's synth rebuilds it when stale.
asset: .venv/.synced
	python -m constructs_cvpn.asset_build build

setup: .venv/.synced node_modules/.installed asset

synth: setup
	rm -rf cdk.out
	cdk synth --no-notices --quiet
	python -m stacks.report cdk.out

lint: setup
	ruff check .
	ruff format --check .

typecheck: setup
	mypy

# Coverage floors: 90 % overall (measured 93 %), 92 % for the Lambda handlers (measured
# 93 %; export_config is at 100 %, the PKI's AWS error branches are the rest). A floor a few
# points under the measured figure catches untested new code without failing on noise.
# -n auto: one pytest-xdist worker per core (pytest-cov combines their data before the floors
# are checked); --dist loadgroup keeps the modules listed in tests/conftest.py on one worker.
# pytest-randomly stays on (here and in CI): every run is a new order, so a test that depends on
# another one's leftovers fails early instead of staying hidden behind one fixed order. The seed
# is in the header ("Using --randomly-seed=N"); `pytest --randomly-seed=N` repeats that order,
# `-p no:randomly` runs in file order.
pytest: setup
	pytest -n auto --dist loadgroup \
	  --cov=constructs_cvpn --cov-branch --cov-report=term:skip-covered --cov-fail-under=90
	coverage report --include='constructs_cvpn/handlers/*' --fail-under=92 | tail -n 1

test: lint typecheck pytest

# The construct's test modules against the lowest (pyproject floors) and the newest
# aws-cdk-lib, each in a throwaway venv (see .ci/compat.sh).
test-compat: setup
	bash .ci/compat.sh

bench: setup
	python bench/run.py
	python bench/day_two.py

# Mutation testing (not a gate: bench/MUTATION.md is the measure). MODULES picks groups from
# bench/mutate.py's GROUPS (default: handlers,nag,cli,testing,validation; the construct
# modules are MODULES=constructs); MUTATE_ARGS passes more, e.g. --rerun or --sample 0.5.
MODULES ?= handlers,nag,cli,testing,validation
JOBS ?= 1
mutate: setup
	python bench/mutate.py --modules $(MODULES) --jobs $(JOBS) $(MUTATE_ARGS)

# Every source file changed since SINCE (default: the commit of the last recorded run),
# whole files, no sampling.
SINCE ?= last
mutate-changed: setup
	python bench/mutate.py --changed-since $(SINCE) --jobs $(JOBS) $(MUTATE_ARGS)

clean:
	rm -rf .venv .tools node_modules cdk.out .build .pytest_cache .mypy_cache .ruff_cache .mutation
