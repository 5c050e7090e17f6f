"""Volatility indicators: batch functions, streaming classes and their declarations."""

from quantstrata.indicators.volatility.batch import (
    BollingerBandsResult,
    DonchianResult,
    KeltnerResult,
    atr,
    bbands,
    donchian,
    keltner,
    natr,
    stddev,
    trange,
    var,
)
from quantstrata.indicators.volatility.streaming import (
    AverageTrueRange,
    BollingerBands,
    DonchianChannels,
    KeltnerChannels,
    NormalizedAverageTrueRange,
    StandardDeviation,
    TrueRange,
    Variance,
)

__all__ = [
    "AverageTrueRange",
    "BollingerBands",
    "BollingerBandsResult",
    "DonchianChannels",
    "DonchianResult",
    "KeltnerChannels",
    "KeltnerResult",
    "NormalizedAverageTrueRange",
    "StandardDeviation",
    "TrueRange",
    "Variance",
    "atr",
    "bbands",
    "donchian",
    "keltner",
    "natr",
    "stddev",
    "trange",
    "var",
]
