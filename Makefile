# Qilin (麒麟) — `make help` lists the targets.
# Everything a fresh machine needs is installed here, never by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := src/qilin/web/static/vendor

# Installs the Debian packages listed in the shell variable `missing`, if any: with apt-get as root,
# otherwise it says what to install and fails.
APT_INSTALL_MISSING = if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -eq 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	  else \
	    echo "Missing Debian packages:$$missing" >&2; \
	    echo "Install them as root:  apt-get install -y --no-install-recommends$$missing" >&2; \
	    exit 1; \
	  fi; \
	fi

.DEFAULT_GOAL := help
.PHONY: help setup system-deps run demo test lint typecheck format bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt package.json package-lock.json
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python >= 3.11 is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	npm ci --no-audit --no-fund --ignore-scripts
	mkdir -p $(VENDOR)
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts.min.js
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/
	@touch $(STAMP)

setup: $(STAMP) ## create .venv with pinned dependencies, install ECharts and Swagger UI from npm into the static folder

system-deps: ## install Debian's chromium and Noto CJK fonts (browser tests) when missing
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v fc-list >/dev/null 2>&1 || missing="$$missing fontconfig"; \
	fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing="$$missing fonts-noto-cjk"; \
	$(APT_INSTALL_MISSING)

run: $(STAMP) ## set up, migrate ./var/qilin.sqlite3, build the demo on first run, serve http://127.0.0.1:8000/
	$(BIN)/qilin run

demo: $(STAMP) ## (re)build the demo data in the configured database
	$(BIN)/qilin demo

lint: $(STAMP) ## ruff on src and tests
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP) ## mypy (strict) on src
	$(BIN)/mypy src

test: system-deps $(STAMP) ## set up (with Debian's chromium + CJK fonts), run ruff, mypy, all tests (SQLite, PostgreSQL, browser)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/pytest

format: $(STAMP) ## format the code with ruff
	$(BIN)/ruff format src tests bench

bench: $(STAMP) ## run the benchmarks, installing Debian's wrk when missing (prints figures; slow)
	@missing=""; command -v wrk >/dev/null 2>&1 || missing=" wrk"; $(APT_INSTALL_MISSING)
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/web_bench.py

clean: ## remove .venv, ./var and caches
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
