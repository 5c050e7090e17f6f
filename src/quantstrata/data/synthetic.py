"""Deterministic synthetic bars: seeded geometric Brownian motion in the canonical bar frame.

Synthetic bars stand in for market data in examples, tests and benchmarks, so they must be
reproducible and cheap. :func:`generate_bars` follows three rules:

* **Same inputs, same frame, bit for bit.** Every random number comes from NumPy's PCG64
  generators seeded through :class:`numpy.random.SeedSequence`.
* **A symbol's path depends only on the seed and its own name**, never on which other symbols
  were asked for or in what order: each symbol's seed sequence is keyed by ``(seed, the UTF-8
  bytes of its name)`` and then spawns one child stream per quantity (returns, highs, lows,
  volume, gaps). Because each quantity has its own stream, asking for fewer bars gives a prefix
  of the longer path.
* **Bars are always consistent**: ``0 < low <= min(open, close) <= max(open, close) <= high``
  and ``volume >= 0``.

The model, per bar of length ``dt`` years: the log return from open to close is normal with mean
``(drift - volatility**2 / 2) * dt`` and variance ``volatility**2 * dt``. The high and low are
drawn from the exact distributions of the maximum and minimum of the Brownian bridge between the
bar's open and close (``(r ± sqrt(r**2 + 2 * volatility**2 * dt * E)) / 2`` with ``E`` standard
exponential). Each bar opens at the previous close, times ``exp(gap_volatility * N(0, 1))`` when
``gap_volatility`` is positive. Volume is ``1000 * E * (1 + |z|)``, busier on larger moves.

Time: without a calendar the market trades around the clock, a year is 365 days, and bar opens
sit on the interval's grid counted from the Unix epoch (weeks start on Monday, months on the
first day of the month). With an exchange-calendars code (``"XNYS"``) bars exist only inside
sessions (:func:`quantstrata.process.calendar.expected_bar_opens`), a year is 252 sessions, and
each intraday bar's ``dt`` is its share of its session, so every session carries the same
variance whatever its length (early closes included).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl

from quantstrata.core.clock import ns_from_datetime
from quantstrata.core.errors import ConfigError, TimezoneError
from quantstrata.model.bar import BAR_SCHEMA, TIMESTAMP_DTYPE
from quantstrata.model.identifiers import Symbol
from quantstrata.model.interval import Interval, IntervalUnit

__all__ = ["DEFAULT_START", "default_symbol_names", "generate_bars"]

DEFAULT_START = datetime(2020, 1, 1, tzinfo=UTC)
"""Where synthetic bars start when no ``start`` is given."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_SECONDS_PER_DAY = 86_400
_YEAR_SECONDS_24_7 = 365 * _SECONDS_PER_DAY
_SESSIONS_PER_YEAR = 252
_MAX_NS = np.iinfo(np.int64).max
_LAST_END = datetime(2261, 12, 31, tzinfo=UTC)
_MAX_DAYS = 300 * 366
_VOLUME_SCALE = 1_000.0
_STREAMS = ("returns", "highs", "lows", "volume", "gaps")


def generate_bars(
    *,
    symbols: int | str | Sequence[str] = 1,
    bars: int = 1_000,
    interval: str | Interval = "1m",
    start: datetime = DEFAULT_START,
    seed: int = 0,
    calendar: str | None = None,
    drift: float = 0.05,
    volatility: float = 0.2,
    start_price: float = 100.0,
    gap_volatility: float = 0.0,
) -> pl.DataFrame:
    """Return ``bars`` seeded GBM bars per symbol as a canonical bar frame sorted by (symbol, ts).

    ``symbols`` is a count (names from :func:`default_symbol_names`), one name, or a list of
    distinct names. ``drift`` and ``volatility`` are annualised; ``start_price`` is every path's
    price before its first bar; ``gap_volatility`` is the standard deviation of the log jump
    between one bar's close and the next bar's open (0, the default, makes every open equal the
    previous close exactly). ``calendar`` is ``None`` for a 24/7 market or an exchange-calendars
    code such as ``"XNYS"``; ``start`` must be timezone-aware.
    """
    names = _symbol_names(symbols)
    step = Interval.parse(interval)
    _check_parameters(
        bars=bars,
        seed=seed,
        drift=drift,
        volatility=volatility,
        start_price=start_price,
        gap_volatility=gap_volatility,
    )
    begin = _aware(start)
    opens, years = _bar_opens(calendar, step, begin, bars)
    columns = [np.empty(len(names) * bars) for _ in range(5)]
    for position, name in enumerate(names):
        rows = slice(position * bars, (position + 1) * bars)
        # Out-of-range parameters overflow quietly here and are reported once, below.
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            _fill_path(
                _symbol_streams(seed, name),
                years,
                (drift, volatility, start_price, gap_volatility),
                [column[rows] for column in columns],
            )
    _check_finite(columns)
    return _assemble(names, opens, columns)


def default_symbol_names(count: int) -> list[str]:
    """Return the names used when ``symbols`` is a count: ``SYN000``, ``SYN001``, …."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigError(f"symbols: need a positive count of symbols, got {count!r}")
    return [f"SYN{position:03d}" for position in range(count)]


def _symbol_names(symbols: int | str | Sequence[str]) -> list[str]:
    if isinstance(symbols, int):
        return default_symbol_names(symbols)
    if isinstance(symbols, str):
        return [str(Symbol(symbols))]
    names = [Symbol(name) for name in symbols]
    if not names:
        raise ConfigError("symbols: need at least one symbol name")
    if len(set(names)) != len(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise ConfigError(f"symbols: names must be distinct, repeated: {repeated}")
    return sorted(str(name) for name in names)


def _check_parameters(
    *,
    bars: int,
    seed: int,
    drift: float,
    volatility: float,
    start_price: float,
    gap_volatility: float,
) -> None:
    if isinstance(bars, bool) or not isinstance(bars, int) or bars < 0:
        raise ConfigError(f"bars: need a non-negative whole number, got {bars!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed: need a non-negative whole number, got {seed!r}")
    checks = {
        "drift": (drift, math.isfinite(drift)),
        "volatility": (volatility, math.isfinite(volatility) and volatility >= 0),
        "start_price": (start_price, math.isfinite(start_price) and start_price > 0),
        "gap_volatility": (gap_volatility, math.isfinite(gap_volatility) and gap_volatility >= 0),
    }
    for name, (value, good) in checks.items():
        if not good:
            raise ConfigError(f"{name}: value {value!r} is out of range (see generate_bars)")


def _aware(start: datetime) -> datetime:
    if not isinstance(start, datetime):
        raise ConfigError(f"start: need a datetime, got {type(start).__name__}")
    if start.tzinfo is None or start.utcoffset() is None:
        raise TimezoneError(f"start: {start} has no timezone; pass an aware datetime")
    return start.astimezone(UTC)


def _bar_opens(
    calendar: str | None, step: Interval, begin: datetime, bars: int
) -> tuple[IntArray, float | FloatArray]:
    """Return the first ``bars`` bar opens from ``begin`` (int64 ns) and each bar's length in years.

    Round-the-clock bars of up to a day sit on an epoch-anchored grid computed directly (the
    fast path for large frames); everything else follows
    :func:`~quantstrata.process.calendar.expected_bar_opens`, which agrees with that grid.
    """
    if calendar is None and step.is_fixed and step.unit is not IntervalUnit.WEEK:
        size = step.nanoseconds
        first = -(-ns_from_datetime(begin) // size) * size
        if bars and first + (bars - 1) * size > _MAX_NS:
            raise ConfigError(f"bars: {bars} bars of {step} from {begin} run past the year 2262")
        opens = first + np.arange(bars, dtype=np.int64) * size
        return opens, step.seconds / _YEAR_SECONDS_24_7
    return _session_opens(calendar, step, begin, bars)


def _session_opens(
    code: str | None, step: Interval, begin: datetime, bars: int
) -> tuple[IntArray, FloatArray]:
    from quantstrata.process.calendar import expected_bar_opens, session_table

    days = _first_guess_days(step, bars)
    while True:
        end = min(begin + timedelta(days=min(days, _MAX_DAYS)), _LAST_END)
        opens = expected_bar_opens(code, step, begin, end)
        if opens.len() >= bars:
            break
        if end == _LAST_END:
            raise ConfigError(f"bars: {bars} bars of {step} from {begin} run past the year 2261")
        days *= 2
    opens_ns = opens.head(bars).dt.epoch("ns").to_numpy().astype(np.int64)
    margin = timedelta(days=7)
    sessions = session_table(code, begin - margin, end + margin + timedelta(days=31 * step.count))
    return opens_ns, _year_fraction(code, step, opens_ns, sessions)


def _first_guess_days(step: Interval, bars: int) -> int:
    if step.is_fixed and step.seconds < _SECONDS_PER_DAY:
        sessions = bars * step.seconds / (6 * 3_600) + 1
    elif step.is_fixed:
        sessions = bars * step.seconds / _SECONDS_PER_DAY
    else:
        sessions = bars * step.count * 31
    return int(sessions * 1.5) + 14


def _year_fraction(
    code: str | None, step: Interval, opens: IntArray, sessions: pl.DataFrame
) -> FloatArray:
    """Return the share of a year (252 sessions; 365 days round the clock) each bar covers.

    An intraday bar covers its share of its session's bars, weighted by the time each bar spans
    (the last bar of a session may be cut short by the close), so every session carries the same
    variance whatever its length. A bar of a day or longer covers the sessions whose date falls
    inside it (session dates are labelled at 00:00 UTC).
    """
    per_year = _SESSIONS_PER_YEAR if code is not None else _YEAR_SECONDS_24_7 // _SECONDS_PER_DAY
    if len(opens) == 0:
        return np.empty(0)
    if step.is_fixed and step.seconds < _SECONDS_PER_DAY:
        session_open = _nanoseconds(sessions["open"])
        session_close = _nanoseconds(sessions["close"])
        index = np.clip(np.searchsorted(session_open, opens, side="right") - 1, 0, None)
        spans = np.minimum(opens + step.nanoseconds, session_close[index]) - opens
        spans = np.clip(spans, 1, None).astype(np.float64)
        totals = np.bincount(index, weights=spans)
        return spans / totals[index] / per_year
    labels = _nanoseconds(sessions["session"].cast(TIMESTAMP_DTYPE))
    if step.is_fixed:
        ends = opens + step.nanoseconds
    else:
        months = opens.astype("datetime64[ns]").astype("datetime64[M]") + step.count
        ends = months.astype("datetime64[ns]").astype(np.int64)
    counts = np.searchsorted(labels, ends) - np.searchsorted(labels, opens)
    return counts.astype(np.float64) / per_year


def _nanoseconds(series: pl.Series) -> IntArray:
    return series.dt.epoch("ns").to_numpy().astype(np.int64)


def _symbol_streams(seed: int, name: str) -> dict[str, np.random.Generator]:
    root = np.random.SeedSequence(seed, spawn_key=tuple(name.encode("utf-8")))
    return {
        stream: np.random.default_rng(child)
        for stream, child in zip(_STREAMS, root.spawn(len(_STREAMS)), strict=True)
    }


def _fill_path(
    streams: dict[str, np.random.Generator],
    years: float | FloatArray,
    parameters: tuple[float, float, float, float],
    out: list[FloatArray],
) -> None:
    """Write one symbol's open, high, low, close and volume into the ``out`` views, in place.

    Random draws go straight into the output buffers and the arithmetic runs in place, because
    allocating and touching memory dominates the cost at tens of millions of bars.
    """
    drift, volatility, start_price, gap_volatility = parameters
    opens, highs, lows, closes, volumes = out
    if len(closes) == 0:
        return
    variance = volatility**2 * years
    streams["returns"].standard_normal(out=closes)
    streams["volume"].standard_exponential(out=volumes)
    np.abs(closes, out=lows)
    lows += 1.0
    volumes *= lows
    volumes *= _VOLUME_SCALE
    closes *= np.sqrt(variance)
    closes += (drift - volatility**2 / 2) * years  # log return of each bar, open to close
    _bridge_extremes(streams, closes, 2.0 * variance, highs=highs, lows=lows, scratch=opens)
    if gap_volatility > 0:
        streams["gaps"].standard_normal(out=opens)
        opens *= gap_volatility
        closes += opens
        np.exp(opens, out=opens)
    else:
        opens.fill(1.0)
    np.cumsum(closes, out=closes)
    closes += math.log(start_price)
    np.exp(closes, out=closes)
    opens[0] *= start_price
    opens[1:] *= closes[:-1]
    _finish_extremes(opens, closes, highs, lows)


def _bridge_extremes(
    streams: dict[str, np.random.Generator],
    returns: FloatArray,
    twice_variance: float | FloatArray,
    *,
    highs: FloatArray,
    lows: FloatArray,
    scratch: FloatArray,
) -> None:
    """Write the log excursions of each bar's maximum and minimum from its open.

    For a Brownian bridge from 0 to ``r`` with variance ``v``, the maximum is
    ``(r + sqrt(r**2 + 2 v E)) / 2`` and the minimum ``(r - sqrt(r**2 + 2 v E')) / 2`` with
    ``E``, ``E'`` standard exponential.
    """
    streams["highs"].standard_exponential(out=highs)
    streams["lows"].standard_exponential(out=lows)
    np.multiply(returns, returns, out=scratch)
    highs *= twice_variance
    highs += scratch
    np.sqrt(highs, out=highs)
    highs += returns
    highs *= 0.5
    lows *= twice_variance
    lows += scratch
    np.sqrt(lows, out=lows)
    np.subtract(returns, lows, out=lows)
    lows *= 0.5


def _finish_extremes(
    opens: FloatArray, closes: FloatArray, highs: FloatArray, lows: FloatArray
) -> None:
    """Turn log excursions into prices and clamp away rounding so OHLC is always consistent."""
    np.exp(highs, out=highs)
    highs *= opens
    np.maximum(highs, opens, out=highs)
    np.maximum(highs, closes, out=highs)
    np.exp(lows, out=lows)
    lows *= opens
    np.minimum(lows, opens, out=lows)
    np.minimum(lows, closes, out=lows)


def _check_finite(columns: list[FloatArray]) -> None:
    _opens, highs, lows, _closes, _volumes = columns
    if len(highs) and not (np.isfinite(highs.max()) and lows.min() > 0):
        raise ConfigError(
            "drift/volatility/bars: the path leaves the float64 range (prices overflow to "
            "infinity or underflow to zero); use fewer bars or milder parameters"
        )


def _assemble(names: list[str], opens: IntArray, columns: list[FloatArray]) -> pl.DataFrame:
    per_symbol = len(opens)
    if len(names) == 1:
        timestamps = pl.Series("ts", opens, dtype=pl.Int64)
        symbol = pl.repeat(names[0], per_symbol, eager=True, dtype=pl.String)
    else:
        timestamps = pl.Series("ts", np.tile(opens, len(names)), dtype=pl.Int64)
        codes = np.repeat(np.arange(len(names), dtype=np.uint32), per_symbol)
        symbol = pl.Series(names, dtype=pl.String).gather(codes)
    return pl.DataFrame(
        {
            "ts": timestamps.cast(TIMESTAMP_DTYPE),
            "symbol": symbol,
            "open": columns[0],
            "high": columns[1],
            "low": columns[2],
            "close": columns[3],
            "volume": columns[4],
        },
        schema=BAR_SCHEMA,
    )
