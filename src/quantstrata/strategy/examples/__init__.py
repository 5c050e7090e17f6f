"""Example strategies written the way a user would: public API only, pure, parameters declared.

Copy one to start your own. :class:`SmaCrossover`, :class:`EventSmaCrossover` (declared
indicators) and :class:`StreamingSmaCrossover` (its own streaming averages) are the same strategy
in the two styles and give the same targets; :class:`RsiMeanReversion` and
:class:`BollingerZScore` trade reversion with entry/exit signals; :class:`MomentumRotation` ranks
many symbols at once; :class:`MomentumPipeline` and :class:`ReversionPipeline` are factor
pipelines (:mod:`quantstrata.strategy.pipeline`) over a universe.
"""

from quantstrata.strategy.examples.bollinger_zscore import BollingerZScore
from quantstrata.strategy.examples.momentum_pipeline import MomentumPipeline
from quantstrata.strategy.examples.momentum_rotation import MomentumRotation
from quantstrata.strategy.examples.pipeline_reversion import ReversionPipeline
from quantstrata.strategy.examples.rsi_mean_reversion import RsiMeanReversion
from quantstrata.strategy.examples.sma_crossover import (
    EventSmaCrossover,
    SmaCrossover,
    StreamingSmaCrossover,
)

__all__ = [
    "BollingerZScore",
    "EventSmaCrossover",
    "MomentumPipeline",
    "MomentumRotation",
    "ReversionPipeline",
    "RsiMeanReversion",
    "SmaCrossover",
    "StreamingSmaCrossover",
]
