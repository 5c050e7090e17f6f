"""What a worker does: run a chunk of candidates on (a time window of) the bars it holds.

The same functions run in this process, in local worker processes and on Dask workers, so
every backend computes the same rows bit for bit. A worker receives the bars once and the
:class:`Job` (strategy class, backtest settings, objective) once; each :class:`Task` carries
only trial numbers, parameter values and a time window.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, TypeAlias

import numpy as np
import polars as pl

from quantstrata.analytics import PerformanceMetrics
from quantstrata.backtest.config import BacktestConfig
from quantstrata.backtest.engine import Backtest
from quantstrata.backtest.results import BacktestResult
from quantstrata.core.errors import ConfigError
from quantstrata.strategy.event import EventStrategy
from quantstrata.strategy.origin import importable_by_name, modules_beside
from quantstrata.strategy.signal import SignalStrategy

__all__ = [
    "METRIC_COLUMNS",
    "MINIMISED_METRICS",
    "Job",
    "Objective",
    "Row",
    "StrategyClass",
    "Task",
    "decode_job",
    "encode_job",
    "evaluate",
    "run_candidate",
    "window_bars",
]

StrategyClass: TypeAlias = type[SignalStrategy] | type[EventStrategy]

Objective = Callable[[BacktestResult], float]
"""A custom objective: reads a finished backtest, returns the number to rank it by."""

Row = dict[str, Any]
"""One evaluated candidate: trial, parameters, objective, metrics (and equity when asked)."""

_NUMERIC = (int, float)
METRIC_COLUMNS: tuple[str, ...] = (
    "total_return",
    "cagr",
    "annual_volatility",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "max_drawdown_duration_bars",
    "trades",
    "win_rate",
    "profit_factor",
    "expectancy",
    "sqn",
    "exposure",
    "turnover",
    "final_equity",
)
"""The metrics every result row carries, and the names an objective may use."""

MINIMISED_METRICS = frozenset({"max_drawdown", "annual_volatility", "max_drawdown_duration_bars"})
"""Metrics where less is better: minimised unless the config says otherwise."""


@dataclass(frozen=True, slots=True)
class Job:
    """What every task of one search shares: the strategy class, settings and objective."""

    strategy_class: StrategyClass
    config: BacktestConfig
    objective: str | Objective


@dataclass(frozen=True, slots=True)
class Task:
    """A chunk of candidates to run on the bars with ``start <= ts < end`` (ns; None = open).

    ``equity_from`` (ns) asks for the equity curve from that time on in each row, which the
    walk-forward analysis stitches.
    """

    trials: tuple[int, ...]
    candidates: tuple[dict[str, Any], ...]
    start: int | None = None
    end: int | None = None
    equity_from: int | None = None


def encode_job(job: Job) -> bytes:
    """Pickle ``job`` so any worker can load it, even a strategy from a file outside a package.

    A class whose module a worker cannot import by name (loaded from a path by the CLI, or
    defined in ``__main__``) is pickled by value, and so are the modules of its own folder it
    imported (``my_dir/helpers.py`` beside ``my_dir/my_strategy.py``): a worker on another
    machine, or with another ``sys.path``, has neither.
    """
    import cloudpickle  # type: ignore[import-untyped]  # only a sweep pickles jobs

    module_name = job.strategy_class.__module__
    module = sys.modules.get(module_name)
    if module is not None and not importable_by_name(module_name):
        for shipped in (module, *modules_beside(module)):
            cloudpickle.register_pickle_by_value(shipped)
    return bytes(cloudpickle.dumps(job))


def decode_job(payload: bytes) -> Job:
    """Load a job pickled by :func:`encode_job`."""
    import cloudpickle

    job = cloudpickle.loads(payload)
    if not isinstance(job, Job):
        raise ConfigError(f"expected a pickled Job, got {type(job).__name__}")
    return job


def window_bars(bars: pl.DataFrame, start: int | None, end: int | None) -> pl.DataFrame:
    """Return the bars with ``start <= ts < end`` (nanoseconds since the epoch; None = open)."""
    if start is None and end is None:
        return bars
    nanoseconds = pl.col("ts").dt.epoch("ns")
    condition = pl.lit(value=True)
    if start is not None:
        condition = condition & (nanoseconds >= start)
    if end is not None:
        condition = condition & (nanoseconds < end)
    return bars.filter(condition)


def run_candidate(
    job: Job, bars: pl.DataFrame, candidate: dict[str, Any], task: Task
) -> BacktestResult:
    """Run one candidate on the task's window of ``bars``."""
    strategy = job.strategy_class(**candidate)
    return Backtest(window_bars(bars, task.start, task.end), strategy, job.config).run()


def evaluate(job: Job, bars: pl.DataFrame, task: Task) -> list[Row]:
    """Run every candidate of ``task`` and return one row each, in the task's order."""
    rows = []
    for trial, candidate in zip(task.trials, task.candidates, strict=True):
        result = run_candidate(job, bars, candidate, task)
        row: Row = {"trial": trial, **candidate}
        metrics = metric_values(result.metrics, result.final_equity)
        row["objective"] = objective_value(job.objective, result, metrics)
        row.update(metrics)
        if task.equity_from is not None:
            row["equity"] = _equity_from(result.equity, task.equity_from)
        rows.append(row)
    return rows


def metric_values(metrics: PerformanceMetrics, final_equity: float) -> dict[str, float]:
    """Return the :data:`METRIC_COLUMNS` as floats (NaN where a metric is undefined)."""
    values = {field.name: getattr(metrics, field.name) for field in fields(metrics)}
    values["final_equity"] = final_equity
    return {name: _as_float(values[name]) for name in METRIC_COLUMNS}


def objective_value(
    objective: str | Objective, result: BacktestResult, metrics: dict[str, float]
) -> float:
    """Return the objective of one run: a named metric, or the custom function's value."""
    if isinstance(objective, str):
        return metrics[objective]
    return _as_float(objective(result))


def _as_float(value: object) -> float:
    if isinstance(value, _NUMERIC) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, np.floating | np.integer):
        return float(value)
    return math.nan


def _equity_from(equity: pl.DataFrame, start: int) -> pl.DataFrame:
    """Return ``ts, equity`` from ``start`` on, plus the base: the equity just before it."""
    nanoseconds = equity["ts"].dt.epoch("ns")
    before = equity.filter(nanoseconds < start)
    base = float(before["equity"][-1]) if before.height else float(equity["equity"][0])
    kept = equity.filter(nanoseconds >= start).select("ts", "equity")
    return kept.with_columns(base=pl.lit(base))
