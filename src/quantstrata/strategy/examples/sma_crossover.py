"""Moving-average crossover, written as a signal strategy and as two event strategies.

All give the same targets on the same bars (the test suite drives the event versions bar by bar
and compares; the event version reads averages it declares, :class:`StreamingSmaCrossover`
updates its own): long while the fast simple moving average of the close is above the slow one,
flat (or short, with ``allow_short``) otherwise, no decision until the slow average exists.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import polars as pl
from pydantic import Field, model_validator
from typing_extensions import override

from quantstrata.core import ConfigError
from quantstrata.indicators import SimpleMovingAverage, warmup_bars
from quantstrata.strategy import (
    BarSnapshot,
    EventStrategy,
    IndicatorHandle,
    SignalStrategy,
    StrategyContext,
    StrategyParameters,
    sma_crossover_targets,
    targets_per_symbol,
)

__all__ = ["EventSmaCrossover", "SmaCrossover", "StreamingSmaCrossover"]


class SmaCrossover(SignalStrategy):
    """Hold 1.0 of equity while SMA(fast) > SMA(slow); otherwise 0 (or -1 with ``allow_short``)."""

    class Parameters(StrategyParameters):
        """The two windows, and whether to go short below the crossover."""

        fast: int = Field(10, ge=2, le=500, description="bars in the fast average")
        slow: int = Field(30, ge=2, le=1000, description="bars in the slow average")
        allow_short: bool = Field(
            default=False, description="hold -1.0 instead of 0 when fast <= slow"
        )

        @model_validator(mode="after")
        def _fast_below_slow(self) -> Self:
            if self.fast >= self.slow:
                raise ConfigError(f"fast ({self.fast}) must be less than slow ({self.slow})")
            return self

    parameters: Parameters

    def warmup_bars(self) -> int:
        """Return the bars before the slow average exists."""
        return warmup_bars("sma", period=self.parameters.slow)

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Return each bar's target from the two averages of its own symbol's closes."""
        return targets_per_symbol(bars, self._symbol_targets)

    def _symbol_targets(self, bars: pl.DataFrame) -> np.ndarray:
        """Compare ``sma(close, fast)`` with ``sma(close, slow)`` in one compiled pass."""
        return sma_crossover_targets(
            bars.get_column("close"),
            self.parameters.fast,
            self.parameters.slow,
            below=-1.0 if self.parameters.allow_short else 0.0,
        )


class EventSmaCrossover(EventStrategy):
    """The same crossover as callbacks, reading averages it declares once in ``on_start``.

    The backtester computes declared indicators in batch and the live runtime streams them, with
    the same values (see :meth:`~quantstrata.strategy.StrategyContext.indicator`), so ``on_bar``
    only compares two numbers per symbol.
    """

    Parameters = SmaCrossover.Parameters
    parameters: SmaCrossover.Parameters
    _averages: tuple[tuple[str, IndicatorHandle, IndicatorHandle], ...]
    _below: float

    def warmup_bars(self) -> int:
        """Return the bars before the slow average exists."""
        return warmup_bars("sma", period=self.parameters.slow)

    @override
    def on_start(self, context: StrategyContext) -> None:
        """Declare both averages of every symbol."""
        fast, slow = self.parameters.fast, self.parameters.slow
        self._below = -1.0 if self.parameters.allow_short else 0.0
        self._averages = tuple(
            (
                symbol,
                context.indicator("sma", symbol, period=fast),
                context.indicator("sma", symbol, period=slow),
            )
            for symbol in context.symbols
        )

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:  # noqa: ARG002
        """Set each symbol's target once its slow average exists.

        Averages hold their value while a symbol has no bar, so its target repeats (a no-op).
        """
        below = self._below
        for symbol, fast, slow in self._averages:
            if slow.ready:
                context.target(symbol, 1.0 if fast.value > slow.value else below)


class StreamingSmaCrossover(EventStrategy):
    """The same crossover again, updating its own streaming averages in ``on_bar``."""

    Parameters = SmaCrossover.Parameters
    parameters: SmaCrossover.Parameters
    _averages: dict[str, tuple[SimpleMovingAverage, SimpleMovingAverage]]

    def warmup_bars(self) -> int:
        """Return the bars before the slow average exists."""
        return warmup_bars("sma", period=self.parameters.slow)

    @override
    def on_start(self, context: StrategyContext) -> None:
        """Start every run with empty averages."""
        self._averages = {}

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        """Update each symbol's averages with its close and set its target once both exist."""
        below = -1.0 if self.parameters.allow_short else 0.0
        for symbol, bar in bars.items():
            fast, slow = self._averages_for(symbol)
            fast_value = fast.update(bar.close)
            slow_value = slow.update(bar.close)
            if slow.ready:
                context.target(symbol, 1.0 if fast_value > slow_value else below)

    def _averages_for(self, symbol: str) -> tuple[SimpleMovingAverage, SimpleMovingAverage]:
        if symbol not in self._averages:
            self._averages[symbol] = (
                SimpleMovingAverage(self.parameters.fast),
                SimpleMovingAverage(self.parameters.slow),
            )
        return self._averages[symbol]
