"""A signal strategy's targets replayed through the event loop, for ``size_at="decision"``.

Sizing a target at its deciding close means sending orders at that close, which the event loop
does (:meth:`~quantstrata.backtest._event.EventBook.place_decided`); the compiled signal loop
sizes at the fill. So with ``size_at="decision"`` a signal strategy's targets, computed once
over the history as always, are set bar by bar through the event loop's context.
"""

from __future__ import annotations

import numpy as np
from typing_extensions import override

from quantstrata.strategy.context import StrategyContext
from quantstrata.strategy.event import BarSnapshot, EventStrategy
from quantstrata.strategy.signal import SignalStrategy, TargetUnit

__all__ = ["TargetReplay"]


class TargetReplay(EventStrategy):
    """Set, at each bar, the targets ``grid`` holds for it (``NaN``: no decision)."""

    def __init__(self, strategy: SignalStrategy, grid: np.ndarray, symbols: tuple[str, ...]):
        """Replay ``grid`` (bars × symbols) of ``strategy``'s targets."""
        super().__init__()
        self.strategy = strategy
        self.target_units = strategy.target_unit is TargetUnit.UNITS
        self._grid = grid
        self._symbols = symbols
        self._bar = 0

    def warmup_bars(self) -> int:
        """Return the replayed strategy's warm-up."""
        return self.strategy.warmup_bars()

    @override
    def on_start(self, context: StrategyContext) -> None:
        """Start at the first bar."""
        self._bar = 0

    @override
    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        """Set this bar's decided targets."""
        row = self._grid[self._bar]
        self._bar += 1
        for column in np.flatnonzero(~np.isnan(row)).tolist():
            context.target(self._symbols[column], float(row[column]))
