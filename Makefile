# quantstrata developer entry points. Every target builds its own virtual environment from
# nothing, so a fresh clone needs only Python 3.11+ and the package registries.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP_RUNTIME := $(VENV)/.runtime-installed
STAMP_DEV     := $(VENV)/.dev-installed
STAMP_BROWSER := $(VENV)/.browser-installed
export PYTHONHASHSEED := 0
export NUMBA_CACHE_DIR := $(CURDIR)/.cache/numba
export NO_MKDOCS_2_WARNING := 1

.PHONY: demo test lint typecheck architecture unit bench docs plain-install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP_RUNTIME) $@

# Browser tests drive Debian's chromium through Playwright (no browser download from Playwright).
$(STAMP_BROWSER): | $(BIN)/python
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }
	touch $@

## demo: set up and run the main job on the bundled sample data
demo: $(STAMP_RUNTIME)
	$(BIN)/quantstrata demo

## test: set up and run every check: lint, types, layer contracts, the whole suite
test: lint typecheck architecture docs unit

lint: $(STAMP_DEV)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(STAMP_DEV)
	$(BIN)/mypy

architecture: $(STAMP_DEV)
	$(BIN)/lint-imports

## docs: build the documentation site into build/site; a warning (a broken link, a page left
## out of the navigation, a docstring mkdocstrings cannot read) fails the build.
docs: $(STAMP_DEV)
	$(BIN)/mkdocs build --strict

# Two workers (CI has two cores); a file's tests stay together, they share servers and fixtures.
unit: $(STAMP_DEV) $(STAMP_BROWSER)
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile --durations=15

## bench: speed and memory side by side with the peer libraries (not part of CI).
## pandas-ta has releases only for Python >= 3.12: `python -m bench indicators_pandas_ta` there.
BENCH_SUITES ?= data indicators indicators_pandas indicators_streaming backtest futures regression live stream research pipeline
bench: $(STAMP_DEV)
	$(BIN)/python -m bench $(BENCH_SUITES)
	$(BIN)/python -m bench.startup --runs 15
	$(BIN)/python -m bench.live_latency --bars 10000 --repeat 3 --profile
	$(BIN)/python -m bench.stream_soak --bars 10000
	$(BIN)/python -m bench.sweep_scale --bars 1000000 --combinations 1000
	$(BIN)/python -m bench.catalog_scale --sizes 10M,100M,1B --vectorbt
	$(BIN)/python -m bench.vectorbt_ratio --bars 1000000 --rounds 3
	QUANTSTRATA_CRASH_KILLS=50 $(BIN)/pytest -q -p no:cacheprovider tests/e2e/test_live_crash.py \
		tests/e2e/test_live_crash_alpaca.py

## plain-install: build the wheel, install it without extras into a fresh environment, and run
## the CLI, the demo, a backtest and a paper run there (CI runs it after `make test`).
plain-install:
	PYTHON=$(PYTHON) scripts/check_plain_install.sh

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache build dist
