"""Every indicator by name: look up its definition, lookback and warm-up.

The registry is the explicit union of each family's ``DEFINITIONS``; adding a family means adding
one line here.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from quantstrata.core.errors import ConfigError
from quantstrata.indicators.definition import IndicatorDefinition
from quantstrata.indicators.momentum.definitions import DEFINITIONS as _MOMENTUM
from quantstrata.indicators.moving_average.definitions import DEFINITIONS as _MOVING_AVERAGES
from quantstrata.indicators.statistics.definitions import DEFINITIONS as _STATISTICS
from quantstrata.indicators.trend.definitions import DEFINITIONS as _TREND
from quantstrata.indicators.volatility.definitions import DEFINITIONS as _VOLATILITY
from quantstrata.indicators.volume.definitions import DEFINITIONS as _VOLUME

__all__ = ["definition", "indicator_names", "lookback", "warmup_bars"]

_FAMILIES = (_MOVING_AVERAGES, _MOMENTUM, _VOLATILITY, _TREND, _VOLUME, _STATISTICS)
_DEFINITIONS = MappingProxyType({item.name: item for family in _FAMILIES for item in family})


def indicator_names() -> tuple[str, ...]:
    """Return the names of every indicator, sorted."""
    return tuple(sorted(_DEFINITIONS))


def definition(name: str) -> IndicatorDefinition:
    """Return the definition of indicator ``name`` (lower case, e.g. ``"rsi"``)."""
    try:
        return _DEFINITIONS[name.lower()]
    except KeyError:
        raise ConfigError(
            f"unknown indicator {name!r}; known: {', '.join(indicator_names())}"
        ) from None


def lookback(name: str, **parameters: Any) -> int:
    """Return the index of the first valid value of ``name`` for ``parameters`` (TA-Lib's)."""
    item = definition(name)
    return item.lookback(**item.parameters(**parameters))


def warmup_bars(name: str, **parameters: Any) -> int:
    """Return the bars of history to load so ``name`` is valid and independent of its start."""
    return definition(name).warmup(**parameters)
