"""Research at scale: parameter search, walk-forward analysis and overfitting statistics.

- :func:`optimize`: grid, random or Optuna search over a strategy's declared parameters,
  serial, on local worker processes (default) or on Dask; results as a ranked Polars frame.
- :func:`walk_forward`: optimise in-sample, test out-of-sample on rolling or anchored
  windows, stitch the out-of-sample equity.
- :mod:`~quantstrata.backtest.optimize.statistics`: the Deflated Sharpe Ratio and the
  Probability of Backtest Overfitting.
- :func:`~quantstrata.backtest.optimize.report.write_optimization_report`: the ranked table
  and parameter heatmaps as HTML (needs Plotly, the ``report`` extra).
"""

from quantstrata.backtest.optimize.config import (
    Backend,
    OptimizeConfig,
    SearchMethod,
    WalkForwardConfig,
)
from quantstrata.backtest.optimize.engine import OptimizationResult, optimize
from quantstrata.backtest.optimize.space import SearchSpace, parse_range
from quantstrata.backtest.optimize.walkforward import WalkForwardResult, walk_forward

__all__ = [
    "Backend",
    "OptimizationResult",
    "OptimizeConfig",
    "SearchMethod",
    "SearchSpace",
    "WalkForwardConfig",
    "WalkForwardResult",
    "optimize",
    "parse_range",
    "walk_forward",
]
