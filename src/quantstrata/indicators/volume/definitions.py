"""The declarations of the volume family, collected by the registry."""

from __future__ import annotations

from quantstrata.indicators.definition import IndicatorDefinition, decay_bars
from quantstrata.indicators.volume.batch import ad, adosc, mfi, obv, vwap
from quantstrata.indicators.volume.streaming import (
    AccumulationDistribution,
    ChaikinOscillator,
    MoneyFlowIndex,
    OnBalanceVolume,
    VolumeWeightedAveragePrice,
)

__all__ = ["DEFINITIONS"]

_OHLCV = ("high", "low", "close", "volume")


def _adosc_unstable(fast_period: int, slow_period: int) -> int:
    return decay_bars(2.0 / (max(fast_period, slow_period) + 1.0))


DEFINITIONS: tuple[IndicatorDefinition, ...] = (
    IndicatorDefinition(
        name="obv",
        batch=obv,
        streaming=OnBalanceVolume,
        inputs=("close", "volume"),
        outputs=("obv",),
        defaults={},
        lookback=lambda: 0,
    ),
    IndicatorDefinition(
        name="ad",
        batch=ad,
        streaming=AccumulationDistribution,
        inputs=_OHLCV,
        outputs=("ad",),
        defaults={},
        lookback=lambda: 0,
    ),
    IndicatorDefinition(
        name="adosc",
        batch=adosc,
        streaming=ChaikinOscillator,
        inputs=_OHLCV,
        outputs=("adosc",),
        defaults={"fast_period": 3, "slow_period": 10},
        lookback=lambda fast_period, slow_period: max(fast_period, slow_period) - 1,
        unstable=_adosc_unstable,
    ),
    IndicatorDefinition(
        name="mfi",
        batch=mfi,
        streaming=MoneyFlowIndex,
        inputs=_OHLCV,
        outputs=("mfi",),
        defaults={"period": 14},
        lookback=lambda period: period,
    ),
    IndicatorDefinition(
        name="vwap",
        batch=vwap,
        streaming=VolumeWeightedAveragePrice,
        inputs=(*_OHLCV, "ts"),
        outputs=("vwap",),
        defaults={"timezone": "UTC"},
        lookback=lambda **_: 0,
    ),
)
