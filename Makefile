# Two entry points for a fresh machine: `make demo` and `make test` (see README).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export SHAREHUB_DATA_DIR ?= $(CURDIR)/data
# `make demo HOST=0.0.0.0 PORT=8001 WORKERS=2` passes them to `sharehub demo`; SANDBOX=1 adds --sandbox.
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1

.PHONY: check-system python-deps setup demo test lint browser-deps directory-deps messages clean

# First: name any missing system package (with the apt-get line) before anything fails deep inside.
check-system:
	@PYTHON=$(PYTHON) scripts/check-system.sh

$(BIN)/python: | check-system
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Each setup step leaves a file (a stamp, or what it builds) and runs again only when its inputs are newer, so
# a second `make setup` (or `make test`) does nothing and two `make test` can run side by side after one setup.
DEPS_STAMP := $(VENV)/.installed-dev
NODE_STAMP := node_modules/.installed
ASSETS_STAMP := sharehub/web/static/vendor/.copied
MO_FILES := $(patsubst %.po,%.mo,$(wildcard sharehub/locale/*/LC_MESSAGES/django.po))

$(DEPS_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

python-deps: check-system $(DEPS_STAMP)

$(NODE_STAMP): package.json package-lock.json | check-system
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(ASSETS_STAMP): $(NODE_STAMP) scripts/assets.py | $(BIN)/python
	$(BIN)/python scripts/assets.py
	@touch $@

sharehub/locale/%/LC_MESSAGES/django.mo: sharehub/locale/%/LC_MESSAGES/django.po | $(DEPS_STAMP)
	cd sharehub && ../$(BIN)/sharehub compilemessages --verbosity 0 --locale $*

setup: python-deps $(NODE_STAMP) $(ASSETS_STAMP) $(MO_FILES)

demo: setup
	$(BIN)/sharehub demo --host $(HOST) --port $(PORT) --workers $(WORKERS)$(if $(SANDBOX), --sandbox)

browser-deps:
	@command -v chromium >/dev/null && fc-list | grep -qi wqy || scripts/install-browser.sh

# Debian's slapd for the directory sign-in tests (tests/directory), started by the tests themselves.
directory-deps:
	@command -v slapd >/dev/null || test -x /usr/sbin/slapd || scripts/install-slapd.sh

test: setup browser-deps directory-deps
	$(BIN)/pytest -q

lint: python-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sharehub makemigrations --check --dry-run

clean:
	rm -rf $(VENV) node_modules sharehub/web/static/vendor

# Search benchmark (bench/search): 200k resources on SQLite and PostgreSQL; BENCH_ARGS="--docs 5000" runs small.
.PHONY: bench-search
bench-search: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.search $(BENCH_ARGS)

# API and pages benchmark (bench/api): Sharehub against bare Django under uvicorn, wrk at 8 connections,
# on SQLite and PostgreSQL (+ Redis); BENCH_ARGS="--quick" runs in about 5 minutes, "--org generated" at 200k.
.PHONY: bench-api
bench-api: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	@command -v wrk >/dev/null || scripts/install-wrk.sh
	$(BIN)/python -m bench.api $(BENCH_ARGS)

# Data-exchange benchmark (bench/exchange): 1,000,000 records imported by `sharehub records import` against a bare
# executemany, the records API against Datasette and a bare Starlette endpoint, key lookups on an encrypted field,
# a change-feed catch-up and worker RSS, on SQLite and PostgreSQL; BENCH_ARGS="--quick" runs 50,000 rows.
.PHONY: bench-exchange
bench-exchange: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.exchange $(BENCH_ARGS)
