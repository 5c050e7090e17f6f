"""A backtest's metrics are computed when first read, and are those of its own frames."""

from __future__ import annotations

import pickle

import polars as pl

from quantstrata.analytics import MetricsConfig, compute_metrics
from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
from quantstrata.data.synthetic import generate_bars
from quantstrata.execution import CommissionConfig
from quantstrata.strategy.examples import SmaCrossover


def _result() -> BacktestResult:
    bars = generate_bars(bars=3_000, interval="1m", seed=7)
    config = BacktestConfig(commission=CommissionConfig(rate=0.001), risk_free_rate=0.02)
    return Backtest(bars, SmaCrossover(fast=10, slow=30), config).run()


def test_metrics_are_those_of_the_results_own_frames_and_kept_once_read() -> None:
    result = _result()

    first = result.metrics
    trades = result.trades.rename({"entry_ts": "entry_time", "exit_ts": "exit_time"})
    positions = result.positions.select(
        "ts", "symbol", pl.col("quantity").alias("position"), "price"
    )
    expected = compute_metrics(
        result.equity.select("ts", "equity"),
        trades=trades,
        positions=positions,
        config=MetricsConfig(risk_free_rate=0.02),
    )

    assert first.to_dict() == expected.to_dict()
    assert result.metrics is first


def test_metrics_of_a_pickled_result_equal_the_original() -> None:
    result = _result()

    copy = pickle.loads(pickle.dumps(result))

    assert copy.metrics.to_dict() == result.metrics.to_dict()
