"""Weekly long/short mean reversion across the bundled S&P 500, NASDAQ and GOOG daily series.

The strategy is :class:`quantstrata.strategy.examples.ReversionPipeline`, re-exported here so
``quantstrata pipeline examples/mean_reversion_pipeline.py`` finds it::

    python examples/mean_reversion_pipeline.py
    quantstrata pipeline examples/mean_reversion_pipeline.py --data SPX,IXIC,GOOG
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.data.samples import load_sample
from quantstrata.strategy.examples import ReversionPipeline

__all__ = ["ReversionPipeline"]

SAMPLES = ("SPX_1d", "IXIC_1d", "GOOG_1d")


def main() -> None:
    """Each Friday, buy last week's laggards and short its leaders, dollar neutral; report."""
    frames = [load_sample(name) for name in SAMPLES]
    bars = pl.concat(frames, how="diagonal_relaxed").sort("ts", "symbol")
    strategy = ReversionPipeline(window=5, gross=1.0, calendar="XNYS")
    print(strategy.pipeline().run(bars).filter("rebalance").tail(3))
    result = Backtest(bars, strategy, BacktestConfig(calendar="XNYS")).run()
    print(result.summary())
    folder = Path(tempfile.mkdtemp(prefix="quantstrata-example-"))
    print(f"report: {result.to_html(folder / 'mean_reversion_pipeline.html')}")


if __name__ == "__main__":
    main()
