"""The declarations of the moving-average family, collected by the registry."""

from __future__ import annotations

from quantstrata.indicators.definition import (
    SEED_WEIGHT_TOLERANCE,
    IndicatorDefinition,
    decay_bars,
)
from quantstrata.indicators.moving_average.batch import (
    dema,
    ema,
    ema_smoothing,
    kama,
    kama_unstable_bars,
    sma,
    tema,
    wma,
)
from quantstrata.indicators.moving_average.streaming import (
    DoubleExponentialMovingAverage,
    ExponentialMovingAverage,
    KaufmanAdaptiveMovingAverage,
    SimpleMovingAverage,
    TripleExponentialMovingAverage,
    WeightedMovingAverage,
)

__all__ = ["DEFINITIONS"]


def _chained_ema_unstable(period: int, depth: int, weight_sum: float) -> int:
    """Return the bars for ``depth`` chained EMAs to forget their seeds.

    Each stage forgets its own seed (and what it inherited) within ``decay_bars`` at a tolerance
    divided by the sum of the absolute output coefficients (3 for DEMA, 7 for TEMA), so the
    combined output's start-up weighs less than :data:`SEED_WEIGHT_TOLERANCE`.
    """
    smoothing = ema_smoothing(period)
    return depth * decay_bars(smoothing, SEED_WEIGHT_TOLERANCE / weight_sum)


DEFINITIONS: tuple[IndicatorDefinition, ...] = (
    IndicatorDefinition(
        name="sma",
        batch=sma,
        streaming=SimpleMovingAverage,
        inputs=("close",),
        outputs=("sma",),
        defaults={"period": 30},
        lookback=lambda period: period - 1,
    ),
    IndicatorDefinition(
        name="ema",
        batch=ema,
        streaming=ExponentialMovingAverage,
        inputs=("close",),
        outputs=("ema",),
        defaults={"period": 30},
        lookback=lambda period: period - 1,
        unstable=lambda period: decay_bars(ema_smoothing(period)),
    ),
    IndicatorDefinition(
        name="wma",
        batch=wma,
        streaming=WeightedMovingAverage,
        inputs=("close",),
        outputs=("wma",),
        defaults={"period": 30},
        lookback=lambda period: period - 1,
    ),
    IndicatorDefinition(
        name="dema",
        batch=dema,
        streaming=DoubleExponentialMovingAverage,
        inputs=("close",),
        outputs=("dema",),
        defaults={"period": 30},
        lookback=lambda period: 2 * (period - 1),
        unstable=lambda period: _chained_ema_unstable(period, depth=2, weight_sum=3.0),
    ),
    IndicatorDefinition(
        name="tema",
        batch=tema,
        streaming=TripleExponentialMovingAverage,
        inputs=("close",),
        outputs=("tema",),
        defaults={"period": 30},
        lookback=lambda period: 3 * (period - 1),
        unstable=lambda period: _chained_ema_unstable(period, depth=3, weight_sum=7.0),
    ),
    IndicatorDefinition(
        name="kama",
        batch=kama,
        streaming=KaufmanAdaptiveMovingAverage,
        inputs=("close",),
        outputs=("kama",),
        defaults={"period": 30},
        lookback=lambda period: period if period > 1 else 0,
        unstable=kama_unstable_bars,
    ),
)
