"""The declarations of the volatility family, collected by the registry."""

from __future__ import annotations

from quantstrata.indicators.definition import IndicatorDefinition, decay_bars
from quantstrata.indicators.volatility.batch import (
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

__all__ = ["DEFINITIONS", "wilder_unstable"]

_PRICES = ("high", "low", "close")
_BANDS = ("upper", "middle", "lower")


def wilder_unstable(period: int) -> int:
    """Return the bars after which a Wilder-smoothed seed (factor ``1/period``) has decayed."""
    return decay_bars(1.0 / period)


DEFINITIONS: tuple[IndicatorDefinition, ...] = (
    IndicatorDefinition(
        name="trange",
        batch=trange,
        streaming=TrueRange,
        inputs=_PRICES,
        outputs=("trange",),
        defaults={},
        lookback=lambda: 1,
    ),
    IndicatorDefinition(
        name="atr",
        batch=atr,
        streaming=AverageTrueRange,
        inputs=_PRICES,
        outputs=("atr",),
        defaults={"period": 14},
        lookback=lambda period: period,
        unstable=wilder_unstable,
    ),
    IndicatorDefinition(
        name="natr",
        batch=natr,
        streaming=NormalizedAverageTrueRange,
        inputs=_PRICES,
        outputs=("natr",),
        defaults={"period": 14},
        lookback=lambda period: period,
        unstable=wilder_unstable,
    ),
    IndicatorDefinition(
        name="var",
        batch=var,
        streaming=Variance,
        inputs=("close",),
        outputs=("var",),
        defaults={"period": 5},
        lookback=lambda period: period - 1,
    ),
    IndicatorDefinition(
        name="stddev",
        batch=stddev,
        streaming=StandardDeviation,
        inputs=("close",),
        outputs=("stddev",),
        defaults={"period": 5, "deviations": 1.0},
        lookback=lambda period, **_: period - 1,
    ),
    IndicatorDefinition(
        name="bbands",
        batch=bbands,
        streaming=BollingerBands,
        inputs=("close",),
        outputs=_BANDS,
        defaults={"period": 20, "deviations_up": 2.0, "deviations_down": 2.0},
        lookback=lambda period, **_: period - 1,
    ),
    IndicatorDefinition(
        name="donchian",
        batch=donchian,
        streaming=DonchianChannels,
        inputs=("high", "low"),
        outputs=_BANDS,
        defaults={"period": 20},
        lookback=lambda period: period - 1,
    ),
    IndicatorDefinition(
        name="keltner",
        batch=keltner,
        streaming=KeltnerChannels,
        inputs=_PRICES,
        outputs=_BANDS,
        defaults={"period": 20, "atr_period": 10, "multiplier": 2.0},
        lookback=lambda period, atr_period, **_: max(period - 1, atr_period),
        unstable=lambda period, atr_period, **_: max(
            decay_bars(2.0 / (period + 1)), wilder_unstable(atr_period)
        ),
    ),
)
