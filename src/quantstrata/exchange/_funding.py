"""Perpetual swap funding: the one rule for the backtest, paper trading and the venue.

A perpetual swap has no expiry; its price is tied to the spot price by periodic **funding**
payments between longs and shorts. At each funding time a position pays

    ``quantity × multiplier × mark × rate``

in the instrument's settlement currency: a long pays a positive rate, a short receives it, and
a negative rate reverses both. ``mark`` is the mark price at the funding time (the exchange's
fair price, which may differ from the last trade): the funding series' ``mark_price`` when it
has one, else the symbol's latest close before the funding time.

:class:`FundingRates` holds the series (a Polars frame ``ts, symbol, funding_rate`` and an
optional ``mark_price``), checked once; :func:`funding_payment` is the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
import polars as pl

from quantstrata.core.clock import datetime_from_ns, ns_from_datetime
from quantstrata.core.errors import ConfigError
from quantstrata.exchange._account import Account

__all__ = [
    "FundingRates",
    "charge_funding",
    "charge_symbol_funding",
    "funding_payment",
    "funding_records",
]

_REQUIRED = ("ts", "symbol", "funding_rate")
MARK_COLUMN = "mark_price"


def funding_payment(quantity: float, multiplier: float, mark: float, rate: float) -> float:
    """Return what a position pays at one funding time (negative: what it receives).

    ``quantity`` is signed (contracts), ``multiplier`` the contract size, ``mark`` the mark
    price at the funding time and ``rate`` the funding rate of that time (``0.0001`` = 0.01 %).
    """
    return quantity * (multiplier * mark) * rate


@dataclass(frozen=True, slots=True)
class FundingRates:
    """A funding-rate series: times (ns since the epoch, UTC), symbols, rates and marks.

    Build it with :meth:`from_frame`; the rows are sorted by time, then symbol. ``marks`` is
    ``NaN`` where the series gives no mark price (the latest close is used instead).
    """

    times: npt.NDArray[np.int64]
    symbols: tuple[str, ...]
    rates: npt.NDArray[np.float64]
    marks: npt.NDArray[np.float64]

    @classmethod
    def from_frame(cls, frame: pl.DataFrame) -> FundingRates:
        """Check ``frame`` (``ts, symbol, funding_rate[, mark_price]``) and hold its rows.

        Raises :class:`~quantstrata.core.errors.ConfigError` naming the missing column, or the
        row, field and value of a rate or mark that is not a finite number (a mark must also be
        above zero), or of a time repeated for one symbol.
        """
        if not isinstance(frame, pl.DataFrame):
            raise ConfigError(f"funding must be a Polars DataFrame, got {type(frame).__name__}")
        missing = [name for name in _REQUIRED if name not in frame.columns]
        if missing:
            raise ConfigError(
                f"funding frame lacks column(s) {missing}; it needs ts, symbol, funding_rate "
                "(and optionally mark_price)"
            )
        if not isinstance(frame.schema["ts"], pl.Datetime):
            raise ConfigError(
                f"funding column ts must be a Datetime, got {frame.schema['ts']}; "
                "parse it with pl.col('ts').str.to_datetime()"
            )
        columns = [*_REQUIRED, *([MARK_COLUMN] if MARK_COLUMN in frame.columns else [])]
        ordered = frame.select(columns).with_columns(
            pl.col("ts").dt.cast_time_unit("ns"),
            pl.col("funding_rate").cast(pl.Float64),
        )
        rates = ordered["funding_rate"].to_numpy()
        _check_values(rates, "funding_rate", positive=False)
        if MARK_COLUMN in ordered.columns:
            marks = ordered[MARK_COLUMN].cast(pl.Float64).fill_null(np.nan).to_numpy()
            _check_values(marks, MARK_COLUMN, positive=True)
        else:
            marks = np.full(ordered.height, np.nan)
        ordered = ordered.with_columns(pl.Series("_mark", marks)).sort("ts", "symbol")
        repeated = ordered.filter(pl.struct("ts", "symbol").is_duplicated())
        if repeated.height:
            row = repeated.row(0, named=True)
            raise ConfigError(
                f"funding has two rates for {row['symbol']!r} at {row['ts']}; keep one per time"
            )
        return cls(
            times=ordered["ts"].cast(pl.Int64).to_numpy(),
            symbols=tuple(ordered["symbol"].cast(pl.String).to_list()),
            rates=ordered["funding_rate"].to_numpy(),
            marks=ordered["_mark"].to_numpy(),
        )

    def due(self, after: int, until: int) -> range:
        """Return the rows with a funding time in ``(after, until]`` (ns)."""
        start = int(np.searchsorted(self.times, after, side="right"))
        end = int(np.searchsorted(self.times, until, side="right"))
        return range(start, end)


def charge_funding(
    account: Account,
    funding: FundingRates,
    rows: range,
    columns: dict[str, int],
    latest: npt.NDArray[np.float64],
) -> list[tuple[object, ...]]:
    """Pay ``funding``'s ``rows`` from ``account``'s cash; return a record of each payment.

    ``columns`` maps a symbol to its column in the account (rows of other symbols are not
    this account's and are skipped); ``latest`` holds each column's latest close before the
    funding times, the mark where a row gives none. A flat position pays nothing and leaves
    no record.
    """
    records: list[tuple[object, ...]] = []
    for row in rows:
        column = columns.get(funding.symbols[row])
        if column is None:
            continue
        quantity = float(account.quantities[column])
        if quantity == 0.0:
            continue
        mark = float(funding.marks[row])
        if np.isnan(mark):
            mark = float(latest[column])
        rate = float(funding.rates[row])
        payment = funding_payment(quantity, float(account.multipliers[column]), mark, rate)
        account.values[0] -= payment
        when = datetime_from_ns(int(funding.times[row]))
        records.append((when, funding.symbols[row], quantity, mark, rate, payment))
    return records


def charge_symbol_funding(  # noqa: PLR0917 - the account, the symbol and the times
    account: Account,
    funding: FundingRates,
    symbol: str,
    column: int,
    previous: datetime,
    now: datetime,
) -> list[tuple[object, ...]]:
    """Pay the funding of ``symbol`` (``account``'s ``column``) due in ``(previous, now]``.

    The shells fed bar by bar (paper trading, the venue) call it when a symbol's bar at
    ``now`` follows its bar at ``previous``, before matching it: the position held since,
    marked at the series' mark or else ``account.marks`` (the symbol's last close).
    """
    rows = funding.due(ns_from_datetime(previous), ns_from_datetime(now))
    return charge_funding(account, funding, rows, {symbol: column}, account.marks)


def _check_values(values: npt.NDArray[np.float64], field: str, *, positive: bool) -> None:
    """Refuse the first row whose value is not a finite number (above zero if ``positive``).

    A mark (``positive``) may be missing (``NaN``: the close is used); a rate may not.
    """
    if positive:
        bad = ~np.isnan(values) & (~np.isfinite(values) | (values <= 0.0))
    else:
        bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        need = "a finite number above zero" if positive else "a finite number"
        value = float(values[row])
        raise ConfigError(f"funding row {row}: {field} is {value!r}; it must be {need}")


def funding_records(rows: list[tuple[object, ...]]) -> pl.DataFrame:
    """Return the funding payments made, one row each (the results' ``funding`` frame)."""
    return pl.DataFrame(
        rows,
        schema={
            "ts": pl.Datetime("ns", "UTC"),
            "symbol": pl.String,
            "quantity": pl.Float64,
            "mark": pl.Float64,
            "funding_rate": pl.Float64,
            "payment": pl.Float64,
        },
        orient="row",
    )
