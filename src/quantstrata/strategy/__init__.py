"""Strategies: pure decision logic that runs unchanged in backtests, paper trading and live.

Two styles share one base (:class:`Strategy`: validated :class:`StrategyParameters`, a name, a
warm-up):

* :class:`SignalStrategy` — one vectorised ``targets(bars)`` returning the position wanted after
  each bar (:func:`targets_from_signals` turns entry/exit signals into targets;
  :func:`sma_crossover_targets` compares two moving averages in one compiled pass;
  :func:`check_no_lookahead` proves a target never depends on later bars);
* :class:`EventStrategy` — ``on_bar(bars, context)`` callbacks that read state and record
  intents through a :class:`StrategyContext`, seeing the market one bar at a time.

A strategy never does I/O and never sees a broker. Sizing helpers live in
:mod:`quantstrata.strategy.sizing`; example strategies to copy in
:mod:`quantstrata.strategy.examples`.
"""

from quantstrata.strategy.base import Strategy
from quantstrata.strategy.context import StrategyContext
from quantstrata.strategy.crossover import sma_crossover_targets
from quantstrata.strategy.declared import IndicatorHandle, StreamingIndicatorHandle
from quantstrata.strategy.event import BarSnapshot, EventStrategy
from quantstrata.strategy.lookahead import LookAheadError, check_no_lookahead
from quantstrata.strategy.parameters import ParameterSpec, StrategyParameters, parameter_space
from quantstrata.strategy.signal import (
    TARGET_COLUMNS,
    TARGET_SCHEMA,
    SignalStrategy,
    TargetUnit,
    check_targets,
    targets_from_signals,
    targets_per_symbol,
)
from quantstrata.strategy.sizing import (
    fixed_units,
    realised_volatility,
    units_for_fraction,
    units_for_weights,
    volatility_target,
)

__all__ = [
    "TARGET_COLUMNS",
    "TARGET_SCHEMA",
    "BarSnapshot",
    "EventStrategy",
    "IndicatorHandle",
    "LookAheadError",
    "ParameterSpec",
    "SignalStrategy",
    "Strategy",
    "StrategyContext",
    "StrategyParameters",
    "StreamingIndicatorHandle",
    "TargetUnit",
    "check_no_lookahead",
    "check_targets",
    "fixed_units",
    "parameter_space",
    "realised_volatility",
    "sma_crossover_targets",
    "targets_from_signals",
    "targets_per_symbol",
    "units_for_fraction",
    "units_for_weights",
    "volatility_target",
]
