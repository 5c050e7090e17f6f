"""The search loop shared by optimisation and walk-forward: chunk, run, collect, rank.

Grid and random candidates are known up front and sent in chunks; Optuna candidates are asked
``batch`` at a time and told their objective before the next batch, so the sequence of
suggestions (and hence the results) does not depend on how many workers run them.
A Ctrl-C while waiting stops the search and keeps every row already computed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from rich.console import Console

from quantstrata.backtest.optimize._runners import Runner
from quantstrata.backtest.optimize._tasks import METRIC_COLUMNS, Row, Task
from quantstrata.backtest.optimize.config import OptimizeConfig, SearchMethod
from quantstrata.backtest.optimize.space import Candidate, SearchSpace
from quantstrata.core.progress import progress_bar

__all__ = ["SearchOutcome", "Window", "chunk", "rank_rows", "run_search"]

Window = tuple[int | None, int | None]
"""Bounds ``start <= ts < end`` in nanoseconds (None = open)."""


@dataclass
class SearchOutcome:
    """The rows computed (in trial order) and whether a Ctrl-C cut the search short."""

    rows: list[Row] = field(default_factory=list)
    planned: int = 0
    interrupted: bool = False


def chunk(trials: list[int], candidates: list[Candidate], size: int, window: Window) -> list[Task]:
    """Cut the candidates into tasks of ``size`` over ``window``."""
    return [
        Task(
            trials=tuple(trials[index : index + size]),
            candidates=tuple(candidates[index : index + size]),
            start=window[0],
            end=window[1],
        )
        for index in range(0, len(candidates), size)
    ]


def _chunk_size(config: OptimizeConfig, count: int, workers: int) -> int:
    if config.chunk_size is not None:
        return config.chunk_size
    return max(1, math.ceil(count / (4 * workers)))


def run_search(
    runner: Runner, space: SearchSpace, config: OptimizeConfig, window: Window, label: str
) -> SearchOutcome:
    """Evaluate the space's candidates on ``window`` and return the rows in trial order."""
    outcome = SearchOutcome()
    with _progress(config, label) as advance:
        try:
            if config.method is SearchMethod.OPTUNA:
                _optuna_search(
                    runner, space, config=config, window=window, outcome=outcome, advance=advance
                )
            else:
                candidates = (
                    space.grid_candidates()
                    if config.method is SearchMethod.GRID
                    else space.random_candidates(config.trials, config.seed)
                )
                outcome.planned = len(candidates)
                advance(0, len(candidates))
                size = _chunk_size(config, len(candidates), runner.workers)
                tasks = chunk(list(range(len(candidates))), candidates, size, window)
                for rows in runner.run(tasks):
                    outcome.rows.extend(rows)
                    advance(len(rows), None)
        except KeyboardInterrupt:
            outcome.interrupted = True
    outcome.rows.sort(key=lambda row: int(row["trial"]))
    return outcome


def _optuna_search(
    runner: Runner,
    space: SearchSpace,
    *,
    config: OptimizeConfig,
    window: Window,
    outcome: SearchOutcome,
    advance: Callable[[int, int | None], None],
) -> None:
    from quantstrata.backtest.optimize._optuna import OptunaProposer

    proposer = OptunaProposer(space, config)
    outcome.planned = config.trials
    advance(0, config.trials)
    while len(outcome.rows) < config.trials:
        count = min(config.batch, config.trials - len(outcome.rows))
        trials, candidates = proposer.ask(count)
        size = _chunk_size(config, len(candidates), runner.workers)
        batch: list[Row] = []
        for rows in runner.run(chunk(trials, candidates, size, window)):
            batch.extend(rows)
            advance(len(rows), None)
        proposer.tell(batch)
        outcome.rows.extend(batch)
        if not candidates:
            break


class _progress:  # noqa: N801 (a context manager used like a function)
    """A Rich progress bar (or nothing) exposing ``advance(done, total)``."""

    def __init__(self, config: OptimizeConfig, label: str) -> None:
        self._bar = (
            # results go to stdout, progress beside them
            progress_bar(Console(stderr=True), transient=False) if config.progress else None
        )
        self._label = label
        self._task: Any = None

    def __enter__(self) -> Callable[[int, int | None], None]:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task(self._label, total=None)
        return self._advance

    def _advance(self, done: int, total: int | None) -> None:
        if self._bar is None:
            return
        if total is not None:
            self._bar.update(self._task, total=total)
        self._bar.advance(self._task, done)

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def rank_rows(rows: list[Row], names: list[str], maximize: bool) -> pl.DataFrame:
    """Return the rows as a frame sorted best first (NaN objectives last, ties by trial)."""
    columns = ["trial", *names, "objective", *METRIC_COLUMNS]
    if not rows:
        return pl.DataFrame(schema={"trial": pl.Int64, "objective": pl.Float64})
    frame = pl.DataFrame([{name: row[name] for name in columns} for row in rows])
    frame = frame.with_columns(pl.col(column).cast(pl.Float64) for column in METRIC_COLUMNS)
    undefined = pl.col("objective").is_nan() | pl.col("objective").is_null()
    return (
        frame.with_columns(_undefined=undefined)
        .sort(["_undefined", "objective", "trial"], descending=[False, maximize, False])
        .drop("_undefined")
    )
