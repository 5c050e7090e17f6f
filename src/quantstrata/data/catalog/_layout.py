"""Where bars live inside a catalog root: partition names, period files and symbol encoding.

The layout is ``<root>/interval=<interval>/symbol=<encoded symbol>/<period>.parquet``:

* ``interval`` is the canonical spelling of :class:`~quantstrata.model.interval.Interval`
  (``1m``, ``1h``, ``1d``, ``1mo`` …).
* ``symbol`` is percent-encoded (RFC 3986, every byte outside ``A-Z a-z 0-9 - . _ ~``), the way
  hive partitioning expects, so ``BTC/USDT`` becomes ``BTC%2FUSDT``. Polars and DuckDB both decode
  it back to ``BTC/USDT`` when they read the partition column.
* One file holds one period of bars, chosen by the interval so files stay between a few
  thousand and about a million rows:

  ===================== ============== ================
  interval              period         file name
  ===================== ============== ================
  seconds               one UTC day    ``2024-03-15``
  minutes               one UTC month  ``2024-03``
  hours                 one UTC year   ``2024``
  days, weeks, months   one decade     ``2020s``
  ===================== ============== ================

  A bar belongs to the period that contains its open time ``ts``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import quote, unquote

from quantstrata.core.errors import CatalogError, ConfigError
from quantstrata.model.interval import Interval, IntervalUnit

__all__ = [
    "INTERVAL_KEY",
    "PARQUET_SUFFIX",
    "SYMBOL_KEY",
    "FileEntry",
    "Period",
    "decode_symbol",
    "encode_symbol",
    "file_name",
    "file_stem",
    "interval_directory",
    "next_period_start",
    "parse_interval_directory",
    "partition_value",
    "period_bounds",
    "period_for",
    "period_stem",
    "require_period_bounds",
    "symbol_directory",
]

INTERVAL_KEY = "interval"
SYMBOL_KEY = "symbol"
PARQUET_SUFFIX = ".parquet"


class Period(StrEnum):
    """How much time one Parquet file covers."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    DECADE = "decade"


_PERIOD_BY_UNIT: dict[IntervalUnit, Period] = {
    IntervalUnit.SECOND: Period.DAY,
    IntervalUnit.MINUTE: Period.MONTH,
    IntervalUnit.HOUR: Period.YEAR,
    IntervalUnit.DAY: Period.DECADE,
    IntervalUnit.WEEK: Period.DECADE,
    IntervalUnit.MONTH: Period.DECADE,
}
_LATEST = datetime.max.replace(tzinfo=UTC)
_STEM_PATTERNS: dict[Period, re.Pattern[str]] = {
    Period.DAY: re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
    Period.MONTH: re.compile(r"^(\d{4})-(\d{2})$"),
    Period.YEAR: re.compile(r"^(\d{4})$"),
    Period.DECADE: re.compile(r"^(\d{3}0)s$"),
}


def period_for(interval: Interval) -> Period:
    """Return the period one file covers for bars of ``interval``."""
    return _PERIOD_BY_UNIT[interval.unit]


def encode_symbol(symbol: str) -> str:
    """Percent-encode ``symbol`` as a hive partition value: ``BTC/USDT`` → ``BTC%2FUSDT``."""
    return quote(symbol, safe="")


def decode_symbol(encoded: str) -> str:
    """Invert :func:`encode_symbol` exactly."""
    return unquote(encoded)


def interval_directory(interval: Interval) -> str:
    """Return the partition directory name for ``interval``."""
    return f"{INTERVAL_KEY}={interval}"


def symbol_directory(symbol: str) -> str:
    """Return the partition directory name for ``symbol``."""
    return f"{SYMBOL_KEY}={encode_symbol(symbol)}"


def partition_value(name: str, key: str) -> str | None:
    """Return the value of a ``key=value`` directory name, or ``None`` if it is another key."""
    prefix = f"{key}="
    return name[len(prefix) :] if name.startswith(prefix) else None


def period_stem(period: Period, moment: datetime) -> str:
    """Return the file stem of the period containing ``moment`` (an aware UTC datetime)."""
    if period is Period.DAY:
        return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    if period is Period.MONTH:
        return f"{moment.year:04d}-{moment.month:02d}"
    if period is Period.YEAR:
        return f"{moment.year:04d}"
    return f"{moment.year // 10 * 10:04d}s"


def next_period_start(period: Period, moment: datetime) -> datetime:
    """Return the start of the period after the one containing ``moment`` (capped at year 9999).

    Bars sorted by time are split into files at these instants with a binary search, which is
    much cheaper than computing a calendar key for every row.
    """
    if period is Period.DAY:
        start = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
        return _add_days(start, 1)
    if period is Period.MONTH:
        if moment.month == 12:
            return _year_start(moment.year + 1)
        return datetime(moment.year, moment.month + 1, 1, tzinfo=UTC)
    if period is Period.YEAR:
        return _year_start(moment.year + 1)
    return _year_start(moment.year // 10 * 10 + 10)


def period_bounds(period: Period, stem: str) -> tuple[datetime, datetime] | None:
    """Return the half-open UTC range ``[start, end)`` a file stem covers, or ``None`` if foreign.

    The catalog uses this to skip files outside a requested time range without opening them.
    """
    match = _STEM_PATTERNS[period].match(stem)
    if match is None:
        return None
    numbers = [int(part) for part in match.groups()]
    try:
        if period is Period.DAY:
            start = datetime(numbers[0], numbers[1], numbers[2], tzinfo=UTC)
            return start, _add_days(start, 1)
        if period is Period.MONTH:
            year, month = numbers
            start = datetime(year, month, 1, tzinfo=UTC)
            end_year, end_month = (year + 1, 1) if month == 12 else (year, month + 1)
            return start, datetime(end_year, end_month, 1, tzinfo=UTC)
        if period is Period.YEAR:
            return datetime(numbers[0], 1, 1, tzinfo=UTC), _year_start(numbers[0] + 1)
        return datetime(numbers[0], 1, 1, tzinfo=UTC), _year_start(numbers[0] + 10)
    except ValueError:
        return None


def file_name(stem: str) -> str:
    """Return the Parquet file name for a period stem."""
    return f"{stem}{PARQUET_SUFFIX}"


def file_stem(name: str) -> str | None:
    """Return the period stem of a catalog file name, or ``None`` for anything else."""
    base = name.rsplit("/", 1)[-1]
    if base.startswith(".") or not base.endswith(PARQUET_SUFFIX):
        return None
    return base[: -len(PARQUET_SUFFIX)]


def parse_interval_directory(name: str) -> Interval | None:
    """Return the interval named by an ``interval=…`` directory, or ``None`` if it is not one."""
    value = partition_value(name, INTERVAL_KEY)
    if value is None:
        return None
    try:
        return Interval.parse(value)
    except ConfigError:
        return None


def require_period_bounds(period: Period, stem: str, path: str) -> tuple[datetime, datetime]:
    """Return the bounds of a period stem, raising :class:`CatalogError` for a foreign name."""
    bounds = period_bounds(period, stem)
    if bounds is None:
        raise CatalogError(f"catalog file {path} is not named like a {period.value} period")
    return bounds


def _year_start(year: int) -> datetime:
    if year > _LATEST.year:
        return _LATEST
    return datetime(year, 1, 1, tzinfo=UTC)


def _add_days(start: datetime, days: int) -> datetime:
    try:
        return start + timedelta(days=days)
    except OverflowError:
        return _LATEST


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One period file of the catalog, as found by listing the storage."""

    interval: Interval
    symbol: str
    stem: str
    path: str
    size: int
