"""Monthly momentum rotation across three daily series: hold the strongest, equally weighted.

The strategy is :class:`quantstrata.strategy.examples.MomentumRotation`, re-exported here so
``quantstrata backtest examples/momentum_rotation.py`` finds it. It needs several symbols::

    python examples/momentum_rotation.py
    quantstrata backtest examples/momentum_rotation.py -d SPX -d IXIC -d GOOG --param top=1
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.data.samples import load_sample
from quantstrata.strategy.examples import MomentumRotation

__all__ = ["MomentumRotation"]

SAMPLES = ("SPX_1d", "IXIC_1d", "GOOG_1d")


def main() -> None:
    """Rotate monthly into the best of S&P 500, NASDAQ and GOOG by 3-month return; report."""
    frames = [load_sample(name) for name in SAMPLES]
    bars = pl.concat(frames, how="diagonal_relaxed").sort("ts", "symbol")
    strategy = MomentumRotation(lookback=63, top=1, calendar="XNYS")
    result = Backtest(bars, strategy, BacktestConfig(calendar="XNYS")).run()
    print(result.summary())
    folder = Path(tempfile.mkdtemp(prefix="quantstrata-example-"))
    print(f"report: {result.to_html(folder / 'momentum_rotation.html')}")


if __name__ == "__main__":
    main()
