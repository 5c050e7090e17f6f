#!/usr/bin/env bash
# Prove the plain install: build the wheel, install it WITHOUT extras into a fresh virtual
# environment, and run what a new user runs first. `make test` installs `.[dev]`, which hides a
# missing or undeclared dependency; this does not. Needs only Python 3.11+ and the registries.
#
#   scripts/check_plain_install.sh            (PYTHON=python3.12 to choose the interpreter)
set -euo pipefail

PYTHON="${PYTHON:-python3}"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/quantstrata-plain.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

step() { printf '\n== %s\n' "$*"; }

step "build the wheel"
"$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$WORK/dist" "$REPO"
wheels=("$WORK"/dist/quantstrata-*.whl)

step "install ${wheels[0]##*/} into a fresh environment, no extras"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --upgrade pip
"$WORK/venv/bin/python" -m pip install --quiet "${wheels[0]}"
for optional in ccxt dask distributed duckdb optuna psycopg yfinance; do
    if "$WORK/venv/bin/python" -c "import $optional" 2>/dev/null; then
        echo "error: optional package $optional is installed by the plain install" >&2
        exit 1
    fi
done

# Every run starts in an empty directory, away from the source tree.
mkdir "$WORK/run"
cd "$WORK/run"
export NUMBA_CACHE_DIR="$WORK/numba-cache" COLUMNS=120
quantstrata="$WORK/venv/bin/quantstrata"

step "quantstrata --help"
"$quantstrata" --help
step "quantstrata demo"
"$quantstrata" demo
step "quantstrata backtest examples/sma_cross.py --data SPX"
"$quantstrata" backtest "$REPO/examples/sma_cross.py" --data SPX --report "$WORK/run/report.html"
step "quantstrata live examples/sma_cross.py --venue paper (a short paper run)"
"$quantstrata" live "$REPO/examples/sma_cross.py" --data SPX --venue paper \
    --start 2018-06-01 --journal "$WORK/run/paper.sqlite"

step "the plain install works"
