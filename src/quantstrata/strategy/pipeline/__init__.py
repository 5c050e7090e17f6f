"""The factor pipeline: factors, filters and classifiers over many symbols, turned into weights.

The zipline idea on Polars. Build terms from bars (:mod:`.factors`: returns, momentum, dollar
volume, volatility, any indicator, custom functions), screen symbols (:mod:`.filters`: price and
liquidity comparisons, point-in-time membership, history), group them (:mod:`.classifiers`),
compare them across symbols at each time (rank, z-score, demean, quantiles, top/bottom N) and
turn them into weights (:mod:`.weights`). A :class:`Pipeline` evaluates them; a
:class:`PipelineStrategy` trades its weights on a rebalance schedule (:class:`PipelineConfig`)
through the normal backtester and live runtime.
"""

from quantstrata.strategy.pipeline.classifiers import expression_classifier, symbol_groups
from quantstrata.strategy.pipeline.config import (
    PipelineConfig,
    PipelineParameters,
    Rebalance,
    RebalanceName,
)
from quantstrata.strategy.pipeline.engine import Pipeline, PipelineStrategy
from quantstrata.strategy.pipeline.factors import (
    average_dollar_volume,
    custom_factor,
    expression_factor,
    indicator_factor,
    latest,
    momentum,
    trailing_return,
    volatility,
)
from quantstrata.strategy.pipeline.filters import (
    expression_filter,
    has_history,
    membership,
    symbols_in,
)
from quantstrata.strategy.pipeline.schedule import rebalance_times
from quantstrata.strategy.pipeline.terms import Classifier, Factor, Filter, Term
from quantstrata.strategy.pipeline.weights import equal_weight, long_short, proportional

__all__ = [
    "Classifier",
    "Factor",
    "Filter",
    "Pipeline",
    "PipelineConfig",
    "PipelineParameters",
    "PipelineStrategy",
    "Rebalance",
    "RebalanceName",
    "Term",
    "average_dollar_volume",
    "custom_factor",
    "equal_weight",
    "expression_classifier",
    "expression_factor",
    "expression_filter",
    "has_history",
    "indicator_factor",
    "latest",
    "long_short",
    "membership",
    "momentum",
    "proportional",
    "rebalance_times",
    "symbol_groups",
    "symbols_in",
    "trailing_return",
    "volatility",
]
