"""The search space: parameter values to try, checked against the strategy's own Parameters.

A candidate is a dict of parameter values. A grid lists values per parameter; random search
draws from the grid's values (or, for a parameter without listed values, uniformly inside the
bounds :func:`~quantstrata.strategy.parameter_space` reads from the Parameters model).
Constraints are the model's own validators (``fast < slow`` on :class:`SmaCrossover`) plus any
extra predicates the caller gives; a candidate failing either is skipped, never run.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quantstrata.core.errors import ConfigError
from quantstrata.strategy.parameters import ParameterSpec, StrategyParameters, parameter_space

__all__ = ["Candidate", "Constraint", "SearchSpace", "parse_range"]

Candidate = dict[str, Any]
"""One combination of parameter values, by parameter name."""

Constraint = Callable[[Mapping[str, Any]], bool]
"""A predicate over a candidate's full parameter values (defaults filled in)."""


def parse_range(text: str) -> list[Any]:
    """Parse ``start:stop:step`` (stop inclusive) or ``a,b,c`` into a list of values.

    Integers stay integers; ``5:50:5`` is ``[5, 10, …, 50]``. Other words are kept as text
    (``true``/``false`` become booleans).
    """
    text = text.strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in {2, 3}:
            raise ConfigError(f"a range is start:stop[:step], got {text!r}")
        start, stop = (_number(part, text) for part in parts[:2])
        step = _number(parts[2], text) if len(parts) == 3 else 1
        if step <= 0 or stop < start:
            raise ConfigError(f"range {text!r} needs step > 0 and stop >= start")
        count = math.floor((stop - start) / step + 1e-9) + 1
        values = [start + index * step for index in range(count)]
        integral = all(isinstance(part, int) for part in (start, stop, step))
        return [int(value) for value in values] if integral else [float(v) for v in values]
    return [_scalar(part.strip()) for part in text.split(",") if part.strip()]


def _number(text: str, whole: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"range {whole!r}: {text!r} is not a number") from None


def _scalar(text: str) -> Any:
    lowered = text.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    try:
        return _number(text, text)
    except ConfigError:
        return text


@dataclass(frozen=True)
class SearchSpace:
    """The values to search for ``parameters`` (a strategy's Parameters class).

    ``grid`` maps parameter names to the values to try; unlisted parameters keep their
    defaults in a grid and are drawn inside their bounds by random search only when listed in
    ``sample``. ``constraints`` are extra predicates every candidate must satisfy.
    """

    parameters: type[StrategyParameters]
    grid: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    sample: Sequence[str] = ()
    constraints: Sequence[Constraint] = ()

    def __post_init__(self) -> None:
        """Check every named parameter exists and every listed value lies inside its bounds."""
        specs = self.specs
        for name in [*self.grid, *self.sample]:
            if name not in specs:
                raise ConfigError(
                    f"{self.parameters.__qualname__} has no parameter {name!r}; "
                    f"its parameters are: {', '.join(specs) or 'none'}"
                )
        for name, values in self.grid.items():
            if len(values) == 0:
                raise ConfigError(f"grid for {name!r} lists no values")
            for value in values:
                if not specs[name].contains(value):
                    raise ConfigError(f"grid value {name}={value!r} is outside its bounds")
        for name in self.sample:
            spec = specs[name]
            if spec.choices is None and (spec.lower is None or spec.upper is None):
                raise ConfigError(f"parameter {name!r} needs both bounds to be sampled")

    @property
    def specs(self) -> dict[str, ParameterSpec]:
        """The declared parameters by name."""
        return {spec.name: spec for spec in parameter_space(self.parameters)}

    @property
    def names(self) -> list[str]:
        """The searched parameter names: grid first, then sampled ones, no repeats."""
        return list(dict.fromkeys([*self.grid, *self.sample]))

    def admits(self, candidate: Mapping[str, Any]) -> bool:
        """Return whether the Parameters model and every constraint accept ``candidate``."""
        try:
            values = self.parameters.build(**candidate).model_dump()
        except ConfigError:
            return False
        return all(constraint(values) for constraint in self.constraints)

    def grid_candidates(self) -> list[Candidate]:
        """Return every admitted combination of the grid, first parameter varying slowest."""
        names = list(self.grid)
        combinations = itertools.product(*(self.grid[name] for name in names))
        return [
            candidate
            for values in combinations
            if self.admits(candidate := dict(zip(names, values, strict=True)))
        ]

    def random_candidates(self, trials: int, seed: int) -> list[Candidate]:
        """Return up to ``trials`` distinct admitted candidates drawn with ``seed``.

        Draws stop after ``50 × trials`` attempts, so a space with fewer admitted
        combinations than ``trials`` returns what exists instead of looping.
        """
        generator = np.random.default_rng(seed)
        seen: set[tuple[Any, ...]] = set()
        chosen: list[Candidate] = []
        for candidate in self._draws(generator, attempts=50 * trials):
            key = tuple(candidate[name] for name in self.names)
            if key in seen or not self.admits(candidate):
                continue
            seen.add(key)
            chosen.append(candidate)
            if len(chosen) == trials:
                break
        return chosen

    def _draws(self, generator: np.random.Generator, attempts: int) -> Iterator[Candidate]:
        specs = self.specs
        for _ in range(attempts):
            candidate: Candidate = {}
            for name in self.names:
                if name in self.grid:
                    values = self.grid[name]
                    candidate[name] = values[int(generator.integers(len(values)))]
                else:
                    candidate[name] = draw_value(specs[name], generator)
            yield candidate


def draw_value(spec: ParameterSpec, generator: np.random.Generator) -> Any:
    """Draw one value of ``spec`` uniformly: a choice, an integer or a float inside the bounds."""
    if spec.choices is not None:
        return spec.choices[int(generator.integers(len(spec.choices)))]
    lower, upper = float(spec.lower or 0.0), float(spec.upper or 0.0)
    if spec.type is int:
        return int(generator.integers(int(lower), int(upper) + 1))
    return float(generator.uniform(lower, upper))
