"""Find the bars a user names on the command line: a bundled sample, a file or a catalog symbol.

Each ``--data`` value is tried in this order: an existing CSV or Parquet file; with an explicit
``--catalog``, a symbol in that catalog; a bundled sample by name (``SPX_1d``) or symbol
(``SPX``), case-insensitive; a symbol in the default catalog. Several values are read one by
one and stacked into one multi-symbol frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from quantstrata.cli._options import as_utc
from quantstrata.core.errors import ConfigError, DataError, UnknownSymbolError
from quantstrata.data.catalog import Catalog
from quantstrata.data.importers import read_bars_file
from quantstrata.data.samples import load_sample, sample_info, sample_names
from quantstrata.model.interval import Interval

__all__ = ["LoadedBars", "load_bars"]

_FILE_SUFFIXES = frozenset({".csv", ".gz", ".parquet", ".pq", ".txt"})


@dataclass(frozen=True, slots=True)
class LoadedBars:
    """Bars ready for a backtest and where they came from.

    ``calendar`` is an exchange-calendars code when every source is a bundled sample (it
    annualises the metrics): the first source's, so several symbols are annualised by the
    same calendar rule as one; otherwise ``None`` (the market is inferred from timestamps).
    """

    bars: pl.DataFrame
    sources: tuple[str, ...]
    calendar: str | None


def load_bars(
    names: list[str],
    *,
    interval: str | None,
    catalog: Path | None,
    start: datetime | None,
    end: datetime | None,
) -> LoadedBars:
    """Read every named source, keep ``start <= ts < end`` and stack them into one frame."""
    if not names:
        raise ConfigError("--data needs at least one sample, file or catalog symbol")
    lower, upper = as_utc(start), as_utc(end)
    if lower is not None and upper is not None and lower >= upper:
        raise ConfigError(f"--from {lower} must be before --to {upper}")
    frames: list[pl.DataFrame] = []
    sources: list[str] = []
    calendars: list[str | None] = []
    seen: set[str] = set()
    for name in names:
        frame, source, calendar = _load_one(name, interval=interval, catalog=catalog)
        symbols = set(frame["symbol"].unique().to_list())
        if symbols & seen:
            raise ConfigError(f"--data gives {sorted(symbols & seen)} twice (again in {source})")
        seen |= symbols
        frames.append(_between(frame, lower, upper, source))
        sources.append(source)
        calendars.append(calendar)
    bars = pl.concat(frames, how="diagonal_relaxed").sort("ts", "symbol")
    calendar = calendars[0] if None not in calendars else None
    return LoadedBars(bars=bars, sources=tuple(sources), calendar=calendar)


def _load_one(
    name: str, *, interval: str | None, catalog: Path | None
) -> tuple[pl.DataFrame, str, str | None]:
    path = Path(name)
    if path.is_file():
        return read_bars_file(path, interval=interval), f"file {path}", None
    if path.suffix.lower() in _FILE_SUFFIXES:
        raise ConfigError(f"data file {path} does not exist")
    if catalog is None:
        sample = _sample_name(name, interval)
        if sample is not None:
            info = sample_info(sample)
            return load_sample(sample), f"sample {sample}", info.calendar
    store = Catalog(catalog)
    step = interval or "1d"
    missing = UnknownSymbolError(
        f"{name!r} is not a file, a bundled sample ({', '.join(sample_names())}) "
        f"or a {step} symbol in the catalog at {store.root}"
    )
    try:
        frame = store.read([name], interval=step)
    except UnknownSymbolError:
        raise missing from None
    if frame.is_empty():
        raise missing
    return frame, f"catalog {store.root} {name} {step}", None


def _sample_name(name: str, interval: str | None) -> str | None:
    """Return the bundled sample ``name`` means (a sample name or a symbol), if any."""
    wanted = name.strip().lower()
    step = None if interval is None else Interval.parse(interval)
    matches = []
    for sample in sample_names():
        symbol, _, sample_interval = sample.partition("_")
        if step is not None and Interval.parse(sample_interval) != step:
            continue
        if wanted in {sample.lower(), symbol.lower()}:
            matches.append(sample)
    return matches[0] if len(matches) == 1 else None


def _between(
    frame: pl.DataFrame, lower: datetime | None, upper: datetime | None, source: str
) -> pl.DataFrame:
    kept = frame
    if lower is not None:
        kept = kept.filter(pl.col("ts") >= lower)
    if upper is not None:
        kept = kept.filter(pl.col("ts") < upper)
    if kept.is_empty():
        raise DataError(f"{source} has no bars between {lower or 'start'} and {upper or 'end'}")
    return kept
