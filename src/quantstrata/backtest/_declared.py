"""Declared indicators in a backtest: the batch form over the whole history, read at the cursor.

A strategy declares an indicator in ``on_start``
(:meth:`~quantstrata.strategy.StrategyContext.indicator`); the backtester computes the
indicator's batch form once over the symbol's bars and lays the values out on the run's bar
times, carried forward over times the symbol has no bar (a streaming indicator keeps its value
until its next update). The handle shows the value at the loop's current bar only: the batch
value at bar *t* depends on bars up to *t* alone (invariant 3: batch == streaming), so nothing
later can leak. One extra NaN at the end of the value lists is what the handle shows before the
first bar (cursor ``-1``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from quantstrata.backtest._align import AlignedBars
from quantstrata.strategy.declared import resolve_indicator

if TYPE_CHECKING:
    from quantstrata.indicators.definition import IndicatorDefinition

__all__ = ["BatchIndicatorHandle", "BatchValues", "Cursor", "batch_values"]

BatchValues = tuple[list[float], list[tuple[float, ...]] | None, list[bool]]
"""Per bar time (plus the time before the first bar): first output, every output (``None`` for
a single-output indicator), readiness."""


class Cursor(Protocol):
    """Whatever holds the loop's current bar index (``-1`` before the first bar)."""

    bar: int


class BatchIndicatorHandle:
    """A declared indicator of one symbol whose values were computed in batch."""

    __slots__ = ("_cursor", "_ready", "_tuples", "_values", "symbol")

    def __init__(self, cursor: Cursor, symbol: str, values: BatchValues) -> None:
        """Show the values at ``cursor.bar``; each list ends with the value before the first bar."""
        self._cursor = cursor
        self.symbol = symbol
        self._values, self._tuples, self._ready = values

    @property
    def value(self) -> float:
        """The value at the current bar (NaN until it exists); the first output if several."""
        return self._values[self._cursor.bar]

    @property
    def values(self) -> tuple[float, ...]:
        """Every output at the current bar."""
        if self._tuples is None:
            return (self._values[self._cursor.bar],)
        return self._tuples[self._cursor.bar]

    @property
    def ready(self) -> bool:
        """Whether every output at the current bar is a number (not NaN)."""
        return self._ready[self._cursor.bar]


def batch_values(aligned: AlignedBars, column: int, name: str, **parameters: Any) -> BatchValues:
    """Return the outputs of indicator ``name`` of symbol ``column`` per bar time, and readiness.

    Every list has one entry per bar time plus a trailing NaN / ``False`` (the cursor ``-1``).
    """
    item, resolved = resolve_indicator(name, **parameters)
    rows = np.flatnonzero(aligned.has_bar[:, column])
    inputs = [_input(aligned, field, rows, column) for field in item.inputs]
    result = item.batch(*inputs, **resolved)
    outputs = _outputs(item, result)
    carried = _carry_forward(aligned.times.shape[0], rows)
    grids = [np.where(carried >= 0, output[np.maximum(carried, 0)], np.nan) for output in outputs]
    missing = np.zeros(aligned.times.shape[0], dtype=np.bool_)
    for grid in grids:
        missing |= np.isnan(grid)
    ready: list[bool] = [*(~missing).tolist(), False]
    columns = [[*grid.tolist(), math.nan] for grid in grids]
    several = list(zip(*columns, strict=True)) if len(columns) > 1 else None
    return columns[0], several, ready


def _input(aligned: AlignedBars, field: str, rows: npt.NDArray[np.int64], column: int) -> Any:
    if field == "ts":
        return aligned.times[rows].astype("datetime64[ns]")
    values: npt.NDArray[np.float64] = getattr(aligned, field)[rows, column]
    return np.ascontiguousarray(values)


def _outputs(item: IndicatorDefinition, result: Any) -> list[npt.NDArray[np.float64]]:
    if len(item.outputs) == 1:
        return [np.asarray(result, dtype=np.float64)]
    return [np.asarray(values, dtype=np.float64) for values in result]


def _carry_forward(times: int, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Return, per bar time, the index into ``rows`` of the symbol's latest bar (-1: none yet)."""
    carried = np.full(times, -1, dtype=np.int64)
    carried[rows] = np.arange(rows.shape[0], dtype=np.int64)
    np.maximum.accumulate(carried, out=carried)
    return carried
