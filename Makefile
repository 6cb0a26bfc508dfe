# Qilin (麒麟) — `make help` lists the targets.
# Everything a fresh machine needs is installed here, never by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help setup run demo test lint typecheck format bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python >= 3.11 is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) ## create .venv and install Qilin with pinned dependencies

run: $(STAMP) ## set up, migrate ./var/qilin.sqlite3, load the demo on first run, print the registry summary
	$(BIN)/qilin run

demo: $(STAMP) ## (re)build the demo data in the configured database
	$(BIN)/qilin demo

lint: $(STAMP) ## ruff on src and tests
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP) ## mypy (strict) on src
	$(BIN)/mypy src

test: $(STAMP) ## set up and run ruff, mypy and the whole test suite (SQLite and PostgreSQL)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/pytest

format: $(STAMP) ## format the code with ruff
	$(BIN)/ruff format src tests bench

bench: $(STAMP) ## run the benchmarks (prints figures; slow)
	$(BIN)/python bench/import_bench.py

clean: ## remove .venv, ./var and caches
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
