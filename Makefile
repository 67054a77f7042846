# Two entry points for a fresh machine: `make demo` and `make test` (see README).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export SHAREHUB_DATA_DIR ?= $(CURDIR)/data
# `make demo HOST=0.0.0.0 PORT=8001 WORKERS=2` passes them to `sharehub demo`.
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1

.PHONY: check-system python-deps setup demo test lint browser-deps messages clean

# First: name any missing system package (with the apt-get line) before anything fails deep inside.
check-system:
	@PYTHON=$(PYTHON) scripts/check-system.sh

$(BIN)/python: | check-system
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

python-deps: check-system $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'

setup: python-deps
	npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python scripts/assets.py
	cd sharehub && ../$(BIN)/sharehub compilemessages --verbosity 0

demo: setup
	$(BIN)/sharehub demo --host $(HOST) --port $(PORT) --workers $(WORKERS)

browser-deps:
	@command -v chromium >/dev/null && fc-list | grep -qi wqy || scripts/install-browser.sh

test: setup browser-deps
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
