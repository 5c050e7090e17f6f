"""Statistical features: batch functions, streaming classes and their declarations."""

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

__all__ = [
    "AugmentedDickeyFuller",
    "Beta",
    "Correlation",
    "HurstExponent",
    "MeanReversionHalfLife",
    "ZScore",
    "adf_pvalue",
    "beta",
    "correl",
    "half_life",
    "hurst",
    "zscore",
]
