"""Every script in ``examples/`` runs as a user would run it and prints its metrics."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from quantstrata.cli._strategy_source import load_strategy_class
from quantstrata.data.samples import load_sample
from quantstrata.strategy.signal import SignalStrategy

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(path.name for path in EXAMPLES.glob("*.py"))


def test_the_six_examples_are_there():
    assert SCRIPTS == [
        "bollinger_zscore.py",
        "mean_reversion_pipeline.py",
        "momentum_pipeline.py",
        "momentum_rotation.py",
        "rsi_mean_reversion.py",
        "sma_cross.py",
    ]


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_and_prints_metrics_and_a_report(script: str, tmp_path: Path):
    environment = {**os.environ, "TMPDIR": str(tmp_path)}
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=tmp_path,
        env=environment,
    )
    assert completed.returncode == 0, completed.stderr
    for label in ("Sharpe ratio", "Max drawdown", "Total return", "final equity"):
        assert label in completed.stdout
    found = re.search(r"^report: (.+\.html)$", completed.stdout, re.MULTILINE)
    assert found, completed.stdout
    report = Path(found.group(1))
    assert report.is_relative_to(tmp_path)
    assert "Backtest report" in report.read_text(encoding="utf-8")


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_exposes_one_strategy_class_for_the_cli(script: str):
    strategy_class = load_strategy_class(str(EXAMPLES / script))
    assert issubclass(strategy_class, SignalStrategy)


def test_sma_cross_targets_match_pandas_rolling_means():
    strategy_class = load_strategy_class(str(EXAMPLES / "sma_cross.py"))
    bars = load_sample("SPX_1d").head(400)
    targets = strategy_class(fast=7, slow=31).compute_targets(bars)
    close = bars["close"].to_pandas()
    fast, slow = close.rolling(7).mean(), close.rolling(31).mean()
    expected = pd.Series(np.where(fast > slow, 1.0, 0.0)).where(slow.notna())
    got = targets["target"].to_pandas()
    assert got.isna().sum() == 30
    pd.testing.assert_series_equal(got, expected, check_names=False)
    assert targets["ts"].equals(bars["ts"])
    assert targets.schema["target"] == pl.Float64
