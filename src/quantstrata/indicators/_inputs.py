"""Turn NumPy arrays, pandas Series and Polars Series into float64 arrays, and back again.

Batch indicators compute on contiguous float64 NumPy arrays. :func:`prepare` checks and converts
every input and returns an :class:`OutputKind` that gives results back in the kind of container
the caller passed (ndarray in → ndarray out, pandas Series in → Series with the same index,
Polars Series in → Polars Series, where warm-up NaN becomes null as Polars users expect).

NaN rule (documented for every batch indicator): *leading* NaN values (and Polars nulls) are
allowed, so indicators can be chained; the indicator starts at the first finite value. A NaN or
infinity after the first finite value is refused with :class:`~quantstrata.core.errors.DataError`
naming the position, because a silent NaN would poison every later value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from quantstrata.core.errors import ConfigError, DataError, DataIssue
from quantstrata.indicators import _nb

__all__ = ["FloatArray", "OutputKind", "check_period", "first_finite", "prepare"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class OutputKind:
    """How to hand results back: the container kind, index and name of the first input."""

    kind: str
    index: Any = None
    name: str | None = None

    def wrap(self, values: FloatArray, name: str | None = None) -> Any:
        """Return ``values`` in the caller's container kind."""
        if self.kind == "pandas":
            import pandas as pd

            return pd.Series(values, index=self.index, name=name or self.name, copy=False)
        if self.kind == "polars":
            import polars as pl

            return pl.Series(name or self.name or "", values).fill_nan(None)
        return values


def prepare(*inputs: Any, names: Sequence[str]) -> tuple[list[FloatArray], OutputKind]:
    """Convert every input to a float64 array, check they are usable, and note the output kind.

    ``names`` names the inputs (``"high"``, ``"close"``) for error messages.
    """
    arrays: list[FloatArray] = []
    kind = _output_kind(inputs[0])
    for value, name in zip(inputs, names, strict=True):
        array = _to_array(value, name)
        _check_finite_after_start(array, name)
        arrays.append(array)
    lengths = {name: len(array) for name, array in zip(names, arrays, strict=True)}
    if len(set(lengths.values())) > 1:
        raise DataError(f"indicator inputs must have equal lengths, got {lengths}")
    return arrays, kind


def check_period(value: int, name: str = "period", minimum: int = 1) -> int:
    """Return ``value`` if it is an integer ≥ ``minimum``; otherwise raise :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def first_finite(array: FloatArray) -> int:
    """Return the index of the first finite value (``len(array)`` if there is none)."""
    return int(_nb.first_finite_nb(array))


def _output_kind(value: Any) -> OutputKind:
    module = type(value).__module__.split(".")[0]
    if module == "pandas":
        return OutputKind("pandas", index=value.index, name=value.name)
    if module == "polars":
        return OutputKind("polars", name=value.name)
    return OutputKind("numpy")


def _to_array(value: Any, name: str) -> FloatArray:
    module = type(value).__module__.split(".")[0]
    if module == "polars":
        import polars as pl

        if value.dtype == pl.Float64 and not value.null_count():
            value = value.to_numpy()  # a view; casting and filling would be two queries
        else:
            value = value.cast(float).fill_null(float("nan")).to_numpy()
    elif module == "pandas":
        value = value.to_numpy(dtype=np.float64, na_value=np.nan)
    try:
        array = np.ascontiguousarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise DataError(f"indicator input {name!r} is not numeric: {error}") from None
    if array.ndim != 1:
        raise DataError(
            f"indicator input {name!r} must be one-dimensional, got shape {array.shape}"
        )
    return array


def _check_finite_after_start(array: FloatArray, name: str) -> None:
    start = first_finite(array)
    # A sum is finite only if every term is: one fast SIMD pass screens clean input. A finite
    # sum can still overflow to infinity; the exact count below then decides.
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.sum(array[start:])
    if np.isfinite(total) or _nb.count_non_finite_after_nb(array, start) == 0:
        return
    bad = np.flatnonzero(~np.isfinite(array[start:]))
    if bad.size:
        issues = tuple(
            DataIssue(
                "non_finite_input",
                "NaN or infinity after the first valid value",
                row=int(start + position),
                column=name,
                value=float(array[start + position]),
            )
            for position in bad[:10]
        )
        raise DataError(
            f"indicator input {name!r} has {bad.size} non-finite value(s) after its first valid "
            "value; only leading NaN is allowed",
            issues,
        )
