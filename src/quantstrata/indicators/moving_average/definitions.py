"""The declarations of the moving-average family, collected by the registry."""

from __future__ import annotations

from quantstrata.indicators.definition import IndicatorDefinition, decay_bars
from quantstrata.indicators.moving_average.batch import ema, ema_smoothing, sma
from quantstrata.indicators.moving_average.streaming import (
    ExponentialMovingAverage,
    SimpleMovingAverage,
)

__all__ = ["DEFINITIONS"]

DEFINITIONS: tuple[IndicatorDefinition, ...] = (
    IndicatorDefinition(
        name="sma",
        batch=sma,
        streaming=SimpleMovingAverage,
        inputs=("close",),
        outputs=("sma",),
        defaults={"period": 30},
        lookback=lambda period: period - 1,
    ),
    IndicatorDefinition(
        name="ema",
        batch=ema,
        streaming=ExponentialMovingAverage,
        inputs=("close",),
        outputs=("ema",),
        defaults={"period": 30},
        lookback=lambda period: period - 1,
        unstable=lambda period: decay_bars(ema_smoothing(period)),
    ),
)
