"""Volume indicators over whole arrays: ``obv``, ``ad``, ``adosc``, ``mfi``, ``vwap``.

Each function accepts NumPy arrays, pandas Series or Polars Series and returns the kind of its
first input; parameters after the price and volume inputs are keyword-only. Values before the
first valid output are NaN (null for Polars); leading NaN input is skipped — the indicator starts
at the first row where every input is finite (see :mod:`quantstrata.indicators._inputs`).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from quantstrata.core.errors import ConfigError, DataError, DataIssue, TimezoneError
from quantstrata.indicators._inputs import FloatArray, check_period, first_finite, prepare
from quantstrata.indicators.volume import _nb

__all__ = ["ad", "adosc", "check_timezone", "common_start", "mfi", "obv", "vwap"]

_OHLCV = ("high", "low", "close", "volume")


def common_start(arrays: list[FloatArray]) -> int:
    """Return the first index at which every input has started (its first finite value)."""
    return max(first_finite(array) for array in arrays)


def obv(close: Any, volume: Any) -> Any:
    """Return on-balance volume: a running total of volume signed by the close's direction.

    As in TA-Lib, the first value is the first bar's volume (not 0), a bar whose close equals the
    previous close adds nothing, and there is no warm-up (lookback 0).
    """
    arrays, kind = prepare(close, volume, names=("close", "volume"))
    closes, volumes = arrays
    return kind.wrap(_nb.obv_nb(closes, volumes, common_start(arrays)))


def ad(high: Any, low: Any, close: Any, volume: Any) -> Any:
    """Return the Chaikin accumulation/distribution line.

    Each bar adds ``((close - low) - (high - close)) / (high - low) * volume``; a bar with
    ``high == low`` adds nothing. The sum starts at the first bar (TA-Lib's definition).
    """
    arrays, kind = prepare(high, low, close, volume, names=_OHLCV)
    highs, lows, closes, volumes = arrays
    return kind.wrap(_nb.ad_nb(highs, lows, closes, volumes, common_start(arrays)))


def adosc(
    high: Any, low: Any, close: Any, volume: Any, *, fast_period: int = 3, slow_period: int = 10
) -> Any:
    """Return the Chaikin A/D oscillator: EMA(fast) minus EMA(slow) of the A/D line.

    As in TA-Lib, both EMAs (factor ``2 / (n + 1)``) are seeded with the *first A/D value* (not a
    simple average), the first value appears at index ``max(fast, slow) - 1``, and the seed's
    influence decays with the slower EMA's factor.
    """
    fast_period = check_period(fast_period, "fast_period", minimum=2)
    slow_period = check_period(slow_period, "slow_period", minimum=2)
    arrays, kind = prepare(high, low, close, volume, names=_OHLCV)
    start = common_start(arrays)
    highs, lows, closes, volumes = arrays
    return kind.wrap(_nb.adosc_nb(highs, lows, closes, volumes, start, fast_period, slow_period))


def mfi(high: Any, low: Any, close: Any, volume: Any, *, period: int = 14) -> Any:
    """Return the money flow index over ``period`` typical-price changes (TA-Lib's MFI).

    Money flow is typical price ``(H + L + C) / 3`` times volume, counted positive when the
    typical price rose and negative when it fell. As in TA-Lib: a typical price equal to the
    previous one (within a relative ``1e-14`` dead-zone) contributes no flow; a window without any
    money flow gives 0; the first value is at index ``period``.
    """
    period = check_period(period, minimum=2)
    arrays, kind = prepare(high, low, close, volume, names=_OHLCV)
    highs, lows, closes, volumes = arrays
    return kind.wrap(_nb.mfi_nb(highs, lows, closes, volumes, common_start(arrays), period))


def vwap(
    high: Any, low: Any, close: Any, volume: Any, session: Any, *, timezone: str = "UTC"
) -> Any:
    """Return the session-anchored volume-weighted average price (not in TA-Lib).

    ``VWAP = Σ(typical price × volume) / Σ volume`` with typical price ``(H + L + C) / 3``, both
    sums taken from the first bar of the current session. A new session starts wherever
    ``session`` differs from the previous row, so ids must be contiguous per session:

    - integer, string or date ids are compared as given;
    - timestamps are reduced to their calendar date in ``timezone`` (IANA name, default UTC), so
      passing the bar open times ``ts`` gives daily sessions; NumPy ``datetime64`` values are read
      as UTC (NumPy has no time zones; the canonical bar frame stores UTC), while pandas or Polars
      timestamps without a time zone are refused.

    While the session's cumulative volume is zero (no volume traded yet) the value is NaN — there
    is no volume to weight by — and it becomes valid at the session's first bar with volume.
    """
    zone = check_timezone(timezone)
    arrays, kind = prepare(high, low, close, volume, names=_OHLCV)
    new_session = _session_starts(session, zone, len(arrays[0]))
    highs, lows, closes, volumes = arrays
    start = common_start(arrays)
    return kind.wrap(_nb.vwap_nb(highs, lows, closes, volumes, new_session, start))


def check_timezone(timezone: str) -> ZoneInfo:
    """Return the time zone named ``timezone``, or raise :class:`ConfigError` if unknown."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(f"timezone must be an IANA time zone name, got {timezone!r}") from None


def _session_starts(session: Any, zone: ZoneInfo, size: int) -> npt.NDArray[np.bool_]:
    keys = _session_keys(session, zone)
    if keys.ndim != 1 or keys.shape[0] != size:
        raise DataError(
            f"vwap input 'session' must be one-dimensional with {size} rows, got shape {keys.shape}"
        )
    starts = np.ones(size, dtype=np.bool_)
    if size > 1:
        starts[1:] = np.asarray(keys[1:] != keys[:-1], dtype=np.bool_)
    return starts


def _session_keys(session: Any, zone: ZoneInfo) -> npt.NDArray[Any]:
    import polars as pl

    module = type(session).__module__.split(".")[0]
    if module == "pandas":
        series = pl.from_pandas(session)
    elif module == "polars":
        series = session
    else:
        array = np.asarray(session)
        if array.dtype.kind == "M":
            series = pl.Series("session", array).dt.replace_time_zone("UTC")
        elif array.dtype.kind == "O" and array.size and isinstance(array[0], date):
            series = pl.Series("session", list(array))
        else:
            _refuse_missing(pl.Series("session", array) if array.dtype.kind == "f" else None)
            return array
    return _series_keys(series, zone)


def _series_keys(series: Any, zone: ZoneInfo) -> npt.NDArray[Any]:
    import polars as pl

    dtype = series.dtype
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            raise TimezoneError(
                "vwap session timestamps have no time zone; pass time-zone-aware timestamps "
                "(or NumPy datetime64 in UTC)"
            )
        series = series.dt.convert_time_zone(zone.key).dt.date()
    if series.dtype == pl.Date:
        series = series.cast(pl.Int32)
    _refuse_missing(series)
    return np.asarray(series.to_numpy())


def _refuse_missing(series: Any) -> None:
    if series is None:
        return
    missing = series.is_null()
    if series.dtype.is_float():
        missing = missing | series.is_nan()
    rows = np.flatnonzero(missing.to_numpy())
    if rows.size:
        issues = tuple(
            DataIssue("missing_session", "session id is missing", row=int(row), column="session")
            for row in rows[:10]
        )
        raise DataError(f"vwap input 'session' has {rows.size} missing value(s)", issues)
