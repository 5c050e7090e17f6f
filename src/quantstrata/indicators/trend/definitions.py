"""The declarations of the trend family, collected by the registry."""

from __future__ import annotations

from quantstrata.indicators.definition import IndicatorDefinition
from quantstrata.indicators.trend.batch import (
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
from quantstrata.indicators.volatility.definitions import wilder_unstable

__all__ = ["DEFINITIONS", "adx_unstable"]

_PRICES = ("high", "low", "close")


def adx_unstable(period: int) -> int:
    """Return the ADX's unstable bars: two Wilder smoothings in series (DM/TR sums, then ADX)."""
    return 2 * wilder_unstable(period)


DEFINITIONS: tuple[IndicatorDefinition, ...] = (
    IndicatorDefinition(
        name="adx",
        batch=adx,
        streaming=AverageDirectionalIndex,
        inputs=_PRICES,
        outputs=("adx",),
        defaults={"period": 14},
        lookback=lambda period: 2 * period - 1,
        unstable=adx_unstable,
    ),
    IndicatorDefinition(
        name="plus_di",
        batch=plus_di,
        streaming=PlusDirectionalIndicator,
        inputs=_PRICES,
        outputs=("plus_di",),
        defaults={"period": 14},
        lookback=lambda period: period,
        unstable=wilder_unstable,
    ),
    IndicatorDefinition(
        name="minus_di",
        batch=minus_di,
        streaming=MinusDirectionalIndicator,
        inputs=_PRICES,
        outputs=("minus_di",),
        defaults={"period": 14},
        lookback=lambda period: period,
        unstable=wilder_unstable,
    ),
    IndicatorDefinition(
        name="dmi",
        batch=dmi,
        streaming=DirectionalMovementIndex,
        inputs=_PRICES,
        outputs=("adx", "plus_di", "minus_di"),
        defaults={"period": 14},
        lookback=lambda period: 2 * period - 1,
        unstable=adx_unstable,
    ),
    IndicatorDefinition(
        name="aroon",
        batch=aroon,
        streaming=Aroon,
        inputs=("high", "low"),
        outputs=("down", "up"),
        defaults={"period": 14},
        lookback=lambda period: period,
    ),
    IndicatorDefinition(
        name="aroonosc",
        batch=aroonosc,
        streaming=AroonOscillator,
        inputs=("high", "low"),
        outputs=("aroonosc",),
        defaults={"period": 14},
        lookback=lambda period: period,
    ),
    IndicatorDefinition(
        name="cci",
        batch=cci,
        streaming=CommodityChannelIndex,
        inputs=_PRICES,
        outputs=("cci",),
        defaults={"period": 14},
        lookback=lambda period: period - 1,
    ),
    IndicatorDefinition(
        name="sar",
        batch=sar,
        streaming=ParabolicStopAndReverse,
        inputs=("high", "low"),
        outputs=("sar",),
        defaults={"acceleration": 0.02, "maximum": 0.2},
        lookback=lambda **_: 1,
    ),
    IndicatorDefinition(
        name="linearreg_slope",
        batch=linearreg_slope,
        streaming=LinearRegressionSlope,
        inputs=("close",),
        outputs=("linearreg_slope",),
        defaults={"period": 14},
        lookback=lambda period: period - 1,
    ),
)
