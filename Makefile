# `make test` and `make demo` are the two commands a new user needs (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INTEGRATIONS := $(patsubst %/pyproject.toml,%,$(wildcard integrations/*/pyproject.toml))
# holdall-zenml goes in without ZenML, whose pins (SQLAlchemy, pydantic, click ...) would move
# the test tools' own: its tests install ZenML into fresh environments of their own.
WITHOUT_DEPS := integrations/zenml
WITH_DEPS := $(filter-out $(WITHOUT_DEPS),$(INTEGRATIONS))
LINTED := holdall integrations tests benchmarks examples tools
# Azurite, Azure's own storage emulator, for the azure tests: from the npm registry into a
# folder git ignores. Pinned: 3.37.0 runs on Node 20; later releases may ask for newer Node.
AZURITE_VERSION := 3.37.0
AZURITE := .emulators/azurite/.installed
# s3rver, for the ZenML benchmark: an S3 server that serves a range without reading the
# whole object again (moto does). Pinned: 3.7.1 is its last release.
S3RVER_VERSION := 3.7.1
S3RVER := .emulators/s3rver/.installed

.PHONY: test lint typecheck pytest demo bench bench-install bench-zenml wheels catalogue clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The core and every integration in the tree, editable, with the test tools.
$(VENV)/.test-installed: $(BIN)/python setup.cfg requirements-test.txt $(addsuffix /pyproject.toml,$(INTEGRATIONS))
	$(BIN)/pip install --quiet -e . $(addprefix -e ,$(WITH_DEPS)) -r requirements-test.txt
	$(BIN)/pip install --quiet --no-deps $(addprefix -e ,$(WITHOUT_DEPS))
	touch $@

test: lint typecheck pytest

lint: $(VENV)/.test-installed
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

# Test processes: more than the 2 cores CI has, for most tests wait rather than compute.
# Tests that share one expensive environment (ZenML's) stay in one process (xdist_group).
PYTEST_WORKERS ?= 3

pytest: $(VENV)/.test-installed $(AZURITE)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

$(AZURITE):
	npm install --silent --no-audit --no-fund --prefix $(dir $@) azurite@$(AZURITE_VERSION)
	touch $@

$(VENV)/.core-installed: $(BIN)/python setup.cfg
	$(BIN)/pip install --quiet -e .
	touch $@

demo: $(VENV)/.core-installed
	$(BIN)/python examples/quickstart.py

# Every benchmark runs; then it exits non-zero if any missed its target.
bench: $(VENV)/.test-installed $(AZURITE)
	$(BIN)/python -m benchmarks

# Fresh environments, installs from the package registry: minutes, and the network.
bench-install: $(VENV)/.test-installed
	$(BIN)/python -m benchmarks.install_time

# ZenML in a fresh environment, its own S3 store beside the holdall-backed one: minutes.
bench-zenml: $(VENV)/.test-installed $(S3RVER)
	$(BIN)/python -m benchmarks.zenml_s3

$(S3RVER):
	npm install --silent --no-audit --no-fund --prefix $(dir $@) s3rver@$(S3RVER_VERSION)
	touch $@

# flavors.yaml, from the integrations' project files and classes (a test fails when stale).
catalogue: $(VENV)/.test-installed
	$(BIN)/python tools/catalogue.py

# One wheel per distribution: the core and each integration (for --find-links installs).
wheels: $(BIN)/python
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir dist . $(INTEGRATIONS)

clean:
	rm -rf $(VENV) dist build *.egg-info
