"""The peers' side of the research suite, importing them at module level.

backtesting.py's ``optimize`` may pickle the strategy class to its worker processes, so the
class lives at module level here (imported only by the peers' setup).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import backtesting  # type: ignore[import-untyped,unused-ignore]
import numpy as np
import pandas as pd

__all__ = ["SmaCrossParameters", "backtesting_optimize", "vectorbt_broadcast"]


class SmaCrossParameters(backtesting.Strategy):  # type: ignore[misc]
    """Long while SMA(fast) > SMA(slow), flat otherwise (the backtest suite's regime cross)."""

    fast: ClassVar[int] = 10
    slow: ClassVar[int] = 30
    all_in: ClassVar[float] = math.nextafter(1.0, 0.0)

    def init(self) -> None:
        """Compute both averages once with pandas."""
        close = pd.Series(self.data.Close)
        self.fast_average = close.rolling(self.fast).mean().to_numpy()
        self.slow_average = close.rolling(self.slow).mean().to_numpy()

    def next(self) -> None:
        """Enter all-in above the crossover, close below it."""
        bar = len(self.data) - 1
        if np.isnan(self.slow_average[bar]):
            return
        long = bool(self.fast_average[bar] > self.slow_average[bar])
        if long and not self.position:
            self.buy(size=self.all_in)
        elif not long and self.position:
            self.position.close()


def backtesting_optimize(
    frame: pd.DataFrame, fast: list[int], slow: list[int], cash: float, rate: float
) -> int:
    """Run backtesting.py's grid ``optimize`` and return how many combinations it ran."""
    peer = backtesting.Backtest(
        frame,
        SmaCrossParameters,
        cash=cash,
        commission=rate,
        margin=1.0 / (1.0 + rate),
        finalize_trades=False,
    )
    _, heatmap = peer.optimize(
        fast=fast,
        slow=slow,
        constraint=lambda parameters: parameters.fast < parameters.slow,
        maximize="Sharpe Ratio",
        return_heatmap=True,
    )
    return int(heatmap.shape[0])


def vectorbt_broadcast(
    frame: pd.DataFrame, pairs: list[tuple[int, int]], cash: float, rate: float
) -> int:
    """Run every (fast, slow) pair at once with vectorbt's broadcasting; return the pair count."""
    import vectorbt as vbt

    close = frame["Close"]
    fast = vbt.MA.run(close, [pair[0] for pair in pairs], short_name="fast").ma.to_numpy()
    slow = vbt.MA.run(close, [pair[1] for pair in pairs], short_name="slow").ma.to_numpy()
    decided = ~np.isnan(slow)
    long = decided & (fast > slow)
    entries = np.zeros_like(long)
    exits = np.zeros_like(long)
    entries[1:] = long[:-1]
    exits[1:] = decided[:-1] & ~long[:-1]
    portfolio = vbt.Portfolio.from_signals(
        close,
        entries,
        exits,
        price=frame["Open"],
        fees=rate,
        init_cash=cash,
        size=np.inf,
        freq="1min",
    )
    sharpe: Any = portfolio.sharpe_ratio()
    return int(np.asarray(sharpe).shape[0])
