# Two entry points for a fresh machine: `make demo` and `make test` (see README).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export SHAREHUB_DATA_DIR ?= $(CURDIR)/data

.PHONY: setup demo test lint browser-deps messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python scripts/assets.py
	cd sharehub && ../$(BIN)/sharehub compilemessages --verbosity 0

demo: setup
	$(BIN)/sharehub demo

browser-deps:
	@command -v chromium >/dev/null && fc-list | grep -qi wqy || scripts/install-browser.sh

test: setup browser-deps
	$(BIN)/pytest -q

lint:
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
