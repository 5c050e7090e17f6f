"""Parameter optimisation: ``optimize(bars, SmaCrossover, {"fast": …, "slow": …})``.

>>> from quantstrata.backtest.optimize import optimize, OptimizeConfig
>>> result = optimize(bars, SmaCrossover, {"fast": range(5, 50, 5), "slow": range(20, 200, 10)},
...                   config=OptimizeConfig(objective="sharpe"))  # doctest: +SKIP
>>> result.frame.head()  # best first  # doctest: +SKIP

Every candidate is one ordinary :class:`~quantstrata.backtest.Backtest` run, so the best row
re-run alone gives the same metrics. The results do not depend on the backend: serial, local
processes and Dask run the same task function on the same bars.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import polars as pl

from quantstrata.backtest.config import BacktestConfig
from quantstrata.backtest.engine import Backtest
from quantstrata.backtest.optimize._notebook import optimization_html, plot_optimization
from quantstrata.backtest.optimize._runners import DaskRunner, LocalRunner, Runner, SerialRunner
from quantstrata.backtest.optimize._search import chunk, rank_rows, run_search
from quantstrata.backtest.optimize._tasks import (
    METRIC_COLUMNS,
    MINIMISED_METRICS,
    Job,
    Objective,
    StrategyClass,
    encode_job,
)
from quantstrata.backtest.optimize.config import Backend, OptimizeConfig
from quantstrata.backtest.optimize.space import Constraint, SearchSpace
from quantstrata.backtest.optimize.statistics import (
    OverfittingProbability,
    deflated_sharpe_ratio,
    probability_of_backtest_overfitting,
    sharpe_moments,
)
from quantstrata.backtest.results import BacktestResult
from quantstrata.core.errors import ConfigError
from quantstrata.strategy.event import EventStrategy
from quantstrata.strategy.signal import SignalStrategy

__all__ = ["OptimizationResult", "open_runner", "optimize", "resolve_job", "resolve_space"]


@dataclass(frozen=True, slots=True)
class OptimizationResult:
    """A finished (or interrupted) search.

    ``frame`` has one row per evaluated candidate, best first: ``trial`` (the order it was
    proposed in), one column per searched parameter, ``objective`` and the metric columns.
    ``planned`` is how many candidates the search meant to run; ``interrupted`` says a Ctrl-C
    stopped it after ``frame.height`` of them.
    """

    frame: pl.DataFrame
    parameters: tuple[str, ...]
    objective: str
    maximize: bool
    planned: int
    interrupted: bool
    strategy_class: StrategyClass
    backtest: BacktestConfig

    @property
    def best(self) -> dict[str, Any]:
        """The best candidate's parameter values."""
        if self.frame.is_empty():
            raise ConfigError("the search evaluated no candidate, so there is no best one")
        row = self.frame.row(0, named=True)
        return {name: row[name] for name in self.parameters}

    def best_strategy(self) -> SignalStrategy | EventStrategy:
        """Build the strategy with the best parameters."""
        return self.strategy_class(**self.best)

    def rerun_best(self, bars: pl.DataFrame) -> BacktestResult:
        """Run the best candidate alone on ``bars`` with the search's backtest settings."""
        return Backtest(bars, self.best_strategy(), self.backtest).run()

    def plot(self, x: str | None = None, y: str | None = None) -> Any:
        """Return a Plotly heatmap of the objective over parameters ``x`` and ``y``.

        The defaults are the first two searched parameters; each cell is the best objective
        over the other parameters. With one parameter the figure is the objective against it.
        """
        return plot_optimization(self, x, y)

    def _repr_html_(self) -> str:
        """Show the search in a notebook: best values and the top candidates."""
        return optimization_html(self)

    def deflated_sharpe(self, bars: pl.DataFrame) -> float:
        """Return the Deflated Sharpe Ratio of the best candidate, deflated by this search.

        The trials are every evaluated candidate; their Sharpe ratios' variance and the best
        run's return moments are taken per bar (annual Sharpe ratios ÷ √periods per year).
        """
        best = self.rerun_best(bars)
        returns = best.equity["equity"].pct_change().drop_nulls().to_numpy()
        sharpe, skewness, kurtosis, observations = sharpe_moments(returns)
        annual = self.frame["sharpe"].drop_nans().drop_nulls().to_numpy()
        per_bar = annual / math.sqrt(best.metrics.periods_per_year)
        return deflated_sharpe_ratio(
            sharpe,
            observations=observations,
            trials=max(1, int(per_bar.size)),
            variance=float(per_bar.var()) if per_bar.size > 1 else 0.0,
            skewness=skewness,
            kurtosis=kurtosis,
        )

    def overfitting(
        self, bars: pl.DataFrame, partitions: int = 16, config: OptimizeConfig | None = None
    ) -> OverfittingProbability:
        """Return the Probability of Backtest Overfitting of picking this search's best.

        Every evaluated candidate runs again on ``bars`` (on ``config``'s backend; serial by
        default) and its per-bar returns become one column of the T×N performance matrix that
        :func:`probability_of_backtest_overfitting` cuts into ``partitions`` blocks (CSCV).
        The search kept only metrics, since N equity curves of a large sweep do not fit in
        memory alongside it; this pass holds them once.
        """
        if self.frame.height < 2:
            raise ConfigError("the PBO compares candidates; the search evaluated fewer than 2")
        settings = config if config is not None else OptimizeConfig(backend=Backend.SERIAL)
        ordered = self.frame.sort("trial")
        trials = [int(trial) for trial in ordered["trial"]]
        candidates = [
            {name: row[name] for name in self.parameters} for row in ordered.iter_rows(named=True)
        ]
        first = int(bars["ts"].dt.epoch("ns").to_numpy().min())
        runner = open_runner(settings, Job(self.strategy_class, self.backtest, "sharpe"), bars)
        try:
            size = max(1, math.ceil(len(candidates) / (4 * runner.workers)))
            tasks = [
                replace(task, equity_from=first)
                for task in chunk(trials, candidates, size, (None, None))
            ]
            rows = sorted(
                (row for batch in runner.run(tasks) for row in batch),
                key=lambda row: int(row["trial"]),
            )
        finally:
            runner.close()
        columns = [row["equity"]["equity"].to_numpy() for row in rows]
        returns = [curve[1:] / curve[:-1] - 1.0 for curve in columns]
        return probability_of_backtest_overfitting(np.column_stack(returns), partitions)


def resolve_space(
    strategy_class: StrategyClass,
    space: SearchSpace | Mapping[str, Sequence[Any]],
    constraints: Sequence[Constraint] = (),
) -> SearchSpace:
    """Return ``space`` as a :class:`SearchSpace` of the strategy's Parameters."""
    if isinstance(space, SearchSpace):
        if space.parameters is not strategy_class.Parameters:
            raise ConfigError(
                f"the search space is over {space.parameters.__qualname__}, "
                f"not {strategy_class.__name__}.Parameters"
            )
        if constraints:
            return SearchSpace(
                space.parameters, space.grid, space.sample, [*space.constraints, *constraints]
            )
        return space
    grid = {name: list(values) for name, values in space.items()}
    return SearchSpace(strategy_class.Parameters, grid, constraints=list(constraints))


def resolve_job(
    strategy_class: StrategyClass,
    config: OptimizeConfig,
    backtest: BacktestConfig | None,
    objective: Objective | None,
) -> tuple[Job, str, bool]:
    """Return the job, the objective's name and the direction of ranking."""
    if not (
        isinstance(strategy_class, type)
        and issubclass(strategy_class, SignalStrategy | EventStrategy)
    ):
        raise ConfigError(f"optimize() takes a strategy class, got {strategy_class!r}")
    if objective is None and config.objective not in METRIC_COLUMNS:
        raise ConfigError(
            f"objective {config.objective!r} is not a metric; choose one of "
            f"{', '.join(METRIC_COLUMNS)} or pass a function"
        )
    name = config.objective if objective is None else getattr(objective, "__name__", "custom")
    maximize = config.maximize
    if maximize is None:
        maximize = objective is not None or config.objective not in MINIMISED_METRICS
    settings = backtest if backtest is not None else BacktestConfig()
    job = Job(strategy_class, settings, objective if objective is not None else config.objective)
    return job, name, maximize


def open_runner(config: OptimizeConfig, job: Job, bars: pl.DataFrame) -> Runner:
    """Start the configured backend with the job and the bars handed over once."""
    payload = encode_job(job)
    if config.backend is Backend.SERIAL:
        return SerialRunner(payload, bars)
    if config.backend is Backend.LOCAL:
        return LocalRunner(payload, bars, config.workers)
    return DaskRunner(payload, bars, config.workers, config.scheduler)


def optimize(
    bars: pl.DataFrame,
    strategy_class: StrategyClass,
    space: SearchSpace | Mapping[str, Sequence[Any]],
    config: OptimizeConfig | None = None,
    *,
    backtest: BacktestConfig | None = None,
    objective: Objective | None = None,
    constraints: Sequence[Constraint] = (),
) -> OptimizationResult:
    """Search the strategy's parameters on ``bars`` and return every candidate, best first.

    ``space`` is a :class:`SearchSpace` or a mapping of parameter names to values to try.
    ``objective`` (a picklable function of a :class:`BacktestResult`) replaces the
    configured metric. ``constraints`` are extra predicates over a candidate's values.
    """
    settings = config if config is not None else OptimizeConfig()
    searched = resolve_space(strategy_class, space, constraints)
    job, name, maximize = resolve_job(strategy_class, settings, backtest, objective)
    runner = open_runner(settings, job, bars)
    try:
        outcome = run_search(runner, searched, settings, (None, None), f"optimise {name}")
    finally:
        runner.close()
    return OptimizationResult(
        frame=rank_rows(outcome.rows, searched.names, maximize),
        parameters=tuple(searched.names),
        objective=name,
        maximize=maximize,
        planned=outcome.planned,
        interrupted=outcome.interrupted,
        strategy_class=strategy_class,
        backtest=job.config,
    )
