"""The description of one indicator: its batch function, streaming class, inputs and warm-up.

Every indicator is declared once as an :class:`IndicatorDefinition`; the registry collects the
definitions of all families so frames, strategies and the live runtime can ask how much history
an indicator needs (:meth:`IndicatorDefinition.warmup`) and compute it on a bar frame by name.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

__all__ = [
    "SEED_WEIGHT_TOLERANCE",
    "IndicatorDefinition",
    "LatestValue",
    "StreamingIndicator",
    "WindowValue",
    "decay_bars",
]

SEED_WEIGHT_TOLERANCE = 1e-6
"""A recursive indicator counts as warmed up once its seed weighs less than this."""


def decay_bars(smoothing: float, tolerance: float = SEED_WEIGHT_TOLERANCE) -> int:
    """Return the bars after which a seed decayed by ``(1 - smoothing)`` per bar weighs < tolerance.

    This is the *unstable period* of exponential smoothing with factor ``smoothing`` (2/(n+1) for
    an EMA, 1/n for Wilder's smoothing).
    """
    if not 0.0 < smoothing < 1.0:
        return 0
    return math.ceil(math.log(tolerance) / math.log(1.0 - smoothing))


class StreamingIndicator(ABC):
    """An indicator updated one value at a time in O(1) time and memory.

    ``update`` takes the newest input(s) and returns the current value (NaN until ``ready``);
    ``value`` repeats the latest result. The batch form of the same indicator gives identical
    numbers on the same inputs.
    """

    __slots__ = ()

    @property
    @abstractmethod
    def ready(self) -> bool:
        """Whether enough values have been seen for ``value`` to be valid."""

    @property
    @abstractmethod
    def value(self) -> Any:
        """The latest result (NaN, or a tuple of NaN, until ``ready``)."""


ValueT = TypeVar("ValueT")


class LatestValue(StreamingIndicator, Generic[ValueT]):
    """A streaming indicator that keeps its latest result in ``_last`` (a slot of the subclass).

    One home for the ``value`` property most streaming indicators share.
    """

    __slots__ = ()
    _last: ValueT

    @property
    def value(self) -> ValueT:
        """The latest result (NaN, or a tuple of NaN, until ``ready``)."""
        return self._last


class WindowValue(LatestValue[ValueT]):
    """A :class:`LatestValue` that is ready once it counted ``_period`` inputs (``_count``)."""

    __slots__ = ()
    _count: int
    _period: int

    @property
    def ready(self) -> bool:
        """Whether the first ``period`` inputs (bars, or values) have been counted."""
        return self._count >= self._period


@dataclass(frozen=True, slots=True)
class IndicatorDefinition:
    """One indicator's declaration.

    ``inputs`` names the bar columns the batch function takes, in order; ``outputs`` names its
    results (one name for single-output indicators). ``lookback`` gives the index of the first
    valid output for given parameters (TA-Lib's lookback); ``unstable`` gives the extra bars a
    recursive indicator needs before its start-up no longer matters (0 for finite windows).
    """

    name: str
    batch: Callable[..., Any]
    streaming: type[StreamingIndicator]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    defaults: Mapping[str, Any]
    lookback: Callable[..., int]
    unstable: Callable[..., int] = field(default=lambda **_: 0)

    def __post_init__(self) -> None:
        """Freeze the defaults mapping."""
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    def parameters(self, **overrides: Any) -> dict[str, Any]:
        """Return the defaults updated with ``overrides``, refusing unknown parameter names."""
        from quantstrata.core.errors import ConfigError

        unknown = set(overrides) - set(self.defaults)
        if unknown:
            raise ConfigError(
                f"indicator {self.name!r} has no parameter(s) {sorted(unknown)}; "
                f"it takes {sorted(self.defaults)}"
            )
        return {**self.defaults, **overrides}

    def warmup(self, **parameters: Any) -> int:
        """Return how many bars to load before the value is valid and start-up independent."""
        resolved = self.parameters(**parameters)
        return self.lookback(**resolved) + self.unstable(**resolved)
