"""Indicators in batch form (whole arrays, compiled) and streaming form (O(1) per value).

Batch functions are named after the indicator in lower case (``sma(close, 20)``) and accept NumPy
arrays, pandas Series or Polars Series, returning the same kind. Streaming classes
(``SimpleMovingAverage(20).update(x)``) give identical values one bar at a time.
"""

from quantstrata.indicators.definition import IndicatorDefinition, StreamingIndicator
from quantstrata.indicators.frame import IndicatorSpec, add_indicators, indicator
from quantstrata.indicators.moving_average import (
    ExponentialMovingAverage,
    SimpleMovingAverage,
    ema,
    sma,
)
from quantstrata.indicators.registry import definition, indicator_names, lookback, warmup_bars

__all__ = [
    "ExponentialMovingAverage",
    "IndicatorDefinition",
    "IndicatorSpec",
    "SimpleMovingAverage",
    "StreamingIndicator",
    "add_indicators",
    "definition",
    "ema",
    "indicator",
    "indicator_names",
    "lookback",
    "sma",
    "warmup_bars",
]
