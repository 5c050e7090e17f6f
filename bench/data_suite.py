"""The data suite: normalise, ingest, read and resample bars, quantstrata vs pandas.

Every task does the same work both ways; the pandas side is written the way a competent pandas
user would (vectorised column comparisons, ``engine="pyarrow"`` for CSV, pyarrow filters for
Parquet). Inputs come from :func:`quantstrata.data.synthetic.generate_bars`, so every run sees
the same data. Polars uses every core; pandas uses one, as each library does by default.

Goals (full size, from the issue): normalise+validate at least 5M rows/s, CSV→catalog ingest at
least 2M rows/s, reading one symbol-year of 1-minute bars under 50 ms, resampling 10M 1-minute
bars to 1-hour under 1 s.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from bench.harness import Goal, Side, Size, Suite, Task

__all__ = ["SUITE"]

SYMBOL = "X"
PRICES = ("open", "high", "low", "close")
VALUES = (*PRICES, "volume")
NORMALISE_ROWS = 5_000_000
INGEST_ROWS = 5_000_000
SYMBOL_YEAR_ROWS = 365 * 24 * 60  # one 24/7 year of 1-minute bars: 525,600
RESAMPLE_ROWS = 10_000_000
READ_SYMBOLS = ("AAA", "BBB", "CCC")
READ_START = datetime(2021, 1, 1, tzinfo=UTC)  # 2021 is not a leap year


def _bars(rows: int, **options: Any) -> pl.DataFrame:
    from quantstrata.data.synthetic import generate_bars

    return generate_bars(bars=rows, symbols=options.pop("symbols", SYMBOL), **options)


def _digest_frame(rows: int, close_sum: float) -> str:
    return f"{rows} rows, sum(close)={close_sum:.6e}"


def _digest_polars(frame: pl.DataFrame) -> str:
    return _digest_frame(frame.height, float(frame.get_column("close").sum()))


def _digest_pandas(frame: pd.DataFrame) -> str:
    return _digest_frame(len(frame), float(frame["close"].sum()))


# ------------------------------------------------------------------ pandas doing the same work


class PandasValidationError(ValueError):
    """The pandas side found bad bars (never expected on the benchmark's clean inputs)."""


def pandas_normalise(frame: pd.DataFrame, symbol: str, timezone: str) -> pd.DataFrame:
    """Do what ``to_bars`` does, with pandas: rename, localise to UTC ns, cast, check."""
    out = frame.rename(columns=str.lower)
    index = pd.DatetimeIndex(out.index)
    if index.tz is None:
        index = index.tz_localize(timezone)
    index = index.tz_convert("UTC").as_unit("ns")
    out = out.astype(dict.fromkeys(VALUES, "float64"))
    out.index = index
    pandas_validate(out)
    out = out.rename_axis("ts").reset_index()
    out.insert(1, "symbol", symbol)
    return out[["ts", "symbol", *VALUES]]


def pandas_validate(frame: pd.DataFrame) -> None:
    """Check order, duplicates, finiteness, positivity and OHLC consistency; raise on any issue."""
    index = frame.index
    if not index.is_monotonic_increasing:
        raise PandasValidationError("timestamps out of order")
    if index.has_duplicates:
        raise PandasValidationError("duplicate timestamps")
    open_, high, low, close, volume = (frame[name] for name in VALUES)
    bad = ~np.isfinite(frame[list(VALUES)].to_numpy()).all(axis=1)
    bad |= (open_ <= 0) | (high <= 0) | (low <= 0) | (close <= 0) | (volume < 0)
    bad |= (high < open_) | (high < close) | (high < low)
    bad |= (low > open_) | (low > close)
    if bad.any():
        raise PandasValidationError(f"{int(bad.sum())} bad rows")


# ------------------------------------------------------------------ 1. normalise + validate


def _normalise_setup(size: Size, _workdir: Path) -> pd.DataFrame:
    bars = _bars(size.rows(NORMALISE_ROWS))
    frame = bars.select(*VALUES).to_pandas()
    frame.columns = ["Open", "High", "Low", "Close", "Volume"]
    frame.index = pd.DatetimeIndex(bars.get_column("ts").dt.replace_time_zone(None).to_numpy())
    return frame


def _normalise_quantstrata(frame: pd.DataFrame) -> pl.DataFrame:
    from quantstrata.process.normalize import to_bars

    return to_bars(frame, symbol=SYMBOL, timezone="UTC")


NORMALISE = Task(
    name="normalize_validate",
    description="5M-row pandas frame (Open/High/Low/Close/Volume, naive DatetimeIndex) to "
    "validated canonical bars: to_bars(df, symbol='X', timezone='UTC')",
    rows=lambda size: size.rows(NORMALISE_ROWS),
    goal=Goal.rate(5_000_000),
    quantstrata=Side(
        "quantstrata",
        _normalise_setup,
        _normalise_quantstrata,
        digest=lambda _context, result: _digest_polars(result),
    ),
    peer=Side(
        "pandas",
        _normalise_setup,
        lambda frame: pandas_normalise(frame, SYMBOL, "UTC"),
        digest=lambda _context, result: _digest_pandas(result),
    ),
)


# ------------------------------------------------------------------ 2. CSV -> catalog ingest


@dataclass(slots=True)
class _IngestContext:
    csv: Path
    target: Path


def _ingest_setup(size: Size, workdir: Path) -> _IngestContext:
    """Write a CSV in the bundled samples' layout: unnamed time column, then Open..Volume."""
    bars = _bars(size.rows(INGEST_ROWS))
    path = workdir / f"{SYMBOL}_1m.csv"
    bars.select(
        pl.col("ts").dt.strftime("%Y-%m-%d %H:%M:%S").alias(""),
        *(pl.col(name).alias(name.capitalize()) for name in VALUES),
    ).write_csv(path)
    return _IngestContext(csv=path, target=workdir / "catalog")


def _ingest_reset(context: _IngestContext) -> None:
    shutil.rmtree(context.target, ignore_errors=True)


def _ingest_quantstrata(context: _IngestContext) -> object:
    from quantstrata.data.catalog import Catalog
    from quantstrata.data.importers import import_file

    return import_file(
        Catalog(context.target), context.csv, interval="1m", symbol=SYMBOL, timezone="UTC"
    )


def _ingest_quantstrata_digest(context: _IngestContext, _result: object) -> str:
    from quantstrata.data.catalog import Catalog

    return _digest_polars(Catalog(context.target).read(SYMBOL, interval="1m"))


def _ingest_pandas(context: _IngestContext) -> None:
    frame = pd.read_csv(context.csv, index_col=0, engine="pyarrow")
    frame.index = pd.DatetimeIndex(frame.index)
    bars = pandas_normalise(frame, SYMBOL, "UTC")
    bars["interval"] = "1m"
    bars.to_parquet(context.target, partition_cols=["interval", "symbol"], index=False)


def _ingest_pandas_digest(context: _IngestContext, _result: object) -> str:
    return _digest_pandas(pd.read_parquet(context.target))


INGEST = Task(
    name="csv_ingest",
    description="multi-million-row CSV (bundled-sample layout) into the Parquet catalog: "
    "import_file(Catalog(root), path, interval='1m', symbol='X', timezone='UTC')",
    rows=lambda size: size.rows(INGEST_ROWS),
    goal=Goal.rate(2_000_000),
    repeat=3,
    quantstrata=Side(
        "quantstrata",
        _ingest_setup,
        _ingest_quantstrata,
        digest=_ingest_quantstrata_digest,
        reset=_ingest_reset,
    ),
    peer=Side(
        "pandas",
        _ingest_setup,
        _ingest_pandas,
        digest=_ingest_pandas_digest,
        reset=_ingest_reset,
    ),
)


# ------------------------------------------------------------------ 3. read a symbol-year


@dataclass(slots=True)
class _ReadContext:
    root: Path
    start: datetime
    end: datetime


def _read_setup(size: Size, workdir: Path) -> _ReadContext:
    """Store two periods' worth of 1-minute bars for three symbols; read one symbol's first."""
    from quantstrata.data.catalog import Catalog

    rows = size.rows(SYMBOL_YEAR_ROWS)
    bars = _bars(2 * rows, symbols=list(READ_SYMBOLS), start=READ_START)
    root = workdir / "catalog"
    Catalog(root).write(bars, interval="1m")
    return _ReadContext(root=root, start=READ_START, end=READ_START + timedelta(minutes=rows))


def _read_quantstrata(context: _ReadContext) -> pl.DataFrame:
    from quantstrata.data.catalog import Catalog

    return Catalog(context.root).read(
        [READ_SYMBOLS[1]], interval="1m", start=context.start, end=context.end
    )


def _read_pandas(context: _ReadContext) -> pd.DataFrame:
    start, end = pd.Timestamp(context.start), pd.Timestamp(context.end)
    return pd.read_parquet(
        context.root / "interval=1m",
        engine="pyarrow",
        filters=[("symbol", "==", READ_SYMBOLS[1]), ("ts", ">=", start), ("ts", "<", end)],
    )


READ = Task(
    name="catalog_read",
    description="one symbol-year of 24/7 1-minute bars (525,600 rows) out of a 3-symbol, "
    "2-year catalog: Catalog.read([sym], interval='1m', start=..., end=...)",
    rows=lambda size: size.rows(SYMBOL_YEAR_ROWS),
    goal=Goal.seconds(0.050),
    repeat=10,
    quantstrata=Side(
        "quantstrata",
        _read_setup,
        _read_quantstrata,
        digest=lambda _context, result: _digest_polars(result),
    ),
    peer=Side(
        "pandas",
        _read_setup,
        _read_pandas,
        digest=lambda _context, result: _digest_pandas(result),
    ),
)


# ------------------------------------------------------------------ 4. resample 1m -> 1h


def _resample_quantstrata(bars: pl.DataFrame) -> pl.DataFrame:
    from quantstrata.process.resample import resample

    return resample(bars, "1h")


def _resample_pandas_setup(size: Size, _workdir: Path) -> pd.DataFrame:
    bars = _bars(size.rows(RESAMPLE_ROWS))
    return bars.select("ts", *VALUES).to_pandas().set_index("ts")


def _resample_pandas(frame: pd.DataFrame) -> pd.DataFrame:
    aggregation = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    return frame.resample("1h").agg(aggregation)


RESAMPLE = Task(
    name="resample_1h",
    description="10M 1-minute bars of one symbol to 1-hour bars: resample(bars, '1h')",
    rows=lambda size: size.rows(RESAMPLE_ROWS),
    goal=Goal.seconds(1.0),
    repeat=3,
    quantstrata=Side(
        "quantstrata",
        lambda size, _workdir: _bars(size.rows(RESAMPLE_ROWS)),
        _resample_quantstrata,
        digest=lambda _context, result: _digest_polars(result),
    ),
    peer=Side(
        "pandas",
        _resample_pandas_setup,
        _resample_pandas,
        digest=lambda _context, result: _digest_pandas(result),
    ),
)


SUITE = Suite(
    name="data",
    description="data acquisition and processing: normalise, ingest, read, resample",
    peer="pandas",
    tasks=(NORMALISE, INGEST, READ, RESAMPLE),
)
