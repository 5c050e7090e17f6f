"""Factors built from bars: prices, returns, momentum, liquidity, volatility, indicators, custom.

Every factor here is a time-series step computed per symbol on that symbol's bars up to each
row; combine them with arithmetic and the cross-sectional methods of
:class:`~quantstrata.strategy.pipeline.terms.Factor` (rank, z-score, top N ...).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from quantstrata.core.errors import ConfigError
from quantstrata.indicators import add_indicators, indicator
from quantstrata.indicators import warmup_bars as indicator_warmup
from quantstrata.indicators.registry import definition
from quantstrata.strategy.pipeline._per_symbol import per_symbol
from quantstrata.strategy.pipeline.terms import Factor

__all__ = [
    "average_dollar_volume",
    "custom_factor",
    "expression_factor",
    "indicator_factor",
    "latest",
    "momentum",
    "trailing_return",
    "volatility",
]

_SYMBOL = "symbol"


def _window(value: int, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return value


def latest(column: str = "close") -> Factor:
    """Return the factor "this bar's ``column``" (``close`` by default)."""
    return Factor(lambda _columns, _universe: pl.col(column), label=column)


def trailing_return(window: int, column: str = "close") -> Factor:
    """Return the simple return over the last ``window`` bars: ``x[t] / x[t - window] - 1``."""
    _window(window, "window")

    def build(_columns: Sequence[pl.Expr], _universe: pl.Expr) -> pl.Expr:
        price = pl.col(column)
        return (price / price.shift(window) - 1.0).over(_SYMBOL)

    return Factor(build, lookback=window, label=f"trailing_return({window})")


def momentum(window: int, skip: int = 0, column: str = "close") -> Factor:
    """Return the return from ``window`` bars ago to ``skip`` bars ago (the 12-1 month style).

    ``momentum(252, 21)`` is the classic twelve-month momentum skipping the last month:
    ``x[t - skip] / x[t - window] - 1``.
    """
    _window(window, "window")
    _window(skip, "skip", minimum=0)
    if skip >= window:
        raise ConfigError(f"momentum: skip ({skip}) must be less than window ({window})")

    def build(_columns: Sequence[pl.Expr], _universe: pl.Expr) -> pl.Expr:
        price = pl.col(column)
        return (price.shift(skip) / price.shift(window) - 1.0).over(_SYMBOL)

    return Factor(build, lookback=window, label=f"momentum({window}, {skip})")


def average_dollar_volume(window: int) -> Factor:
    """Return the mean of ``close * volume`` over the last ``window`` bars (a liquidity score)."""
    _window(window, "window")

    def build(_columns: Sequence[pl.Expr], _universe: pl.Expr) -> pl.Expr:
        return (pl.col("close") * pl.col("volume")).rolling_mean(window).over(_SYMBOL)

    return Factor(build, lookback=window - 1, label=f"average_dollar_volume({window})")


def volatility(window: int, column: str = "close") -> Factor:
    """Return the sample standard deviation of the last ``window`` one-bar simple returns."""
    _window(window, "window", minimum=2)

    def build(_columns: Sequence[pl.Expr], _universe: pl.Expr) -> pl.Expr:
        change = pl.col(column) / pl.col(column).shift(1) - 1.0
        return change.rolling_std(window).over(_SYMBOL)

    return Factor(build, lookback=window, label=f"volatility({window})")


def indicator_factor(name: str, *, output: str | None = None, **parameters: Any) -> Factor:
    """Return an indicator of :mod:`quantstrata.indicators` as a factor, computed per symbol.

    ``output`` picks one output of a multi-output indicator (``macd``'s ``"signal"``); the
    lookback is the indicator's warm-up, so live runs hold enough bars.
    """
    spec = indicator(name, alias="__pipeline_indicator__", **parameters)
    item = definition(name)
    columns = spec.column_names()
    if output is None:
        if len(columns) != 1:
            raise ConfigError(f"indicator {name!r} has outputs {item.outputs}; pass output=")
        column = columns[0]
    elif output in item.outputs:
        column = columns[item.outputs.index(output)]
    else:
        raise ConfigError(f"indicator {name!r} has no output {output!r}; it has {item.outputs}")

    def compute(frame: pl.DataFrame) -> pl.Series:
        needed = frame.select("ts", _SYMBOL, *item.inputs)
        return add_indicators(needed, [spec]).get_column(column)

    label = f"{name}({', '.join(f'{key}={value}' for key, value in parameters.items())})"
    return Factor(None, lookback=indicator_warmup(name, **parameters), label=label, compute=compute)


def custom_factor(
    function: Callable[[pl.DataFrame], Any], *, lookback: int, label: str = "custom"
) -> Factor:
    """Return a factor computed by ``function`` on each symbol's bars (sorted by time).

    ``function`` returns one number per bar (NumPy, pandas, Polars or a list; NaN means no
    value) and must use only bars at or before each row; ``lookback`` is the bars it needs
    before its first start-independent value. The backtester's look-ahead check catches a
    function that peeks ahead.
    """
    _window(lookback, "lookback", minimum=0)
    return Factor(
        None,
        lookback=lookback,
        label=label,
        compute=lambda frame: per_symbol(frame, function, label),
    )


def expression_factor(expression: pl.Expr, *, lookback: int, label: str = "expression") -> Factor:
    """Return a factor from a Polars expression over bar columns, evaluated per symbol.

    ``pl.col("close").pct_change(5)`` gives each symbol's own five-bar change: the expression
    runs ``over("symbol")`` on time-sorted rows. It must not look ahead (no negative shifts).
    """
    _window(lookback, "lookback", minimum=0)
    if not isinstance(expression, pl.Expr):
        raise ConfigError(f"expression_factor takes a Polars expression, got {expression!r}")
    return Factor(
        lambda _columns, _universe: expression.cast(pl.Float64).over(_SYMBOL),
        lookback=lookback,
        label=label,
    )
