"""Run ``quantstrata optimize`` on a user's own strategy file, as a user would.

The file lives in a folder of its own (not on ``sys.path``), imports a helper module beside it,
and the command runs from another working directory: the worker processes of the default
backend and of Dask must still receive the class (pickled by value, helper included).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_HELPER = '''
"""A helper module beside the strategy file: it reaches workers only if shipped with it."""

import polars as pl


def crossing(fast: int, slow: int) -> pl.Expr:
    close = pl.col("close")
    quick = close.rolling_mean(fast).over("symbol")
    steady = close.rolling_mean(slow).over("symbol")
    return pl.when(steady.is_null()).then(None).when(quick > steady).then(1.0).otherwise(0.0)
'''

_STRATEGY = '''
"""A user's strategy file that imports its sibling module."""

import polars as pl
from pydantic import Field

from quantstrata.strategy import SignalStrategy, StrategyParameters

from my_helpers import crossing


class HelperCross(SignalStrategy):
    class Parameters(StrategyParameters):
        fast: int = Field(10, ge=2)
        slow: int = Field(40, ge=3)

    parameters: Parameters

    def warmup_bars(self) -> int:
        return self.parameters.slow - 1

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        signal = crossing(self.parameters.fast, self.parameters.slow)
        return bars.select("ts", "symbol", signal.cast(pl.Float64).alias("target"))
'''


def _strategy_folder(root: Path) -> Path:
    folder = root / "my_dir"
    folder.mkdir()
    (folder / "my_helpers.py").write_text(textwrap.dedent(_HELPER), encoding="utf-8")
    (folder / "my_strategy.py").write_text(textwrap.dedent(_STRATEGY), encoding="utf-8")
    return folder / "my_strategy.py"


def _optimize(strategy: Path, cwd: Path, *options: str) -> subprocess.CompletedProcess[str]:
    installed = shutil.which("quantstrata", path=str(Path(sys.executable).parent))
    assert installed, "the quantstrata console script is not installed next to this Python"
    return subprocess.run(
        [installed, "optimize", str(strategy), "--data", "SPX", "--from", "2014-01-01",
         "--to", "2016-01-01", "--grid", "fast=5:20:5", "--grid", "slow=30:60:10",
         "--workers", "2", "--output", str(cwd / "results.csv"), *options],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "160"},
    )  # fmt: skip


@pytest.mark.parametrize("backend", [[], ["--backend", "dask"]], ids=["default", "dask"])
def test_optimize_runs_a_strategy_file_that_imports_its_sibling_module(
    tmp_path: Path, backend: list[str]
) -> None:
    strategy = _strategy_folder(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    completed = _optimize(strategy, elsewhere, *backend)

    assert completed.returncode == 0, completed.stderr
    assert "best by sharpe" in completed.stdout
    rows = (elsewhere / "results.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + 4 * 4  # header and every (fast, slow) candidate
