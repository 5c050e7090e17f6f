"""What every strategy shares, whatever its style: parameters, a name and a warm-up.

Both :class:`~quantstrata.strategy.signal.SignalStrategy` (vectorised targets) and
:class:`~quantstrata.strategy.event.EventStrategy` (bar-by-bar callbacks) derive from
:class:`Strategy`. A strategy is a plain object: it holds validated parameters, does no I/O and
never sees a broker, so the same object runs in a backtest, in paper trading and live.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

from quantstrata.core.errors import ConfigError
from quantstrata.strategy.parameters import StrategyParameters

__all__ = ["Strategy"]


class Strategy(ABC):
    """Base of every strategy.

    A subclass declares its parameters as a nested ``class Parameters(StrategyParameters)``
    (the default is no parameters) and annotates ``parameters: Parameters`` so type checkers
    know the fields. Construct it with keyword values (``SmaCrossover(fast=5, slow=20)``), with a
    built parameters object (``SmaCrossover(SmaCrossover.Parameters(fast=5))``) or with neither
    for the defaults; bad values raise :class:`~quantstrata.core.errors.ConfigError`.
    """

    Parameters: ClassVar[type[StrategyParameters]] = StrategyParameters
    parameters: StrategyParameters

    def __init__(self, parameters: StrategyParameters | None = None, /, **values: Any) -> None:
        """Validate and keep the parameters (given whole or as keyword values)."""
        expected = type(self).Parameters
        if parameters is None:
            self.parameters = expected.build(**values)
            return
        if values:
            raise ConfigError(
                f"{self.name}: pass either a parameters object or keyword values, not both "
                f"(got {sorted(values)} as keywords)"
            )
        if type(parameters) is not expected:
            raise ConfigError(
                f"{self.name} takes {expected.__qualname__}, got {type(parameters).__qualname__}"
            )
        self.parameters = parameters

    @property
    def name(self) -> str:
        """The strategy's name in reports, errors and logs (its class name)."""
        return type(self).__name__

    @abstractmethod
    def warmup_bars(self) -> int:
        """Return how many bars precede the first decision that is valid and start-independent.

        The live runtime loads at least this many bars (plus one) of history before trading; the
        look-ahead check samples decisions from this bar on. Derive it from the indicators'
        registry (:func:`quantstrata.indicators.warmup_bars`) rather than guessing.
        """

    def with_parameters(self, **changes: Any) -> Self:
        """Return a new strategy of the same type with ``changes`` applied to its parameters."""
        return type(self)(self.parameters.replace(**changes))

    def __repr__(self) -> str:
        """Show the class and its parameter values."""
        values = ", ".join(
            f"{key}={value!r}" for key, value in self.parameters.model_dump().items()
        )
        return f"{self.name}({values})"
