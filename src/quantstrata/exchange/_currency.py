"""Currencies of one account: FX rates read as-of, and the account's base currency.

Every conversion between currencies goes through :meth:`FxRates.rates` (many times at once) or
:meth:`FxRates.rate` (one time): the backtest, the paper broker and the venue all value cash
and positions in the base currency with it. A rate is the last close of an FX pair at or
before the time asked for, never a later one, so no run sees a rate from its future. A pair
quoted the other way round (``USD/EUR`` when ``EUR`` is converted to ``USD``) is inverted by
:func:`_pair` — the one place the direction of a pair is decided.

An FX pair's symbol is ``"EUR/USD"`` (one ``EUR`` costs that many ``USD``) or the six-letter
``"EURUSD"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import numpy as np
import numpy.typing as npt
import polars as pl

from quantstrata.core.clock import datetime_from_ns, ns_from_datetime
from quantstrata.core.errors import ConfigError, DataError
from quantstrata.model.instrument import Instrument

__all__ = [
    "DEFAULT_BASE_CURRENCY",
    "FxRates",
    "MissingRateError",
    "base_currency",
    "pair_of",
    "settlement_currencies",
]

DEFAULT_BASE_CURRENCY = "USD"
"""The base currency of an account whose instruments settle in more than one currency."""

_SIX = 6


class MissingRateError(DataError):
    """No FX rate converts ``currency`` to ``base`` at ``ts`` (none at or before it)."""

    def __init__(self, currency: str, base: str, ts: datetime, known: Iterable[str]) -> None:
        """Name the pair, the first time without a rate, and the pairs there are."""
        self.currency, self.base, self.ts = currency, base, ts
        listed = ", ".join(sorted(known)) or "none"
        super().__init__(
            f"no FX rate for {currency}/{base} at {ts.isoformat()} (the first time that needs "
            f"one): pass FX bars of {currency}/{base} (or {base}/{currency}) starting at or "
            f"before it, e.g. Backtest(bars, strategy, config, fx=fx_bars); FX pairs given: "
            f"{listed}"
        )


def pair_of(symbol: str) -> tuple[str, str]:
    """Return the two currencies of the FX pair ``symbol`` (``"EUR/USD"`` or ``"EURUSD"``)."""
    if "/" in symbol:
        first, _, second = symbol.partition("/")
    elif len(symbol) == _SIX and symbol.isalpha():
        first, second = symbol[:3], symbol[3:]
    else:
        raise ConfigError(
            f"FX symbol {symbol!r} is not a currency pair: write it 'EUR/USD' or 'EURUSD'"
        )
    if not (first.isalnum() and second.isalnum() and len(first) >= 3 and len(second) >= 3):
        raise ConfigError(f"FX symbol {symbol!r} is not a currency pair: write it 'EUR/USD'")
    return first.upper(), second.upper()


def settlement_currencies(
    symbols: Iterable[str], instruments: Mapping[str, Instrument], base: str
) -> tuple[str, ...]:
    """Return the currency each of ``symbols`` settles in (``base`` without an instrument)."""
    return tuple(instruments[s].settlement_currency if s in instruments else base for s in symbols)


def base_currency(configured: str | None, instruments: Mapping[str, Instrument]) -> str:
    """Return the account's base currency: ``configured``, else the one currency settled in.

    With no setting and instruments settling in one currency that currency is the base (a
    single-currency run converts nothing); otherwise :data:`DEFAULT_BASE_CURRENCY`.
    """
    if configured is not None:
        return configured
    used = {instrument.settlement_currency for instrument in instruments.values()}
    return used.pop() if len(used) == 1 else DEFAULT_BASE_CURRENCY


class FxRates:
    """Closes of FX pairs over time, read as-of (the last close at or before a time)."""

    def __init__(self) -> None:
        """Start with no pairs (:meth:`of` reads them from FX bars; :meth:`add` appends)."""
        self._times: dict[tuple[str, str], npt.NDArray[np.int64]] = {}
        self._closes: dict[tuple[str, str], npt.NDArray[np.float64]] = {}

    @classmethod
    def of(cls, bars: pl.DataFrame | None) -> FxRates:
        """Return the rates in FX ``bars`` (a canonical bar frame of pair symbols, or ``None``)."""
        rates = cls()
        if bars is None or bars.height == 0:
            return rates
        ordered = bars.select("symbol", "ts", "close").sort("symbol", "ts")
        for (symbol,), part in ordered.group_by(["symbol"], maintain_order=True):
            pair = pair_of(str(symbol))
            rates._times[pair] = part.get_column("ts").dt.epoch("ns").to_numpy().astype(np.int64)
            rates._closes[pair] = part.get_column("close").to_numpy().astype(np.float64)
        return rates

    @property
    def pairs(self) -> tuple[str, ...]:
        """The pairs held, as ``"EUR/USD"``."""
        return tuple(f"{first}/{second}" for first, second in self._times)

    def add(self, symbol: str, ts: datetime, close: float) -> None:
        """Append the close of pair ``symbol`` at ``ts`` (live shells feed rates as bars come)."""
        pair = pair_of(symbol)
        ns = ns_from_datetime(ts)
        times = self._times.get(pair, np.empty(0, dtype=np.int64))
        if times.shape[0] and ns <= times[-1]:
            return  # an older or repeated close: the as-of rate is already known
        self._times[pair] = np.append(times, np.int64(ns))
        self._closes[pair] = np.append(self._closes.get(pair, np.empty(0)), close)

    def rates(
        self, currency: str, base: str, times: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        """Return what one ``currency`` is worth in ``base`` at each of ``times`` (ns, sorted).

        Raise :class:`MissingRateError` naming the first time with no close at or before it.
        """
        if currency == base:
            return np.ones(times.shape[0])
        pair, inverted = self._pair(currency, base, int(times[0]) if times.shape[0] else 0)
        known = self._times[pair]
        index = np.searchsorted(known, times, side="right") - 1
        if times.shape[0] and index[0] < 0:
            raise MissingRateError(currency, base, datetime_from_ns(int(times[0])), self.pairs)
        closes = self._closes[pair][index]
        return 1.0 / closes if inverted else closes

    def rate(self, currency: str, base: str, ts: datetime) -> float:
        """Return what one ``currency`` is worth in ``base`` at ``ts`` (as-of)."""
        return float(self.rates(currency, base, np.array([ns_from_datetime(ts)]))[0])

    def _pair(self, currency: str, base: str, first_ns: int) -> tuple[tuple[str, str], bool]:
        """Return the pair held that converts ``currency`` to ``base``, and whether inverted."""
        if (currency, base) in self._times:
            return (currency, base), False
        if (base, currency) in self._times:
            return (base, currency), True
        raise MissingRateError(currency, base, datetime_from_ns(first_ns), self.pairs)
