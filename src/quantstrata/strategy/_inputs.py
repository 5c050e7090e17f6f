"""Turn the arrays users hold (NumPy, pandas, Polars, lists) into NumPy arrays, and back again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from quantstrata.core.errors import ConfigError, DataError, DataIssue

__all__ = ["BoolArray", "FloatArray", "ResultKind", "as_bool_array", "as_float_array", "kind_of"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class ResultKind:
    """How to hand a result back: as the container kind (and pandas index) of an input."""

    kind: str
    index: Any = None

    def wrap(self, values: FloatArray, name: str) -> Any:
        """Return ``values`` as a NumPy array, a pandas Series or a Polars Series."""
        if self.kind == "polars":
            return pl.Series(name, values)
        if self.kind == "pandas":
            import pandas as pd

            return pd.Series(values, index=self.index, name=name, copy=False)
        return values


def kind_of(value: Any) -> ResultKind:
    """Return the container kind of ``value`` (pandas is recognised without importing it)."""
    if isinstance(value, pl.Series):
        return ResultKind("polars")
    if type(value).__module__.startswith("pandas") and hasattr(value, "index"):
        return ResultKind("pandas", value.index)
    return ResultKind("numpy")


def as_bool_array(value: Any, name: str) -> BoolArray:
    """Return ``value`` as a 1-D boolean array.

    Booleans and the numbers 0 and 1 are accepted; missing values (null, NaN, None, ``pd.NA``)
    count as False, so a shifted signal needs no filling. Anything else is a :class:`DataError`
    naming the first offending row.
    """
    if isinstance(value, pl.Series):
        if value.dtype == pl.Boolean:
            return value.fill_null(value=False).to_numpy().astype(np.bool_, copy=False)
        if not (value.dtype.is_numeric() or value.dtype == pl.Null):
            raise DataError(f"{name} must be boolean, got a Polars {value.dtype} series")
        value = value.cast(pl.Float64).fill_null(np.nan).to_numpy()
    elif kind_of(value).kind == "pandas":
        value = value.astype(object).where(value.notna(), np.nan).to_numpy()
    array = np.asarray(value)
    if array.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.dtype == np.bool_:
        return array
    try:
        numbers = array.astype(np.float64)
    except (TypeError, ValueError):
        numbers = np.array([_number_or_nan(item) for item in array], dtype=np.float64)
    missing = np.isnan(numbers)
    bad = ~missing & (numbers != 0.0) & (numbers != 1.0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        issue = DataIssue(
            "not_boolean", "a signal must be True/False (or 1/0)", row, name, array[row]
        )
        raise DataError(f"{name} must hold booleans", (issue,))
    result: BoolArray = ~missing & (numbers == 1.0)
    return result


def _number_or_nan(item: Any) -> float:
    if item is None:
        return float("nan")
    try:
        return float(item)
    except (TypeError, ValueError):
        return 2.0  # not a signal value: reported as not boolean


def as_float_array(value: Any, name: str, length: int) -> FloatArray:
    """Return ``value`` (a number or a sequence of ``length`` numbers) as a float64 array."""
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return np.full(length, float(value), dtype=np.float64)
    if isinstance(value, pl.Series):
        value = value.cast(pl.Float64).fill_null(np.nan).to_numpy()
    elif hasattr(value, "to_numpy"):
        value = value.to_numpy()
    if not isinstance(value, np.ndarray | Sequence):
        raise ConfigError(f"{name} must be a number or an array of numbers, got {value!r}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must hold numbers") from None
    if array.shape != (length,):
        raise DataError(
            f"{name} must have {length} values like the signals, got shape {array.shape}"
        )
    return array
