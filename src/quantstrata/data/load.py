"""Load bars by name: a bundled sample, a CSV or Parquet file, or a symbol in the catalog.

One answer to "give me the bars called X", shared by notebooks, scripts and the command line.
Each name is tried in this order:

1. an existing CSV or Parquet file (a name with a file suffix that does not exist is an error,
   not a symbol);
2. with an explicit ``catalog``, a symbol in that catalog;
3. a bundled sample by name (``SPX_1d``) or by symbol (``SPX``), case-insensitive;
4. a symbol in the default catalog (``$QUANTSTRATA_CATALOG`` or the user data folder).

Several names are read one by one and stacked into one multi-symbol frame sorted by
``(ts, symbol)``; ``start <= ts < end`` keeps a window of each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from quantstrata.core.clock import utc_bound
from quantstrata.core.errors import ConfigError, DataError, UnknownSymbolError
from quantstrata.data.catalog import Catalog
from quantstrata.data.importers import read_bars_file
from quantstrata.data.samples import load_sample, sample_info, sample_names
from quantstrata.model.interval import Interval

__all__ = ["BarSourceName", "LoadedBars", "load_bars", "load_named_bars"]

BarSourceName = str | Path
"""A sample name or symbol, a file path, or a catalog symbol."""
TimeBound = datetime | date | str | None
"""A range bound: an aware datetime, a date (00:00 UTC) or ISO text."""

_FILE_SUFFIXES = frozenset({".csv", ".gz", ".parquet", ".pq", ".txt"})
_DEFAULT_CATALOG_INTERVAL = "1d"


@dataclass(frozen=True, slots=True)
class LoadedBars:
    """Bars and where they came from.

    ``sources`` describes each name as found (``"sample SPX_1d"``, ``"file prices.csv"``,
    ``"catalog /data AAPL 1d"``). ``calendar`` is an exchange-calendars code when every
    source is a bundled sample (it annualises the metrics): the first source's, so several
    symbols are annualised by the same calendar rule as one; otherwise ``None`` (the market is
    inferred from the timestamps).
    """

    bars: pl.DataFrame
    sources: tuple[str, ...]
    calendar: str | None


def load_bars(
    source: BarSourceName | Sequence[BarSourceName],
    *,
    interval: str | Interval | None = None,
    catalog: Catalog | str | Path | None = None,
    start: TimeBound = None,
    end: TimeBound = None,
    timezone: str | None = None,
) -> pl.DataFrame:
    """Return the canonical bars ``source`` names: a sample, a CSV/Parquet file or a catalog symbol.

    ``source`` is one name or several (stacked into one multi-symbol frame). ``interval`` picks
    the sample or catalog interval (catalog default ``1d``) and tells a file reader the bar
    length; ``catalog`` is a :class:`~quantstrata.data.Catalog` or its root; ``start``/``end``
    keep ``start <= ts < end``; ``timezone`` places a file's naive timestamps (samples and the
    catalog are UTC already). A name that matches nothing raises
    :class:`~quantstrata.core.errors.UnknownSymbolError` naming what was tried, e.g.
    ``load_bars("SPX", start="2020-01-01")`` or ``load_bars(["AAPL", "MSFT"], catalog="data")``.
    """
    names = [source] if isinstance(source, str | Path) else list(source)
    return load_named_bars(
        names, interval=interval, catalog=catalog, start=start, end=end, timezone=timezone
    ).bars


def load_named_bars(
    names: Sequence[BarSourceName],
    *,
    interval: str | Interval | None = None,
    catalog: Catalog | str | Path | None = None,
    start: TimeBound = None,
    end: TimeBound = None,
    timezone: str | None = None,
) -> LoadedBars:
    """Read every name (see the module doc), keep ``start <= ts < end`` and stack the frames.

    Like :func:`load_bars`, and also says where each frame came from and the market calendar.
    """
    if not names:
        raise ConfigError("load_bars needs at least one sample, file or catalog symbol")
    lower, upper = utc_bound(start, "start"), utc_bound(end, "end")
    if lower is not None and upper is not None and lower >= upper:
        raise ConfigError(f"start {lower} must be before end {upper}")
    step = None if interval is None else str(Interval.parse(interval))
    frames: list[pl.DataFrame] = []
    sources: list[str] = []
    calendars: list[str | None] = []
    seen: set[str] = set()
    for name in names:
        frame, found, calendar = _load_one(name, interval=step, catalog=catalog, timezone=timezone)
        symbols = set(frame["symbol"].unique().to_list())
        if symbols & seen:
            raise ConfigError(
                f"bars of {sorted(symbols & seen)} are named twice (again in {found})"
            )
        seen |= symbols
        frames.append(_between(frame, lower, upper, found))
        sources.append(found)
        calendars.append(calendar)
    bars = pl.concat(frames, how="diagonal_relaxed").sort("ts", "symbol")
    calendar = calendars[0] if None not in calendars else None
    return LoadedBars(bars=bars, sources=tuple(sources), calendar=calendar)


def _load_one(
    name: BarSourceName,
    *,
    interval: str | None,
    catalog: Catalog | str | Path | None,
    timezone: str | None,
) -> tuple[pl.DataFrame, str, str | None]:
    path = Path(name)
    if path.is_file():
        return read_bars_file(path, interval=interval, timezone=timezone), f"file {path}", None
    if path.suffix.lower() in _FILE_SUFFIXES:
        raise ConfigError(f"data file {path} does not exist")
    text = str(name)
    if catalog is None:
        sample = _sample_name(text, interval)
        if sample is not None:
            return load_sample(sample), f"sample {sample}", sample_info(sample).calendar
    store = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
    step = interval or _DEFAULT_CATALOG_INTERVAL
    try:
        frame = store.read([text], interval=step)
    except UnknownSymbolError:
        frame = None
    if frame is None or frame.is_empty():
        raise _nothing_named(text, step, store, samples_tried=catalog is None)
    return frame, f"catalog {store.root} {text} {step}", None


def _nothing_named(name: str, step: str, store: Catalog, *, samples_tried: bool) -> DataError:
    samples = ", ".join(sample_names())
    tried = [f"no file {name}"]
    if samples_tried:
        tried.append("no bundled sample of that name or symbol")
    tried.append(f"no {step} bars of {name} in the catalog at {store.root}")
    return UnknownSymbolError(
        f"no sample, file or catalog symbol named {name!r} ({'; '.join(tried)}); "
        f"the bundled samples are {samples}"
    )


def _sample_name(name: str, interval: str | None) -> str | None:
    """Return the bundled sample ``name`` means (a sample name or a symbol), if exactly one."""
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
