"""Moving averages: batch functions, streaming classes and their declarations."""

from quantstrata.indicators.moving_average.batch import dema, ema, kama, sma, tema, wma
from quantstrata.indicators.moving_average.streaming import (
    DoubleExponentialMovingAverage,
    ExponentialMovingAverage,
    KaufmanAdaptiveMovingAverage,
    SimpleMovingAverage,
    TripleExponentialMovingAverage,
    WeightedMovingAverage,
)

__all__ = [
    "DoubleExponentialMovingAverage",
    "ExponentialMovingAverage",
    "KaufmanAdaptiveMovingAverage",
    "SimpleMovingAverage",
    "TripleExponentialMovingAverage",
    "WeightedMovingAverage",
    "dema",
    "ema",
    "kama",
    "sma",
    "tema",
    "wma",
]
