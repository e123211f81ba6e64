# The verbs of this repository. `make up` and `make test` are the two commands
# a new machine needs; everything they need they install.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: up down status test test-unit lint format clean bench

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

## up: start the local platform in the background and wait until it is ready
up: $(STAMP)
	$(PY) -m cnop_platform.local up

## down: stop exactly what `make up` started
down:
	@if [ -x $(PY) ]; then $(PY) -m cnop_platform.local down; fi

## status: what is running where
status: $(STAMP)
	$(PY) -m cnop_platform.local status

## test: the whole suite; the fixtures start and stop the servers it needs
test: $(STAMP)
	$(PY) -m pytest

## test-unit: only the tests that need no server
test-unit: $(STAMP)
	$(PY) -m pytest -m unit

## lint: ruff (check + format) and mypy on all code
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

## bench: gateway vs backend vs nginx auth_request (figures; see docs/performance.md)
bench: $(STAMP)
	@command -v nginx >/dev/null && command -v wrk >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk; }
	$(PY) loadtests/bench/gateway_bench.py

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean: down
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
