# The everyday commands. A fresh machine needs only python3, pip and make:
# uv is installed from PyPI when missing, then everything comes from uv.lock.
SHELL := /bin/bash
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_DISABLE_TELEMETRY := true
export UV_NO_PROGRESS := 1

UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --locked
PYTEST_WORKERS ?= 2

.PHONY: demo test unit integration dev lint bench clean manifest

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked
	touch $@

# dagster-dbt reads dbt's manifest; it is built here, never committed.
manifest: .venv/.synced
	$(RUN) dagster-dbt project prepare-and-package --file orchestration/defs/dbt_project.py

## demo: generate the reference demo store in ./storeops_home and run everything
demo: manifest
	$(RUN) storeops demo

## test: the whole test suite (unit, integration, e2e)
test: manifest
	$(RUN) pytest -n $(PYTEST_WORKERS) --dist loadfile

unit: .venv/.synced
	$(RUN) pytest tests/unit

integration: manifest
	$(RUN) pytest tests/integration tests/e2e

## dev: the Dagster UI on the demo home
dev: manifest
	$(RUN) storeops ui

lint: .venv/.synced
	$(RUN) ruff check .

## bench: scale and quality benchmarks, results in benchmarks/results/
bench: manifest
	$(RUN) python benchmarks/ingest.py
	$(RUN) python benchmarks/warehouse.py
	$(RUN) python benchmarks/forecast.py
	$(RUN) python benchmarks/inventory_sim.py

clean:
	rm -rf .venv .tools storeops_home .pytest_cache
