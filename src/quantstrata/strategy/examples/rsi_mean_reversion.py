"""RSI mean reversion: buy an oversold market, sell an overbought one, leave at the middle.

Long when the RSI falls below ``oversold`` until it rises above ``exit_level``; with
``allow_short``, short when it rises above ``overbought`` until it falls below ``exit_level``.
No decision until the RSI is past its warm-up (Wilder's smoothing remembers its start); the
first position can open on the first bar after it.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import polars as pl
from pydantic import Field, model_validator

from quantstrata.core import ConfigError
from quantstrata.indicators import rsi, warmup_bars
from quantstrata.strategy import (
    SignalStrategy,
    StrategyParameters,
    targets_from_signals,
    targets_per_symbol,
)

__all__ = ["RsiMeanReversion"]


class RsiMeanReversion(SignalStrategy):
    """Trade RSI extremes back to the middle, one symbol at a time."""

    class Parameters(StrategyParameters):
        """The RSI window and the three levels (oversold < exit_level < overbought)."""

        period: int = Field(14, ge=2, le=200, description="bars in Wilder's RSI")
        oversold: float = Field(30.0, gt=0.0, lt=100.0, description="enter long below this")
        overbought: float = Field(70.0, gt=0.0, lt=100.0, description="enter short above this")
        exit_level: float = Field(50.0, gt=0.0, lt=100.0, description="leave at this level")
        allow_short: bool = Field(default=True, description="also trade the overbought side")

        @model_validator(mode="after")
        def _levels_in_order(self) -> Self:
            if not self.oversold < self.exit_level < self.overbought:
                raise ConfigError(
                    f"levels must satisfy oversold ({self.oversold}) < exit_level "
                    f"({self.exit_level}) < overbought ({self.overbought})"
                )
            return self

    parameters: Parameters

    def warmup_bars(self) -> int:
        """Return the bars before the RSI no longer depends on where the data starts."""
        return warmup_bars("rsi", period=self.parameters.period)

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Return each bar's target from its own symbol's RSI."""
        return targets_per_symbol(bars, self._symbol_targets)

    def _symbol_targets(self, bars: pl.DataFrame) -> np.ndarray:
        levels = self.parameters
        strength = rsi(bars["close"].to_numpy(), levels.period)
        ready = np.arange(strength.shape[0]) >= self.warmup_bars()
        targets = targets_from_signals(
            entries=ready & (strength < levels.oversold),
            exits=strength > levels.exit_level,
            short_entries=ready & (strength > levels.overbought) if levels.allow_short else None,
            short_exits=strength < levels.exit_level,
        )
        return np.where(ready, targets, np.nan)
