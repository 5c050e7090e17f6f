"""Per-symbol features of bar frames as Polars expressions, usable from pandas too.

Every builder (:func:`returns`, :func:`rolling_mean`, …) returns a :class:`polars.Expr` evaluated
separately for each symbol (``.over("symbol")``), so a window never mixes two symbols. Rows of
one symbol must be in time order; symbols may be interleaved (as a multi-symbol frame sorted by
``ts`` is). The first rows of every symbol, where a window is not yet full (the *warm-up*), are
null in Polars and NaN in pandas: never a partial-window value.

Two entry points evaluate the expressions:

- :func:`add_features` appends named features to a frame and returns the same kind of frame
  (Polars in, Polars out; pandas in, pandas out with the index kept).
- :func:`compute_feature` evaluates one feature and returns a Series of the input's library. It
  also takes a single pandas or Polars Series when the feature reads only one column: the Series
  stands for that column, e.g. ``compute_feature(prices, returns())`` with ``prices`` a pandas
  Series.

A frame without a ``symbol`` column is treated as one symbol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import overload

import pandas as pd
import polars as pl

from quantstrata.core.errors import ConfigError, DataError, DataIssue, SchemaError

__all__ = [
    "FeatureSet",
    "add_features",
    "compute_feature",
    "high_low_range",
    "log_returns",
    "returns",
    "rolling_mean",
    "rolling_std",
    "rolling_zscore",
    "volume_weighted_return",
]

FeatureSet = Mapping[str, pl.Expr] | Sequence[pl.Expr]
"""Features to add: ``{"name": expression}``, or expressions named by their output names."""

_SYMBOL = "symbol"
_PLACEHOLDER_SYMBOL = "__single__"
_MAX_ISSUES = 20


def returns(column: str = "close", periods: int = 1) -> pl.Expr:
    """Return the simple return ``x[t] / x[t - periods] - 1`` of ``column``, per symbol."""
    _check_count("periods", periods)
    value = pl.col(column)
    change = value / value.shift(periods) - 1.0
    return change.over(_SYMBOL).alias(f"{column}_return_{periods}")


def log_returns(column: str = "close", periods: int = 1) -> pl.Expr:
    """Return the log return ``ln(x[t] / x[t - periods])`` of ``column``, per symbol."""
    _check_count("periods", periods)
    value = pl.col(column)
    change = (value / value.shift(periods)).log()
    return change.over(_SYMBOL).alias(f"{column}_log_return_{periods}")


def rolling_mean(column: str, window: int) -> pl.Expr:
    """Return the mean of the last ``window`` values of ``column`` (this one included)."""
    _check_count("window", window)
    mean = pl.col(column).rolling_mean(window, min_samples=window)
    return mean.over(_SYMBOL).alias(f"{column}_mean_{window}")


def rolling_std(column: str, window: int, ddof: int = 1) -> pl.Expr:
    """Return the standard deviation of the last ``window`` values (``ddof=1``: sample).

    ``window`` must exceed ``ddof``, otherwise every value would be undefined.
    """
    _check_window_ddof(window, ddof)
    std = pl.col(column).rolling_std(window, min_samples=window, ddof=ddof)
    return std.over(_SYMBOL).alias(f"{column}_std_{window}")


def rolling_zscore(column: str, window: int, ddof: int = 1) -> pl.Expr:
    """Return ``(x - rolling mean) / rolling std`` over the last ``window`` values.

    The current value is part of its own window. Where the window's standard deviation is zero
    (a constant stretch) the z-score is undefined and null.
    """
    _check_window_ddof(window, ddof)
    value = pl.col(column)
    mean = value.rolling_mean(window, min_samples=window)
    std = value.rolling_std(window, min_samples=window, ddof=ddof)
    score = pl.when(std > 0).then((value - mean) / std).otherwise(None)
    return score.over(_SYMBOL).alias(f"{column}_zscore_{window}")


def volume_weighted_return(window: int, column: str = "close") -> pl.Expr:
    """Return the volume-weighted mean of the last ``window`` one-bar simple returns.

    Precisely: ``sum(v[i] * r[i]) / sum(v[i])`` over ``i = t - window + 1 .. t``, where
    ``r[i] = x[i] / x[i - 1] - 1`` is the one-bar return of ``column`` and ``v[i]`` the volume
    of bar ``i``. The first ``window`` rows of each symbol are null (the first return needs a
    previous bar), as is any window whose volumes sum to zero.
    """
    _check_count("window", window)
    value = pl.col(column)
    one_bar = value / value.shift(1) - 1.0
    weighted = (one_bar * pl.col("volume")).rolling_sum(window, min_samples=window)
    total = pl.col("volume").rolling_sum(window, min_samples=window)
    result = pl.when(total > 0).then(weighted / total).otherwise(None)
    return result.over(_SYMBOL).alias(f"volume_weighted_return_{window}")


def high_low_range() -> pl.Expr:
    """Return the bar's range relative to its close: ``(high - low) / close``."""
    return ((pl.col("high") - pl.col("low")) / pl.col("close")).alias("high_low_range")


@overload
def add_features(bars: pl.DataFrame, features: FeatureSet) -> pl.DataFrame: ...
@overload
def add_features(bars: pd.DataFrame, features: FeatureSet) -> pd.DataFrame: ...
def add_features(
    bars: pl.DataFrame | pd.DataFrame, features: FeatureSet
) -> pl.DataFrame | pd.DataFrame:
    """Return ``bars`` with one new column per feature, in the library ``bars`` came in.

    ``features`` maps output names to expressions, or lists expressions that carry their own
    names. Raise :class:`ConfigError` for an empty or clashing feature set and
    :class:`DataError` when a symbol's rows are out of time order.
    """
    named = _named(features)
    clashes = sorted(set(named) & set(bars.columns))
    if clashes:
        raise ConfigError(f"features {clashes} would overwrite existing columns")
    expressions = [expression.alias(name) for name, expression in named.items()]
    if isinstance(bars, pd.DataFrame):
        computed = _evaluate(pl.from_pandas(bars), expressions)
        result = bars.copy()
        for name in named:
            result[name] = computed.get_column(name).to_numpy()
        return result
    if isinstance(bars, pl.DataFrame):
        return bars.with_columns(_evaluate(bars, expressions))
    raise SchemaError(f"add_features takes a Polars or pandas DataFrame, got {type(bars).__name__}")


@overload
def compute_feature(data: pl.DataFrame | pl.Series, feature: pl.Expr) -> pl.Series: ...
@overload
def compute_feature(data: pd.DataFrame | pd.Series, feature: pl.Expr) -> pd.Series: ...
def compute_feature(
    data: pl.DataFrame | pl.Series | pd.DataFrame | pd.Series, feature: pl.Expr
) -> pl.Series | pd.Series:
    """Evaluate one feature on ``data`` and return it as a Series of ``data``'s library.

    A Series stands for the one column the feature reads (``compute_feature(close, returns())``).
    pandas results keep the input's index; warm-up rows are NaN.
    """
    if isinstance(data, pd.Series | pl.Series):
        frame = _series_frame(data, feature)
    elif isinstance(data, pd.DataFrame):
        frame = pl.from_pandas(data)
    elif isinstance(data, pl.DataFrame):
        frame = data
    else:
        raise SchemaError(
            f"compute_feature takes a Polars or pandas frame or series, got {type(data)}"
        )
    result = _evaluate(frame, [feature]).to_series()
    if isinstance(data, pd.Series | pd.DataFrame):
        values = result.cast(pl.Float64).to_numpy()
        return pd.Series(values, index=data.index, name=result.name)
    return result


def _evaluate(frame: pl.DataFrame, expressions: list[pl.Expr]) -> pl.DataFrame:
    """Evaluate ``expressions`` per symbol after checking each symbol's rows are in time order."""
    if _SYMBOL not in frame.columns:
        frame = frame.with_columns(pl.lit(_PLACEHOLDER_SYMBOL).alias(_SYMBOL))
    _check_time_order(frame)
    try:
        return frame.select(expressions)
    except pl.exceptions.ColumnNotFoundError as error:
        raise SchemaError(f"a feature reads a column the data does not have: {error}") from None


def _check_time_order(frame: pl.DataFrame) -> None:
    if "ts" not in frame.columns:
        return
    backwards = frame.select(
        (pl.col("ts").diff().over(_SYMBOL) <= pl.duration(nanoseconds=0)).arg_true().alias("row")
    ).get_column("row")
    if backwards.len():
        issues = tuple(
            DataIssue(
                "time_order",
                "ts is not after the previous bar of the same symbol",
                row=int(row),
                column="ts",
                value=frame.get_column("ts")[int(row)],
                symbol=frame.get_column(_SYMBOL)[int(row)],
            )
            for row in backwards.head(_MAX_ISSUES)
        )
        raise DataError("features need each symbol's rows in increasing time order", issues)


def _series_frame(series: pd.Series | pl.Series, feature: pl.Expr) -> pl.DataFrame:
    roots = [name for name in dict.fromkeys(feature.meta.root_names()) if name != _SYMBOL]
    if len(roots) != 1:
        raise ConfigError(
            f"this feature reads columns {roots}; pass a DataFrame with them, not a Series"
        )
    values = pl.from_pandas(series) if isinstance(series, pd.Series) else series
    return pl.DataFrame({roots[0]: values.cast(pl.Float64)})


def _named(features: FeatureSet) -> dict[str, pl.Expr]:
    if isinstance(features, Mapping):
        named = dict(features)
    else:
        named = {}
        for expression in features:
            name = expression.meta.output_name()
            if name in named:
                raise ConfigError(f"two features are named {name!r}; pass a dict of names")
            named[name] = expression
    if not named:
        raise ConfigError("no features given")
    return named


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def _check_window_ddof(window: int, ddof: int) -> None:
    _check_count("window", window)
    if isinstance(ddof, bool) or not isinstance(ddof, int) or ddof < 0:
        raise ConfigError(f"ddof must be a non-negative integer, got {ddof!r}")
    if window <= ddof:
        raise ConfigError(f"window ({window}) must exceed ddof ({ddof})")
