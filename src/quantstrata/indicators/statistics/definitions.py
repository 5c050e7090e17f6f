"""The declarations of the statistics family, collected by the registry."""

from __future__ import annotations

from quantstrata.indicators.definition import IndicatorDefinition
from quantstrata.indicators.statistics.batch import (
    adf_pvalue,
    beta,
    correl,
    half_life,
    hurst,
    zscore,
)
from quantstrata.indicators.statistics.streaming import (
    AugmentedDickeyFuller,
    Beta,
    Correlation,
    HurstExponent,
    MeanReversionHalfLife,
    ZScore,
)

__all__ = ["DEFINITIONS"]

DEFINITIONS: tuple[IndicatorDefinition, ...] = (
    IndicatorDefinition(
        name="zscore",
        batch=zscore,
        streaming=ZScore,
        inputs=("close",),
        outputs=("zscore",),
        defaults={"period": 20},
        lookback=lambda period: period - 1,
    ),
    IndicatorDefinition(
        name="adf_pvalue",
        batch=adf_pvalue,
        streaming=AugmentedDickeyFuller,
        inputs=("close",),
        outputs=("adf_pvalue",),
        defaults={"period": 100, "max_lag": 1, "regression": "c", "autolag": None},
        lookback=lambda period, **_: period - 1,
    ),
    IndicatorDefinition(
        name="hurst",
        batch=hurst,
        streaming=HurstExponent,
        inputs=("close",),
        outputs=("hurst",),
        defaults={"period": 100, "max_lag": 20},
        lookback=lambda period, **_: period - 1,
    ),
    IndicatorDefinition(
        name="half_life",
        batch=half_life,
        streaming=MeanReversionHalfLife,
        inputs=("close",),
        outputs=("half_life",),
        defaults={"period": 100},
        lookback=lambda period: period - 1,
    ),
    IndicatorDefinition(
        name="correl",
        batch=correl,
        streaming=Correlation,
        inputs=("high", "low"),
        outputs=("correl",),
        defaults={"period": 30},
        lookback=lambda period: period - 1,
    ),
    IndicatorDefinition(
        name="beta",
        batch=beta,
        streaming=Beta,
        inputs=("high", "low"),
        outputs=("beta",),
        defaults={"period": 5},
        lookback=lambda period: period,
    ),
)
