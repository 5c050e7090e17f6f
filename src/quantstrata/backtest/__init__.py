"""Backtesting: simulate a strategy on history with the shared fill model.

``Backtest(bars, strategy, config).run()`` runs a signal strategy (its targets, sized at the
decision as live trading sizes them, or in a compiled loop at the fill) or an event strategy
(bar-by-bar callbacks) and returns a :class:`BacktestResult`:
equity curve, positions, orders, fills, round-trip trades, metrics and a :class:`RunRecord` of
what was run. ``Backtest.from_catalog(...)`` streams a signal strategy over a catalog query
in chunks, writing the results to Parquet (:mod:`quantstrata.backtest.stream`).
"""

from quantstrata.backtest.config import BacktestConfig
from quantstrata.backtest.engine import Backtest
from quantstrata.backtest.record import RunRecord
from quantstrata.backtest.results import BacktestResult
from quantstrata.backtest.stream import StreamedBacktest, StreamedBacktestError, StreamedResult

__all__ = [
    "Backtest",
    "BacktestConfig",
    "BacktestResult",
    "RunRecord",
    "StreamedBacktest",
    "StreamedBacktestError",
    "StreamedResult",
]
