"""Bollinger z-score reversion: fade a close far outside its bands, leave near the middle.

The z-score of the close over ``period`` bars is ``(close - SMA) / σ`` with the population σ
Bollinger Bands use, so ``|z| = 2`` is the close touching the usual 2σ bands. Long when
``z < -entry``, kept until ``z >= -exit``; short (with ``allow_short``) when ``z > entry``, kept
until ``z <= exit``.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import polars as pl
from pydantic import Field, model_validator

from quantstrata.core import ConfigError
from quantstrata.indicators import warmup_bars, zscore
from quantstrata.strategy import (
    SignalStrategy,
    StrategyParameters,
    targets_from_signals,
    targets_per_symbol,
)

__all__ = ["BollingerZScore"]


class BollingerZScore(SignalStrategy):
    """Mean reversion on the Bollinger z-score, one symbol at a time."""

    class Parameters(StrategyParameters):
        """The band window and the entry and exit distances in σ (exit < entry)."""

        period: int = Field(20, ge=2, le=500, description="bars in the bands")
        entry: float = Field(2.0, gt=0.0, le=10.0, description="enter beyond this many σ")
        exit: float = Field(0.0, ge=0.0, le=10.0, description="leave within this many σ")
        allow_short: bool = Field(default=True, description="also fade the upper band")

        @model_validator(mode="after")
        def _exit_inside_entry(self) -> Self:
            if self.exit >= self.entry:
                raise ConfigError(f"exit ({self.exit}) must be less than entry ({self.entry})")
            return self

    parameters: Parameters

    def warmup_bars(self) -> int:
        """Return the bars before the first full window."""
        return warmup_bars("zscore", period=self.parameters.period)

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Return each bar's target from its own symbol's z-score."""
        return targets_per_symbol(bars, self._symbol_targets)

    def _symbol_targets(self, bars: pl.DataFrame) -> np.ndarray:
        levels = self.parameters
        score = zscore(bars["close"].to_numpy(), levels.period)
        targets = targets_from_signals(
            entries=score < -levels.entry,
            exits=score >= -levels.exit,
            short_entries=(score > levels.entry) if levels.allow_short else None,
            short_exits=score <= levels.exit,
        )
        return np.where(np.isnan(score), np.nan, targets)
