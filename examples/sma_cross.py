"""Moving-average crossover on the S&P 500: a complete signal strategy to copy and change.

Long (1.0 of equity) while the fast simple moving average of the close is above the slow one,
flat otherwise, no decision until the slow average exists. Each target uses only bars at or
before its own bar, so the backtest's look-ahead check passes and the same class runs live.

Run it::

    python examples/sma_cross.py
    quantstrata backtest examples/sma_cross.py --param fast=20 --param slow=100
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Self

import polars as pl
from pydantic import Field, model_validator

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.core import ConfigError
from quantstrata.data.samples import load_sample
from quantstrata.strategy import SignalStrategy, StrategyParameters

__all__ = ["SmaCross"]


class SmaCross(SignalStrategy):
    """Hold the market while SMA(fast) > SMA(slow); stay flat otherwise."""

    class Parameters(StrategyParameters):
        """The two averaging windows, in bars."""

        fast: int = Field(20, ge=2, le=500, description="bars in the fast average")
        slow: int = Field(50, ge=3, le=1000, description="bars in the slow average")

        @model_validator(mode="after")
        def _fast_below_slow(self) -> Self:
            if self.fast >= self.slow:
                raise ConfigError(f"fast ({self.fast}) must be less than slow ({self.slow})")
            return self

    parameters: Parameters

    def warmup_bars(self) -> int:
        """Return the bars before the slow average exists."""
        return self.parameters.slow - 1

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Return 1.0 where the fast average is above the slow one, 0.0 below, null in warm-up."""
        close = pl.col("close")
        fast = close.rolling_mean(self.parameters.fast).over("symbol")
        slow = close.rolling_mean(self.parameters.slow).over("symbol")
        target = pl.when(slow.is_null()).then(None).when(fast > slow).then(1.0).otherwise(0.0)
        return bars.select("ts", "symbol", target.cast(pl.Float64).alias("target"))


def main() -> None:
    """Backtest the crossover on the bundled S&P 500 sample, print metrics, write the report."""
    bars = load_sample("SPX_1d")
    config = BacktestConfig(calendar="XNYS")
    result = Backtest(bars, SmaCross(fast=20, slow=50), config).run()
    print(result.summary())
    folder = Path(tempfile.mkdtemp(prefix="quantstrata-example-"))
    print(f"report: {result.to_html(folder / 'sma_cross.html')}")


if __name__ == "__main__":
    main()
