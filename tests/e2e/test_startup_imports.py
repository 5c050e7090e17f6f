"""What a fresh interpreter loads to start: no optional client, no server, no pool.

``import quantstrata``, ``quantstrata --help``, ``quantstrata backtest --help`` and a real
backtest each run in a new process, which then lists ``sys.modules``. A plain install (no
extras) depends on the optional packages staying out; start-up time depends on the server-side
ones staying out too. Speed itself is measured by ``make bench`` (the ``startup`` suite).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Optional extras and what only the venue, the live runtime, reports or optimisation use.
NEVER_AT_START = (
    "ccxt",
    "dask",
    "distributed",
    "duckdb",
    "fastapi",
    "httpx",
    "multiprocessing.pool",
    "optuna",
    "plotly",
    "psycopg",
    "starlette",
    "uvicorn",
    "websockets",
    "yfinance",
)
#: What a run needs but the top-level import and the command table must not pay for.
HEAVY_FOR_A_RUN = ("exchange_calendars", "numba", "pandas", "polars", "pydantic")

_LIST_MODULES = """
import json, sys
{action}
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump(sorted(sys.modules), out)
"""
_RUN_CLI = """
from quantstrata.cli.app import main
code = main(sys.argv[2:])
if code != 0:
    raise SystemExit(f"quantstrata exited {{code}}")
"""


def _modules_after(action: str, arguments: list[str], tmp_path: Path) -> set[str]:
    """Run ``action`` in a fresh interpreter (cwd ``tmp_path``); return its loaded modules."""
    listing = tmp_path / "modules.json"
    completed = subprocess.run(
        [sys.executable, "-c", _LIST_MODULES.format(action=action), str(listing), *arguments],
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "160"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return set(json.loads(listing.read_text(encoding="utf-8")))


def _loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(
        package
        for package in packages
        if any(name == package or name.startswith(f"{package}.") for name in modules)
    )


def test_import_quantstrata_loads_nothing_heavy(tmp_path: Path) -> None:
    modules = _modules_after("import quantstrata", [], tmp_path)

    assert _loaded(modules, NEVER_AT_START + HEAVY_FOR_A_RUN) == []


@pytest.mark.parametrize("arguments", [["--help"], ["backtest", "--help"]])
def test_the_command_table_imports_no_command_it_does_not_run(
    arguments: list[str], tmp_path: Path
) -> None:
    modules = _modules_after(_RUN_CLI, arguments, tmp_path)

    assert _loaded(modules, NEVER_AT_START) == []
    if arguments == ["--help"]:
        assert _loaded(modules, HEAVY_FOR_A_RUN) == []
        assert sorted(name for name in modules if name.startswith("quantstrata.cli.")) == [
            "quantstrata.cli._errors",
            "quantstrata.cli._render",
            "quantstrata.cli.app",
        ]


def test_a_backtest_run_loads_no_optional_or_server_package(tmp_path: Path) -> None:
    example = REPO_ROOT / "examples" / "sma_cross.py"
    report = tmp_path / "report.html"
    arguments = ["backtest", str(example), "--data", "SPX", "--report", str(report)]

    modules = _modules_after(_RUN_CLI, arguments, tmp_path)

    assert report.is_file()
    # Plotly draws the report the run was asked to write; nothing else on the list may load.
    assert _loaded(modules, tuple(name for name in NEVER_AT_START if name != "plotly")) == []


@pytest.mark.parametrize(
    "module", ["quantstrata.data.sources.backoff", "quantstrata.live.brokers._alpaca_rest"]
)
def test_a_connectors_shared_parts_load_no_catalog_pandas_or_numba(
    module: str, tmp_path: Path
) -> None:
    # Every live connector imports the shared backoff; the Alpaca broker and feed import the
    # Alpaca settings and callers. Neither may pull in the data layer's catalog and frames.
    modules = _modules_after(f"import {module}", [], tmp_path)

    heavy = ("numba", "pandas", "quantstrata.analytics", "quantstrata.data.catalog")
    assert _loaded(modules, (*heavy, "quantstrata.process", "httpx", "alpaca")) == []
