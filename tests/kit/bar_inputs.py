"""The same bars written in every input shape ``to_bars`` accepts, plus the Polars reference.

A :class:`BarSample` holds bars on a regular grid (UTC epoch nanoseconds, whole minutes, so every
epoch unit is exact) in a timezone. :func:`input_shapes` writes it as pandas, Polars, dicts,
records, NumPy arrays, ccxt rows and TickDB JSON, each with the keyword arguments ``to_bars``
needs; :func:`reference_frame` builds the expected canonical frame directly with Polars, without
any quantstrata code. :func:`bar_samples` is a Hypothesis strategy of valid samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import polars as pl
from hypothesis import strategies as st

__all__ = [
    "EURUSD_HOURLY_CSV",
    "GOOG_DAILY_CSV",
    "SPX_DAILY_CSV",
    "TICKDB_SPEC_KLINE",
    "BarSample",
    "Shape",
    "bar_samples",
    "input_shapes",
    "reference_frame",
    "tickdb_response",
]

NS_PER_MINUTE = 60_000_000_000
TIMEZONES = ("UTC", "America/New_York", "Europe/London", "Asia/Hong_Kong", "Australia/Sydney")


@dataclass(frozen=True)
class BarSample:
    """Bars at ``start_ns + i * step_minutes`` (UTC ns) for one symbol, shown in ``timezone``."""

    symbol: str
    timezone: str
    start_ns: int
    step_minutes: int
    open: tuple[float, ...]
    high: tuple[float, ...]
    low: tuple[float, ...]
    close: tuple[float, ...]
    volume: tuple[float, ...]

    @property
    def length(self) -> int:
        """Return the number of bars."""
        return len(self.open)

    @property
    def ts_ns(self) -> np.ndarray:
        """Return the bar open times as int64 UTC epoch nanoseconds."""
        steps = np.arange(self.length, dtype=np.int64) * (self.step_minutes * NS_PER_MINUTE)
        return steps + np.int64(self.start_ns)

    def utc_datetimes(self) -> list[datetime]:
        """Return the open times as aware UTC datetimes (exact: whole minutes)."""
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        return [epoch + timedelta(microseconds=int(ns) // 1000) for ns in self.ts_ns]

    def local_datetimes(self) -> list[datetime]:
        """Return the open times as aware datetimes in ``timezone``."""
        zone = ZoneInfo(self.timezone)
        return [moment.astimezone(zone) for moment in self.utc_datetimes()]

    def naive_local_is_unambiguous(self) -> bool:
        """Whether every local wall time maps back to one instant (no DST overlap)."""
        zone = ZoneInfo(self.timezone)
        for local in self.local_datetimes():
            wall = local.replace(tzinfo=None)
            first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
            second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
            if first != second:
                return False
        return True

    def values(self) -> dict[str, list[float]]:
        """Return the OHLCV columns as lists, keyed by canonical name."""
        return {
            "open": list(self.open),
            "high": list(self.high),
            "low": list(self.low),
            "close": list(self.close),
            "volume": list(self.volume),
        }


@dataclass(frozen=True)
class Shape:
    """One way of writing a sample: the data and the keyword arguments ``to_bars`` needs."""

    name: str
    data: object
    kwargs: dict[str, Any]


def reference_frame(sample: BarSample) -> pl.DataFrame:
    """Build the expected canonical frame with plain Polars calls."""
    ts = pl.Series("ts", sample.ts_ns, dtype=pl.Int64).cast(pl.Datetime("ns", "UTC"))
    columns = {
        name: pl.Series(name, values, dtype=pl.Float64) for name, values in sample.values().items()
    }
    return pl.DataFrame(
        [
            ts,
            pl.Series("symbol", [sample.symbol] * sample.length, dtype=pl.String),
            *columns.values(),
        ]
    )


def tickdb_response(sample: BarSample, *, interval: str | None = None) -> dict[str, Any]:
    """Write the sample as a TickDB kline response, prices as decimal text."""
    values = sample.values()
    klines = [
        {
            "time": int(ns) // 1_000_000,
            **{name: repr(values[name][row]) for name in values},
        }
        for row, ns in enumerate(sample.ts_ns)
    ]
    data = {"symbol": sample.symbol, "type": "stock", "klines": klines}
    if interval is not None:
        data["interval"] = interval
    return {"code": 0, "message": "success", "data": data}


def input_shapes(sample: BarSample) -> list[Shape]:
    """Write ``sample`` in every shape ``to_bars`` accepts."""
    shapes = [*_frame_shapes(sample), *_python_shapes(sample), *_numpy_shapes(sample)]
    response = tickdb_response(sample)
    data = response["data"]
    shapes += [
        Shape("tickdb_response", response, {}),
        Shape("tickdb_data", data, {}),
        Shape("tickdb_klines", data["klines"], {"symbol": sample.symbol}),
    ]
    return shapes


def _frame_shapes(sample: BarSample) -> list[Shape]:
    values = sample.values()
    capital = {name.capitalize(): column for name, column in values.items()}
    aware = pd.DatetimeIndex(sample.ts_ns.astype("datetime64[ns]"), tz="UTC").tz_convert(
        sample.timezone
    )
    iso = [moment.isoformat() for moment in sample.local_datetimes()]
    multi = pd.DataFrame(
        {"symbol": [sample.symbol] * sample.length, "ts": aware, **values}
    ).set_index(["symbol", "ts"])
    epoch_seconds = (sample.ts_ns // 1_000_000_000).tolist()
    polars_frame = pl.DataFrame(
        {"TIME": epoch_seconds, "TICKER": [sample.symbol] * sample.length, **capital}
    )
    local_ms = (
        pl.Series("Date_Time", sample.ts_ns)
        .cast(pl.Datetime("ns", "UTC"))
        .dt.cast_time_unit("ms")
        .dt.convert_time_zone(sample.timezone)
    )
    lazy = pl.DataFrame({"Date_Time": local_ms, **values}).lazy()
    return [
        Shape("pandas_index_aware", pd.DataFrame(capital, index=aware), {"symbol": sample.symbol}),
        Shape(
            "pandas_upper_iso_column",
            pd.DataFrame({"TIMESTAMP": iso, **{k.upper(): v for k, v in values.items()}}),
            {"symbol": sample.symbol},
        ),
        Shape("pandas_multiindex", multi, {}),
        Shape("polars_epoch_seconds", polars_frame, {}),
        Shape("polars_lazy_ms_local", lazy, {"symbol": sample.symbol}),
    ]


def _python_shapes(sample: BarSample) -> list[Shape]:
    values = sample.values()
    aware = sample.local_datetimes()
    milliseconds = (sample.ts_ns // 1_000_000).tolist()
    records = [
        {"datetime": aware[row], **{name: column[row] for name, column in values.items()}}
        for row in range(sample.length)
    ]
    ccxt = [
        [milliseconds[row], *(values[name][row] for name in values)] for row in range(sample.length)
    ]
    shapes = [
        Shape("records_aware", records, {"symbol": sample.symbol}),
        Shape(
            "columns_epoch_ms",
            {"timestamp": milliseconds, "symbol": [sample.symbol] * sample.length, **values},
            {},
        ),
        Shape("ccxt_rows", ccxt, {"symbol": sample.symbol}),
    ]
    if sample.naive_local_is_unambiguous():
        naive = [moment.replace(tzinfo=None) for moment in aware]
        shapes.append(
            Shape(
                "columns_naive_local",
                {
                    "time": naive,
                    "Open": values["open"],
                    "HIGH": values["high"],
                    "low": values["low"],
                    "Close": values["close"],
                    "Vol": values["volume"],
                },
                {"symbol": sample.symbol, "timezone": sample.timezone},
            )
        )
    return shapes


def _numpy_shapes(sample: BarSample) -> list[Shape]:
    values = sample.values()
    ohlcv = np.column_stack([np.asarray(column, dtype=np.float64) for column in values.values()])
    with_time = np.column_stack([(sample.ts_ns // 1_000_000).astype(np.float64), ohlcv])
    structured = np.zeros(
        sample.length, dtype=[("ts", "datetime64[ns]")] + [(name, "f8") for name in values]
    )
    structured["ts"] = sample.ts_ns.astype("datetime64[ns]")
    for name, column in values.items():
        structured[name] = column
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    start = epoch + timedelta(microseconds=sample.start_ns // 1000)
    return [
        Shape("numpy_epoch_ms", with_time, {"symbol": sample.symbol}),
        Shape("numpy_structured", structured, {"symbol": sample.symbol, "timezone": "UTC"}),
        Shape(
            "numpy_start_interval",
            ohlcv,
            {
                "symbol": sample.symbol,
                "start": start.astimezone(ZoneInfo(sample.timezone)),
                "interval": f"{sample.step_minutes}m",
            },
        ),
    ]


@st.composite
def bar_samples(draw: st.DrawFn, *, min_length: int = 0, max_length: int = 40) -> BarSample:
    """Draw a valid sample: positive prices with low <= open, close <= high, volume >= 0."""
    length = draw(st.integers(min_value=min_length, max_value=max_length))
    price = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)
    rows = draw(st.lists(st.tuples(price, price, price, price), min_size=length, max_size=length))
    volume = st.floats(min_value=0.0, max_value=1e12, allow_nan=False, allow_infinity=False)
    volumes = draw(st.lists(volume, min_size=length, max_size=length))
    opens, highs, lows, closes = [], [], [], []
    for first, second, third, fourth in rows:
        low, open_, close, high = sorted((first, second, third, fourth))
        flip = draw(st.booleans())
        opens.append(close if flip else open_)
        closes.append(open_ if flip else close)
        highs.append(high)
        lows.append(low)
    start_minute = draw(st.integers(min_value=1_800_000, max_value=33_000_000))  # 1973..2032
    return BarSample(
        symbol=draw(st.sampled_from(("SPX", "AAPL.US", "BTC/USDT", "700.HK"))),
        timezone=draw(st.sampled_from(TIMEZONES)),
        start_ns=start_minute * NS_PER_MINUTE,
        step_minutes=draw(st.sampled_from((1, 5, 15, 60, 240))),
        open=tuple(opens),
        high=tuple(highs),
        low=tuple(lows),
        close=tuple(closes),
        volume=tuple(volumes),
    )


# Real bars (Yahoo! Finance data redistributed by the `arch` and `backtesting` packages; see the
# sample data's PROVENANCE.md). S&P 500 daily with month-first dates: 1/13/1999 proves M/D.
SPX_DAILY_CSV = """\
Date,Open,High,Low,Close,Adj Close,Volume
1/4/1999,1229.22998,1248.810059,1219.099976,1228.099976,1228.099976,877000000
1/5/1999,1228.099976,1246.109985,1228.099976,1244.780029,1244.780029,775000000
1/6/1999,1244.780029,1272.5,1244.780029,1272.339966,1272.339966,986900000
1/7/1999,1272.339966,1272.339966,1257.680054,1269.72998,1269.72998,863000000
1/8/1999,1269.72998,1278.23999,1261.819946,1275.089966,1275.089966,937800000
1/11/1999,1275.089966,1276.219971,1253.339966,1263.880005,1263.880005,818000000
1/12/1999,1263.880005,1264.449951,1238.290039,1239.51001,1239.51001,800200000
1/13/1999,1239.51001,1247.75,1205.459961,1234.400024,1234.400024,931500000
"""

# EUR/USD hourly, unnamed index column of naive times (the source does not say their zone).
EURUSD_HOURLY_CSV = """\
,Open,High,Low,Close,Volume
2017-04-19 09:00:00,1.0716,1.0722,1.07083,1.07219,1413
2017-04-19 10:00:00,1.07214,1.07296,1.07214,1.0726,1241
2017-04-19 11:00:00,1.07256,1.07299,1.0717,1.07192,1025
2017-04-19 12:00:00,1.07195,1.0728,1.07195,1.07202,1460
"""

# Alphabet daily, unnamed index column of dates.
GOOG_DAILY_CSV = """\
,Open,High,Low,Close,Volume
2004-08-19,100,104.06,95.96,100.34,22351900
2004-08-20,101.01,109.08,100.5,108.31,11428600
2004-08-23,110.75,113.48,109.05,109.4,9137200
"""

# The example kline of TickDB's OpenAPI spec for GET /v1/market/kline (700.HK, 1h).
TICKDB_SPEC_KLINE = {
    "time": 1773291600000,
    "open": "545.5",
    "high": "546.5",
    "low": "541.5",
    "close": "543.5",
    "volume": "1549300",
    "quote_volume": "842560983.33",
}
