"""Walk-forward windows, the out-of-sample runs and the stitched equity."""

from __future__ import annotations

import polars as pl
import pytest

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.backtest.optimize import OptimizeConfig, WalkForwardConfig, optimize
from quantstrata.backtest.optimize.walkforward import (
    WalkForwardWindow,
    walk_forward,
    walk_forward_windows,
)
from quantstrata.core.errors import ConfigError
from quantstrata.data.synthetic import generate_bars
from quantstrata.strategy.examples import SmaCrossover

CONFIG = BacktestConfig(check_lookahead=False)
SERIAL = OptimizeConfig(backend="serial")
GRID = {"fast": [3, 6], "slow": [12, 24]}


def test_rolling_windows_keep_their_length_and_tile_the_test_periods() -> None:
    windows = walk_forward_windows(10, WalkForwardConfig(in_sample=4, out_of_sample=3))

    assert windows == [
        WalkForwardWindow(0, 4, 7),
        WalkForwardWindow(3, 7, 10),
    ]


def test_anchored_windows_start_at_the_first_bar_and_the_last_may_be_short() -> None:
    windows = walk_forward_windows(
        11, WalkForwardConfig(in_sample=4, out_of_sample=3, anchored=True)
    )

    assert windows == [
        WalkForwardWindow(0, 4, 7),
        WalkForwardWindow(0, 7, 10),
        WalkForwardWindow(0, 10, 11),
    ]


def test_no_out_of_sample_bars_is_an_error() -> None:
    with pytest.raises(ConfigError, match="in_sample"):
        walk_forward_windows(5, WalkForwardConfig(in_sample=5, out_of_sample=2))


@pytest.fixture(scope="module")
def bars() -> pl.DataFrame:
    return generate_bars(bars=900, seed=8)


def test_each_window_picks_its_in_sample_best_and_the_equity_is_stitched(
    bars: pl.DataFrame,
) -> None:
    walk = WalkForwardConfig(in_sample=300, out_of_sample=200)

    result = walk_forward(bars, SmaCrossover, GRID, walk, SERIAL, backtest=CONFIG)

    assert result.windows.height == 3
    times = bars["ts"]
    for number, row in enumerate(result.windows.iter_rows(named=True)):
        split = 300 + 200 * number
        in_sample = bars.slice(split - 300, 300)
        expected = optimize(in_sample, SmaCrossover, GRID, SERIAL, backtest=CONFIG)
        assert (row["fast"], row["slow"]) == (expected.best["fast"], expected.best["slow"])
        assert row["in_sample_sharpe"] == expected.frame["objective"][0]
        assert row["out_of_sample_start"] == times[split]
        # the test run: warm-up bars before the split, then the out-of-sample bars
        warmup = SmaCrossover(**expected.best).warmup_bars()
        alone = Backtest(
            bars.slice(split - warmup, warmup + 200), SmaCrossover(**expected.best), CONFIG
        ).run()
        growth = alone.equity["equity"][-1] / alone.equity["equity"][warmup - 1]
        assert row["total_return"] == pytest.approx(growth - 1.0, rel=1e-12)
    assert result.equity.height == 600
    assert result.equity["ts"].to_list() == times[300:].to_list()
    total = (1.0 + result.windows["total_return"]).product()
    assert result.equity["equity"][-1] == pytest.approx(CONFIG.cash * total, rel=1e-12)
    assert len(result.searches) == 3
