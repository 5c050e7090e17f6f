"""Settings of a parameter search and of a walk-forward analysis.

:class:`OptimizeConfig` says how candidates are chosen (grid, random, Optuna), what they are
ranked by and where they run (this process, local worker processes or Dask).
:class:`WalkForwardConfig` says how history is cut into in-sample and out-of-sample windows.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from quantstrata.core.config import FrozenConfig
from quantstrata.core.errors import ConfigError

__all__ = ["Backend", "OptimizeConfig", "SearchMethod", "WalkForwardConfig"]


class SearchMethod(StrEnum):
    """How candidates are drawn from the search space."""

    GRID = "grid"
    """Every combination of the listed values, in order."""
    RANDOM = "random"
    """``trials`` distinct combinations drawn with the seeded generator."""
    OPTUNA = "optuna"
    """Optuna's TPE sampler, seeded, asked ``batch`` candidates at a time."""


class Backend(StrEnum):
    """Where the backtests run."""

    SERIAL = "serial"
    """One after another in this process (the reference the others must equal)."""
    LOCAL = "local"
    """Local worker processes; the bars are written once to a Parquet file they read once."""
    DASK = "dask"
    """A Dask distributed cluster: a new LocalCluster, or ``scheduler`` when given."""


class OptimizeConfig(FrozenConfig):
    """How :func:`~quantstrata.backtest.optimize.optimize` searches.

    - ``method``: grid, random or Optuna search.
    - ``objective``: the metric the candidates are ranked by (any numeric field of
      :class:`~quantstrata.analytics.PerformanceMetrics`, or ``final_equity``); a callable
      objective is passed to ``optimize`` directly and overrides this name in the results.
    - ``maximize``: rank high values first; ``None`` maximises every metric except the ones
      where less is better (drawdown, volatility, drawdown duration).
    - ``trials``: how many candidates random and Optuna search evaluate.
    - ``seed``: seeds the random generator and Optuna's sampler, so reruns repeat.
    - ``batch``: Optuna candidates asked per round (results do not depend on the worker count).
    - ``backend``, ``workers``, ``scheduler``: where the backtests run; ``workers=None`` uses
      every core for ``local`` and two workers for a new Dask LocalCluster.
    - ``chunk_size``: candidates per task sent to a worker (``None``: about four tasks per
      worker), so a task's overhead is shared by several backtests.
    - ``progress``: show a Rich progress bar on stderr (done/total, elapsed time, ETA).
    """

    method: SearchMethod = SearchMethod.GRID
    objective: str = "sharpe"
    maximize: bool | None = None
    trials: int = Field(default=100, ge=1)
    seed: int = 0
    batch: int = Field(default=8, ge=1)
    backend: Backend = Backend.LOCAL
    workers: int | None = Field(default=None, ge=1)
    scheduler: str | None = None
    chunk_size: int | None = Field(default=None, ge=1)
    progress: bool = False

    @model_validator(mode="after")
    def _scheduler_needs_dask(self) -> Self:
        if self.scheduler is not None and self.backend is not Backend.DASK:
            raise ConfigError(
                f"scheduler ({self.scheduler!r}) needs backend 'dask', got {self.backend.value!r}"
            )
        return self


class WalkForwardConfig(FrozenConfig):
    """How history is cut into windows: ``in_sample`` bars to fit, ``out_of_sample`` to test.

    Counts are in distinct bar times. Rolling windows keep the in-sample length; ``anchored``
    windows all start at the first bar and grow. Windows step forward by ``out_of_sample`` so
    the test periods tile the history after the first in-sample period without overlap.
    """

    in_sample: int = Field(ge=2)
    out_of_sample: int = Field(ge=2)
    anchored: bool = False
