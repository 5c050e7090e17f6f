"""Run a NumPy function on each symbol's bars of a time-sorted frame; return one value per row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from quantstrata.strategy._inputs import as_float_array

__all__ = ["per_symbol"]

_ROW = "__pipeline_row__"


def per_symbol(frame: pl.DataFrame, compute: Callable[[pl.DataFrame], Any], name: str) -> pl.Series:
    """Return ``compute`` of each symbol's rows (in time order) as one series in ``frame``'s order.

    ``compute`` receives one symbol's bars and returns one number per row (NaN or null: no
    value); symbols never see each other's bars.
    """
    numbered = frame.with_row_index(_ROW)
    values = np.full(frame.height, np.nan)
    for part in numbered.partition_by("symbol", maintain_order=True):
        ordered = part.sort("ts", maintain_order=True)
        rows = ordered.get_column(_ROW).to_numpy()
        computed = as_float_array(compute(ordered.drop(_ROW)), name, ordered.height)
        values[rows] = computed
    return pl.Series(name, values, dtype=pl.Float64).fill_nan(None)
