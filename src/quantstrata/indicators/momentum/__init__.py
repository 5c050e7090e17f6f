"""Momentum oscillators: batch functions, streaming classes and their declarations."""

from quantstrata.indicators.momentum.batch import (
    MACDResult,
    StochasticResult,
    StochasticRSIResult,
    cmo,
    macd,
    mom,
    roc,
    rsi,
    stoch,
    stochrsi,
    willr,
)
from quantstrata.indicators.momentum.streaming import (
    ChandeMomentumOscillator,
    Momentum,
    MovingAverageConvergenceDivergence,
    RateOfChange,
    RelativeStrengthIndex,
    Stochastic,
    StochasticRelativeStrengthIndex,
    WilliamsR,
)

__all__ = [
    "ChandeMomentumOscillator",
    "MACDResult",
    "Momentum",
    "MovingAverageConvergenceDivergence",
    "RateOfChange",
    "RelativeStrengthIndex",
    "Stochastic",
    "StochasticRSIResult",
    "StochasticRelativeStrengthIndex",
    "StochasticResult",
    "WilliamsR",
    "cmo",
    "macd",
    "mom",
    "roc",
    "rsi",
    "stoch",
    "stochrsi",
    "willr",
]
