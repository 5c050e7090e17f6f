"""Model-based search with Optuna's ask-and-tell interface (TPE sampler, seeded).

Each listed grid becomes an Optuna distribution: evenly spaced integers an
``IntDistribution`` with that step, other lists a ``CategoricalDistribution``; a sampled
parameter without a list is drawn between its declared bounds. A suggestion the strategy's
Parameters or a constraint refuse is told as failed and not run.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from quantstrata.backtest.optimize._tasks import MINIMISED_METRICS, Row
from quantstrata.backtest.optimize.config import OptimizeConfig
from quantstrata.backtest.optimize.space import Candidate, SearchSpace
from quantstrata.core._extras import require
from quantstrata.strategy.parameters import ParameterSpec

if TYPE_CHECKING:
    import optuna

__all__ = ["OptunaProposer"]


class OptunaProposer:
    """Ask Optuna for candidates the space admits, and tell it their objectives."""

    def __init__(self, space: SearchSpace, config: OptimizeConfig) -> None:
        """Create a seeded in-memory study in the configured direction."""
        library = _optuna()
        library.logging.set_verbosity(library.logging.WARNING)
        maximize = (
            config.maximize
            if config.maximize is not None
            else config.objective not in MINIMISED_METRICS
        )
        self._failed = library.trial.TrialState.FAIL
        self._study = library.create_study(
            direction="maximize" if maximize else "minimize",
            sampler=library.samplers.TPESampler(seed=config.seed),
        )
        specs = space.specs
        self._space = space
        self._distributions = {
            name: _distribution(specs[name], space.grid.get(name)) for name in space.names
        }
        self._asked: dict[int, optuna.trial.Trial] = {}
        self._next_trial = 0

    def ask(self, count: int) -> tuple[list[int], list[Candidate]]:
        """Return up to ``count`` admitted candidates with their trial numbers."""
        trials: list[int] = []
        candidates: list[Candidate] = []
        attempts = 0
        while len(candidates) < count and attempts < 50 * count:
            attempts += 1
            trial = self._study.ask(self._distributions)
            candidate = dict(trial.params)
            if not self._space.admits(candidate):
                self._study.tell(trial, state=self._failed)
                continue
            number = self._next_trial
            self._next_trial += 1
            self._asked[number] = trial
            trials.append(number)
            candidates.append(candidate)
        return trials, candidates

    def tell(self, rows: list[Row]) -> None:
        """Report each row's objective (NaN as a failed trial), in trial order."""
        for row in sorted(rows, key=lambda item: int(item["trial"])):
            trial = self._asked.pop(int(row["trial"]))
            value = float(row["objective"])
            if math.isnan(value):
                self._study.tell(trial, state=self._failed)
            else:
                self._study.tell(trial, value)


def _distribution(
    spec: ParameterSpec, values: Sequence[Any] | None
) -> optuna.distributions.BaseDistribution:
    distributions = _optuna().distributions
    chosen: optuna.distributions.BaseDistribution
    if values is not None:
        ordered = sorted(set(values)) if all(_is_int(value) for value in values) else None
        steps = {b - a for a, b in itertools.pairwise(ordered)} if ordered else set()
        if ordered is not None and len(ordered) > 1 and len(steps) == 1:
            chosen = distributions.IntDistribution(ordered[0], ordered[-1], step=steps.pop())
        else:
            chosen = distributions.CategoricalDistribution(list(values))
    elif spec.choices is not None:
        chosen = distributions.CategoricalDistribution(list(spec.choices))
    elif spec.type is int:
        chosen = distributions.IntDistribution(int(spec.lower or 0), int(spec.upper or 0))
    else:
        chosen = distributions.FloatDistribution(float(spec.lower or 0), float(spec.upper or 0))
    return chosen


def _optuna() -> Any:
    """Return Optuna (the ``optuna`` extra), imported when a model-based search starts."""
    return require("optuna", "the Optuna search (method 'optuna')")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
