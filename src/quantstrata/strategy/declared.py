"""Indicators a strategy declares once and reads per bar: the handle protocol, the streaming form.

An event strategy may ask its context for an indicator in ``on_start``::

    self.fast = context.indicator("sma", "SPX", period=10)

and read ``self.fast.value`` in every ``on_bar``: the indicator's value at the bar being handled
(NaN, or a tuple of NaN for several outputs, until it exists), computed from that symbol's bars up
to and including the current one; ``.values`` holds every output of a multi-output indicator and
``.ready`` says that none is NaN. How the values are produced is the runner's business: the live
and paper runtimes (and the test kit) feed a :class:`StreamingIndicatorHandle` each new bar before
``on_bar``; the backtester computes the batch form over the whole history once and shows the value
at the current bar. Invariant 3 (batch == streaming) makes both give the same numbers, and a handle
never shows a value of a later bar, so declaring indicators cannot look ahead.

Inputs are the bar fields the indicator's definition names (``close`` for a moving average,
``high, low, close`` for the ATR, ``ts`` for the VWAP's sessions). Declarations are accepted
before the first bar only, so every form sees the symbol's whole history.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from quantstrata.core.errors import ConfigError
from quantstrata.indicators.definition import IndicatorDefinition
from quantstrata.indicators.registry import definition
from quantstrata.model.bar import Bar

__all__ = ["IndicatorHandle", "StreamingIndicatorHandle", "resolve_indicator"]


@runtime_checkable
class IndicatorHandle(Protocol):
    """A declared indicator of one symbol, read at the bar being handled."""

    @property
    def value(self) -> float:
        """The value at the current bar (NaN until it exists); the first output if several."""
        ...

    @property
    def values(self) -> tuple[float, ...]:
        """Every output at the current bar, in the definition's order (``macd, signal, hist``)."""
        ...

    @property
    def ready(self) -> bool:
        """Whether every output at the current bar is a number (not NaN)."""
        ...


def resolve_indicator(
    name: object, **parameters: Any
) -> tuple[IndicatorDefinition, dict[str, Any]]:
    """Return the definition of indicator ``name`` and its parameters with defaults filled in."""
    if not isinstance(name, str):
        raise ConfigError(f"indicator name must be a string, got {name!r}")
    item = definition(name)
    return item, item.parameters(**parameters)


def _reader(field: str) -> Callable[[Bar], object]:
    def read(bar: Bar) -> object:
        return getattr(bar, field)

    return read


class StreamingIndicatorHandle:
    """A declared indicator fed one bar at a time (the live runtime's and the test kit's form).

    The runner calls :meth:`update` with each new bar of :attr:`symbol` before ``on_bar``.
    """

    __slots__ = ("_indicator", "_inputs", "_several", "_values", "definition", "symbol")

    def __init__(self, name: str, symbol: str, **parameters: Any) -> None:
        """Create the streaming form of indicator ``name`` with ``parameters`` for ``symbol``."""
        item, resolved = resolve_indicator(name, **parameters)
        self.definition = item
        self.symbol = symbol
        self._indicator: Any = item.streaming(**resolved)
        self._inputs = tuple(_reader(field) for field in item.inputs)
        self._several = len(item.outputs) > 1
        self._values: tuple[float, ...] = tuple(math.nan for _ in item.outputs)

    def update(self, bar: Bar) -> tuple[float, ...]:
        """Feed ``bar`` (a bar of :attr:`symbol`) and return every output."""
        result = self._indicator.update(*(read(bar) for read in self._inputs))
        self._values = tuple(float(item) for item in result) if self._several else (float(result),)
        return self._values

    @property
    def value(self) -> float:
        """The value after the latest bar fed (NaN until it exists); the first output if several."""
        return self._values[0]

    @property
    def values(self) -> tuple[float, ...]:
        """Every output after the latest bar fed."""
        return self._values

    @property
    def ready(self) -> bool:
        """Whether every output is a number (not NaN)."""
        return not any(math.isnan(item) for item in self._values)
