"""Monthly momentum rotation over a synthetic 500-symbol universe, written as a factor pipeline.

The strategy is :class:`quantstrata.strategy.examples.MomentumPipeline`, re-exported here so
``quantstrata pipeline examples/momentum_pipeline.py`` finds it::

    python examples/momentum_pipeline.py
    quantstrata pipeline examples/momentum_pipeline.py --synthetic 500 --years 10 --param top=20
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.cli.pipeline import synthetic_universe
from quantstrata.execution import CommissionConfig
from quantstrata.strategy.examples import MomentumPipeline

__all__ = ["MomentumPipeline"]


def main() -> None:
    """Hold the 50 strongest of the 300 most liquid of 500 symbols, rebalanced each month end."""
    bars = synthetic_universe(symbols=500, years=5, seed=7)
    strategy = MomentumPipeline(lookback=126, skip=21, top=50, liquid=300)
    last = strategy.pipeline().rebalances(bars).filter(pl.col("ts") == pl.col("ts").max())
    held = last.filter(pl.col("weight") > 0.0)
    print(f"last rebalance {last['ts'][0]:%Y-%m-%d}: {held.height} symbols held")
    config = BacktestConfig(
        cash=1_000_000.0, commission=CommissionConfig(rate=0.0005), calendar="XNYS"
    )
    result = Backtest(bars, strategy, config).run()
    print(result.summary())
    folder = Path(tempfile.mkdtemp(prefix="quantstrata-example-"))
    print(f"report: {result.to_html(folder / 'momentum_pipeline.html')}")


if __name__ == "__main__":
    main()
