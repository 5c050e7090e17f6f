"""Lay a bar frame out as ``(bars, symbols)`` arrays on the union of its bar times."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from quantstrata.backtest._nb import all_prices_valid_nb
from quantstrata.core.errors import DataError, DataIssue, SchemaError
from quantstrata.model.bar import (
    BAR_COLUMNS,
    PRICE_COLUMNS,
    TIMESTAMP_DTYPE,
    keys_strictly_increasing,
)

__all__ = ["AlignedBars", "align_bars", "canonical_bars"]

FloatArray = npt.NDArray[np.float64]
_PRICES = (*PRICE_COLUMNS, "volume")
_MAX_ISSUES = 10


@dataclass(frozen=True, slots=True)
class AlignedBars:
    """Bars as arrays: ``times`` (ns since the epoch, sorted) × ``symbols`` (sorted).

    Prices are ``NaN`` where a symbol has no bar; ``has_bar`` marks where it has one.
    """

    times: npt.NDArray[np.int64]
    symbols: tuple[str, ...]
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    has_bar: npt.NDArray[np.bool_]


def canonical_bars(bars: pl.DataFrame) -> pl.DataFrame:
    """Return ``bars`` sorted by ``ts`` then ``symbol``; refuse what the engine cannot simulate.

    Missing columns are a :class:`SchemaError`; duplicate ``(ts, symbol)`` rows and missing
    or non-positive prices are a :class:`DataError` naming the rows. Bars already in order
    (the usual case) are checked with vectorised comparisons and not sorted again; they come
    back in one contiguous chunk per column either way.
    """
    if not isinstance(bars, pl.DataFrame):
        raise SchemaError(f"bars must be a Polars DataFrame, got {type(bars).__name__}")
    missing = [name for name in BAR_COLUMNS if name not in bars.columns]
    if missing:
        raise SchemaError(
            f"bars lack column(s) {missing}; they have {bars.columns}",
            tuple(DataIssue("missing_column", "column is missing", column=n) for n in missing),
        )
    if bars.is_empty():
        raise DataError("bars are empty: nothing to backtest")
    frame = bars.with_columns(
        pl.col("ts").cast(TIMESTAMP_DTYPE), *(pl.col(name).cast(pl.Float64) for name in _PRICES)
    )
    if not keys_strictly_increasing(frame):
        frame = frame.sort("ts", "symbol", maintain_order=True)
        _check_unique(frame)
    elif frame.n_chunks() > 1:
        # Bars read from Parquet (the catalog, a worker's copy) come in row-group chunks;
        # every column the engine takes as a NumPy array would be copied on each access.
        frame = frame.rechunk()
    _check_prices(frame)
    return frame


def _check_unique(frame: pl.DataFrame) -> None:
    """Refuse repeated ``(ts, symbol)`` keys in a frame sorted by them."""
    if keys_strictly_increasing(frame):
        return
    indexed = frame.with_row_index("row")
    duplicated = indexed.filter(pl.struct("ts", "symbol").is_duplicated())
    if duplicated.height:
        raise DataError("bars hold more than one row for one (ts, symbol)", _issues(duplicated))


def _check_prices(frame: pl.DataFrame) -> None:
    """Refuse missing, non-finite or non-positive prices and missing symbols."""
    columns = [frame.get_column(name) for name in PRICE_COLUMNS]
    complete = frame.get_column("symbol").null_count() == 0
    complete = complete and not any(column.null_count() for column in columns)
    if complete and all_prices_valid_nb(*(column.to_numpy() for column in columns)):
        return
    prices_ok = pl.all_horizontal(
        *(pl.col(n).is_finite() & (pl.col(n) > 0) for n in PRICE_COLUMNS)
    ).fill_null(value=False)
    indexed = frame.with_row_index("row")
    bad = indexed.filter(~prices_ok | pl.col("symbol").is_null())
    raise DataError("bars hold missing, non-finite or non-positive prices", _issues(bad))


def align_bars(bars: pl.DataFrame, symbols: tuple[str, ...] | None = None) -> AlignedBars:
    """Return the canonical (sorted, checked) ``bars`` as aligned arrays.

    ``symbols`` (sorted) are the columns; ``None``: the symbols of ``bars`` (a streamed run
    passes every symbol of the run, so each stretch of bars has the same columns). One symbol's
    bars are laid out without copying: each price array is a read-only ``(bars, 1)`` view of
    the frame's column.
    """
    symbol = bars.get_column("symbol")
    one = bool((symbol == symbol[0]).all())
    if one and (symbols is None or symbols == (symbol[0],)):
        return _align_one_symbol(bars, str(symbol[0]))
    times = bars.get_column("ts").unique().sort()
    if symbols is None:
        symbols = tuple(sorted(symbol.unique().to_list()))
    row = times.search_sorted(bars.get_column("ts")).to_numpy()
    lookup = {name: index for index, name in enumerate(symbols)}
    column = symbol.replace_strict(lookup, return_dtype=pl.Int64).to_numpy()
    shape = (times.len(), len(symbols))
    arrays: dict[str, FloatArray] = {}
    for name in _PRICES:
        grid = np.full(shape, np.nan)
        grid[row, column] = bars.get_column(name).fill_null(0.0).to_numpy()
        arrays[name] = grid
    has_bar = np.zeros(shape, dtype=np.bool_)
    has_bar[row, column] = True
    return AlignedBars(
        times=times.dt.epoch("ns").to_numpy().astype(np.int64),
        symbols=symbols,
        has_bar=has_bar,
        **arrays,
    )


def _align_one_symbol(bars: pl.DataFrame, symbol: str) -> AlignedBars:
    """Lay out the canonical bars of a single symbol: one row per bar, views of the columns."""
    arrays: dict[str, FloatArray] = {}
    for name in _PRICES:
        column = bars.get_column(name)
        if column.null_count():
            column = column.fill_null(0.0)
        arrays[name] = column.to_numpy().reshape(-1, 1)
    times = bars.get_column("ts").dt.epoch("ns").to_numpy()
    return AlignedBars(
        times=np.ascontiguousarray(times, dtype=np.int64),
        symbols=(symbol,),
        has_bar=np.ones((bars.height, 1), dtype=np.bool_),
        **arrays,
    )


def _issues(rows: pl.DataFrame) -> tuple[DataIssue, ...]:
    return tuple(
        DataIssue("invalid_bar", "cannot be simulated", row, "ts", ts, symbol)
        for row, ts, symbol in rows.select("row", "ts", "symbol").head(_MAX_ISSUES).iter_rows()
    )
