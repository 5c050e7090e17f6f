"""Weights from terms: equal weight, long/short, proportional to a factor.

Each returns a :class:`~quantstrata.strategy.pipeline.terms.Factor` of target fractions of
equity per ``(ts, symbol)`` (0 for rows not chosen), computed across the symbols in the universe
at the same ``ts``. A pipeline uses it as its ``weights``.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from quantstrata.core.errors import ConfigError
from quantstrata.strategy.pipeline.terms import Factor, Filter

__all__ = ["equal_weight", "long_short", "proportional"]

_TIME = "ts"


def _gross(value: float) -> float:
    number = float(value)
    if not number > 0.0 or number == float("inf"):
        raise ConfigError(f"gross must be a finite number > 0, got {value!r}")
    return number


def _filter(value: Filter, name: str) -> Filter:
    if not isinstance(value, Filter):
        raise ConfigError(f"{name} must be a Filter, got {type(value).__name__}")
    return value


def _share(chosen: pl.Expr, amount: float) -> pl.Expr:
    """Return ``amount`` split equally over the chosen rows at each ``ts``, 0 elsewhere."""
    count = chosen.cast(pl.Int64).sum().over(_TIME)
    return pl.when(chosen).then(amount / count).otherwise(0.0)


def equal_weight(selection: Filter, *, gross: float = 1.0) -> Factor:
    """Return ``gross / n`` for each of the ``n`` rows the selection passes at a ``ts``, else 0."""
    _filter(selection, "selection")
    total = _gross(gross)

    def build(columns: Sequence[pl.Expr], universe: pl.Expr) -> pl.Expr:
        return _share(columns[0] & universe, total)

    return Factor(build, (selection,), label=f"equal_weight({selection.label})")


def long_short(long: Filter, short: Filter, *, gross: float = 1.0) -> Factor:
    """Return ``+gross/2`` split equally over ``long`` and ``-gross/2`` over ``short``.

    A side with no symbol at a ``ts`` gets nothing (the other keeps its half); a symbol in both
    nets to zero.
    """
    _filter(long, "long")
    _filter(short, "short")
    half = _gross(gross) / 2.0

    def build(columns: Sequence[pl.Expr], universe: pl.Expr) -> pl.Expr:
        return _share(columns[0] & universe, half) - _share(columns[1] & universe, half)

    return Factor(build, (long, short), label=f"long_short({long.label}, {short.label})")


def proportional(factor: Factor, *, mask: Filter | None = None, gross: float = 1.0) -> Factor:
    """Return ``gross * x / sum(|x|)`` across the symbols at each ``ts`` (null ``x``: weight 0).

    A demeaned or z-scored factor gives a dollar-neutral long/short book; a positive factor a
    long-only one.
    """
    if not isinstance(factor, Factor):
        raise ConfigError(f"factor must be a Factor, got {type(factor).__name__}")
    total = _gross(gross)
    inputs = [factor] if mask is None else [factor, _filter(mask, "mask")]

    def build(columns: Sequence[pl.Expr], universe: pl.Expr) -> pl.Expr:
        keep = universe if mask is None else universe & columns[1]
        value = pl.when(keep).then(columns[0]).otherwise(None)
        scale = value.abs().sum().over(_TIME)
        return pl.when(scale > 0.0).then(total * value / scale).otherwise(None).fill_null(0.0)

    return Factor(build, inputs, label=f"proportional({factor.label})")
