"""The declarations of the momentum family, collected by the registry."""

from __future__ import annotations

from quantstrata.indicators.definition import IndicatorDefinition, decay_bars
from quantstrata.indicators.momentum.batch import (
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

__all__ = ["DEFINITIONS"]


def _wilder_unstable(period: int) -> int:
    """Return the bars for Wilder's smoothing (factor ``1 / period``) to forget its seed."""
    return decay_bars(1.0 / period)


def _macd_lookback(fast_period: int, slow_period: int, signal_period: int) -> int:
    """Return TA-Lib's MACD lookback: the slower EMA's plus the signal EMA's."""
    return max(fast_period, slow_period) - 1 + signal_period - 1


def _macd_unstable(fast_period: int, slow_period: int, signal_period: int) -> int:
    """Return the bars for the slower EMA, then the signal EMA, to forget their seeds."""
    slowest = max(fast_period, slow_period)
    return decay_bars(2.0 / (slowest + 1)) + decay_bars(2.0 / (signal_period + 1))


DEFINITIONS: tuple[IndicatorDefinition, ...] = (
    IndicatorDefinition(
        name="rsi",
        batch=rsi,
        streaming=RelativeStrengthIndex,
        inputs=("close",),
        outputs=("rsi",),
        defaults={"period": 14},
        lookback=lambda period: period,
        unstable=_wilder_unstable,
    ),
    IndicatorDefinition(
        name="macd",
        batch=macd,
        streaming=MovingAverageConvergenceDivergence,
        inputs=("close",),
        outputs=("macd", "signal", "histogram"),
        defaults={"fast_period": 12, "slow_period": 26, "signal_period": 9},
        lookback=_macd_lookback,
        unstable=_macd_unstable,
    ),
    IndicatorDefinition(
        name="cmo",
        batch=cmo,
        streaming=ChandeMomentumOscillator,
        inputs=("close",),
        outputs=("cmo",),
        defaults={"period": 14},
        lookback=lambda period: period,
        unstable=_wilder_unstable,
    ),
    IndicatorDefinition(
        name="mom",
        batch=mom,
        streaming=Momentum,
        inputs=("close",),
        outputs=("mom",),
        defaults={"period": 10},
        lookback=lambda period: period,
    ),
    IndicatorDefinition(
        name="roc",
        batch=roc,
        streaming=RateOfChange,
        inputs=("close",),
        outputs=("roc",),
        defaults={"period": 10},
        lookback=lambda period: period,
    ),
    IndicatorDefinition(
        name="stoch",
        batch=stoch,
        streaming=Stochastic,
        inputs=("high", "low", "close"),
        outputs=("slow_k", "slow_d"),
        defaults={"fast_k_period": 5, "slow_k_period": 3, "slow_d_period": 3},
        lookback=lambda fast_k_period, slow_k_period, slow_d_period: (
            fast_k_period + slow_k_period + slow_d_period - 3
        ),
    ),
    IndicatorDefinition(
        name="stochrsi",
        batch=stochrsi,
        streaming=StochasticRelativeStrengthIndex,
        inputs=("close",),
        outputs=("fast_k", "fast_d"),
        defaults={"period": 14, "fast_k_period": 5, "fast_d_period": 3},
        lookback=lambda period, fast_k_period, fast_d_period: (
            period + fast_k_period + fast_d_period - 2
        ),
        unstable=lambda period, **_: _wilder_unstable(period),
    ),
    IndicatorDefinition(
        name="willr",
        batch=willr,
        streaming=WilliamsR,
        inputs=("high", "low", "close"),
        outputs=("willr",),
        defaults={"period": 14},
        lookback=lambda period: period - 1,
    ),
)
