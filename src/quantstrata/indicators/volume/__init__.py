"""Volume indicators: batch functions, streaming classes and their declarations."""

from quantstrata.indicators.volume.batch import ad, adosc, mfi, obv, vwap
from quantstrata.indicators.volume.streaming import (
    AccumulationDistribution,
    ChaikinOscillator,
    MoneyFlowIndex,
    OnBalanceVolume,
    VolumeWeightedAveragePrice,
)

__all__ = [
    "AccumulationDistribution",
    "ChaikinOscillator",
    "MoneyFlowIndex",
    "OnBalanceVolume",
    "VolumeWeightedAveragePrice",
    "ad",
    "adosc",
    "mfi",
    "obv",
    "vwap",
]
