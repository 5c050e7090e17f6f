"""Moving averages: batch functions, streaming classes and their declarations."""

from quantstrata.indicators.moving_average.batch import ema, sma
from quantstrata.indicators.moving_average.streaming import (
    ExponentialMovingAverage,
    SimpleMovingAverage,
)

__all__ = ["ExponentialMovingAverage", "SimpleMovingAverage", "ema", "sma"]
