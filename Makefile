# The everyday commands. A fresh machine needs only python3, pip and make:
# uv is installed from PyPI when missing, then everything comes from uv.lock.
SHELL := /bin/bash
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_DISABLE_TELEMETRY := true
export UV_NO_PROGRESS := 1

UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --locked
# Three workers on two cores: a test spends part of its time waiting (dbt and storeops
# subprocesses starting, SMTP and HTTP round trips, runs waiting on each other), and a
# third worker fills it: make test measured 10 min 33 s with 2 workers and 9 min 4 s of
# pytest with 3 on the same clean clone.
PYTEST_WORKERS ?= 3

.PHONY: demo test test-spark unit integration dev lint bench clean manifest browser

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet uv

# Installed with bytecode: uv does not compile by default, and where PYTHONDONTWRITEBYTECODE
# is set (CI, containers) every Python process (each storeops run, each dbt call) compiled
# the ~13,000 modules it imports again: a tiny store's run took 45 s instead of 31 s.
.venv/.synced: pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --locked --compile-bytecode
	touch $@

# dagster-dbt reads dbt's manifest; it is built here, never committed.
manifest: .venv/.synced
	$(RUN) dagster-dbt project prepare-and-package --file orchestration/defs/dbt_project.py

## demo: generate the reference demo store in ./storeops_home and run everything
demo: manifest
	$(RUN) storeops demo

# The dashboard tests render pages in headless Chromium: Debian's package, installed
# when missing (as root, or through sudo).
SUDO := $(if $(filter 0,$(shell id -u)),,$(shell command -v sudo 2>/dev/null))
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

## test: the whole test suite (unit, integration, e2e)
# Whole files go to the workers, slowest first (tests/conftest.py orders them; xdist keeps
# that order with --no-loadscope-reorder), so the quick ones fill in at the end.
test: manifest browser
	$(RUN) pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25

## test-spark: the opt-in Spark tests (forecasting on a local Spark session); installs the
# `spark` extra (pyspark, dbt-spark) into the venv first. Needs Java 17, as on the machine.
test-spark: manifest
	$(UV) sync --locked --inexact --extra spark --compile-bytecode
	$(RUN) --extra spark pytest -m spark tests/spark

unit: .venv/.synced
	$(RUN) pytest tests/unit

integration: manifest browser
	$(RUN) pytest tests/integration tests/e2e

## dev: the Dagster UI on the demo home
dev: manifest
	$(RUN) storeops ui

lint: .venv/.synced
	$(RUN) ruff check .
	$(RUN) lint-imports

## bench: scale and quality benchmarks, results in benchmarks/results/
bench: manifest
	$(RUN) python benchmarks/ingest.py
	$(RUN) python benchmarks/warehouse.py
	$(RUN) python benchmarks/forecast.py
	$(RUN) python benchmarks/inventory_sim.py
	$(RUN) python benchmarks/reliability.py
	$(RUN) python benchmarks/churn.py

clean:
	rm -rf .venv .tools storeops_home .pytest_cache
