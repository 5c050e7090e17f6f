"""Trend indicators: batch functions, streaming classes and their declarations."""

from quantstrata.indicators.trend.batch import (
    AroonResult,
    DirectionalMovementResult,
    adx,
    aroon,
    aroonosc,
    cci,
    dmi,
    linearreg_slope,
    minus_di,
    plus_di,
    sar,
)
from quantstrata.indicators.trend.streaming import (
    Aroon,
    AroonOscillator,
    AverageDirectionalIndex,
    CommodityChannelIndex,
    DirectionalMovementIndex,
    LinearRegressionSlope,
    MinusDirectionalIndicator,
    ParabolicStopAndReverse,
    PlusDirectionalIndicator,
)

__all__ = [
    "Aroon",
    "AroonOscillator",
    "AroonResult",
    "AverageDirectionalIndex",
    "CommodityChannelIndex",
    "DirectionalMovementIndex",
    "DirectionalMovementResult",
    "LinearRegressionSlope",
    "MinusDirectionalIndicator",
    "ParabolicStopAndReverse",
    "PlusDirectionalIndicator",
    "adx",
    "aroon",
    "aroonosc",
    "cci",
    "dmi",
    "linearreg_slope",
    "minus_di",
    "plus_di",
    "sar",
]
