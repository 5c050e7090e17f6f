"""What is traded: an :class:`Instrument` with its trading rules, contract terms and calendar.

One :class:`Instrument` says everything the simulated exchange, the backtest and the brokers
need to trade a symbol: its asset class, tick and lot, the contract multiplier (point value),
the currency it is quoted and settled in, its margin, and for futures the root and expiry.
:meth:`Instrument.of` fills in the per-asset-class defaults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from quantstrata.core.errors import ConfigError
from quantstrata.model.identifiers import Symbol
from quantstrata.model.margin import REG_T, Margin

__all__ = ["AssetClass", "Instrument"]


class AssetClass(StrEnum):
    """Broad families of instruments; they set defaults such as the calendar and the margin.

    ``forex`` is an FX pair, ``crypto`` crypto spot, ``perpetual`` a perpetual swap; an
    ``index`` is a reference series, not tradable.
    """

    EQUITY = "equity"
    ETF = "etf"
    INDEX = "index"
    FOREX = "forex"
    CRYPTO = "crypto"
    FUTURE = "future"
    PERPETUAL = "perpetual"
    COMMODITY = "commodity"

    @property
    def tradable(self) -> bool:
        """Whether instruments of this class can be ordered (an index cannot)."""
        return self is not AssetClass.INDEX

    @property
    def has_contracts(self) -> bool:
        """Whether positions are in contracts with a multiplier (futures, perpetual swaps)."""
        return self in (AssetClass.FUTURE, AssetClass.PERPETUAL)


@dataclass(frozen=True, slots=True)
class Instrument:
    """An instrument and its rules.

    ``calendar`` is an exchange-calendars code such as ``"XNYS"``; ``None`` means the market trades
    around the clock (24/7), as crypto does. Prices are multiples of ``tick_size`` and quantities
    multiples of ``lot_size``, never below ``min_quantity``.

    Contract terms: ``multiplier`` is the point value (a future's ``50`` means one point of price
    is worth 50 units of the settlement currency; ``1`` for cash products); PnL and notional are
    ``quantity × price × multiplier``. ``settlement_currency`` is the currency PnL and margin are
    paid in (defaults to ``quote_currency``). ``margin`` is the collateral a position needs
    (``None``: a cash account, the whole notional). A future has a ``root`` (``"ES"``) and an
    ``expiry``; nothing else has an expiry.
    """

    symbol: Symbol
    asset_class: AssetClass
    quote_currency: str
    tick_size: float = 0.01
    lot_size: float = 1.0
    min_quantity: float = 0.0
    calendar: str | None = None
    multiplier: float = 1.0
    settlement_currency: str = ""
    margin: Margin | None = None
    root: str | None = None
    expiry: date | None = None

    def __post_init__(self) -> None:
        """Check the trading rules and the contract terms are usable."""
        object.__setattr__(self, "symbol", Symbol(self.symbol))
        object.__setattr__(self, "asset_class", AssetClass(self.asset_class))
        for name in ("tick_size", "lot_size", "multiplier"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"instrument {self.symbol}: {name} must be positive, got {value}")
        if not (math.isfinite(self.min_quantity) and self.min_quantity >= 0):
            raise ConfigError(
                f"instrument {self.symbol}: min_quantity must be >= 0, got {self.min_quantity}"
            )
        if not self.settlement_currency:
            object.__setattr__(self, "settlement_currency", self.quote_currency)
        for name in ("quote_currency", "settlement_currency"):
            code = getattr(self, name)
            if len(code) < 3 or not code.isalnum():
                raise ConfigError(f"instrument {self.symbol}: {name} {code!r} is not a code")
        if self.margin is not None and not isinstance(self.margin, Margin):
            raise ConfigError(
                f"instrument {self.symbol}: margin must be a Margin, got {self.margin!r}"
            )
        self._check_future_terms()

    def _check_future_terms(self) -> None:
        is_future = self.asset_class is AssetClass.FUTURE
        if self.expiry is not None and not is_future:
            raise ConfigError(
                f"instrument {self.symbol}: only a future has an expiry "
                f"(asset_class is {self.asset_class.value!r})"
            )
        if is_future and (self.expiry is None or not self.root):
            raise ConfigError(
                f"instrument {self.symbol}: a future needs its root and expiry, "
                f"e.g. Instrument.of('ESZ6', 'future', root='ES', expiry=date(2026, 12, 18))"
            )

    @classmethod
    def of(cls, symbol: str, asset_class: AssetClass | str, **terms: Any) -> Instrument:
        """Return an instrument with the defaults of its asset class, overridden by ``terms``.

        Defaults: equities and ETFs trade whole shares on XNYS in USD with Reg-T margin;
        crypto spot and perpetual swaps trade around the clock in USDT in fractions; FX pairs
        quote in the pair's second currency (``"EUR/USD"`` → USD); futures settle in USD.
        """
        kind = AssetClass(asset_class)
        defaults: dict[str, Any] = dict(_DEFAULTS.get(kind, {}))
        if kind is AssetClass.FOREX and "/" in symbol:
            defaults["quote_currency"] = symbol.split("/", 1)[1]
        defaults.setdefault("quote_currency", "USD")
        defaults.update(terms)
        return cls(Symbol(symbol), kind, **defaults)

    def with_terms(self, **terms: Any) -> Instrument:
        """Return a copy with ``terms`` changed (checked again)."""
        return replace(self, **terms)

    @property
    def tradable(self) -> bool:
        """Whether the instrument can be ordered (an index cannot)."""
        return self.asset_class.tradable

    @property
    def tick_value(self) -> float:
        """What one tick of price is worth per contract, in the settlement currency."""
        return self.tick_size * self.multiplier

    def notional(self, quantity: float, price: float) -> float:
        """Return the signed value of ``quantity`` at ``price`` (``× multiplier``)."""
        return quantity * price * self.multiplier

    @property
    def trades_around_the_clock(self) -> bool:
        """Whether the instrument trades 24/7 (no calendar)."""
        return self.calendar is None

    def round_price(self, price: float) -> float:
        """Round ``price`` to the nearest tick."""
        return _round_to_step(price, self.tick_size)

    def round_quantity(self, quantity: float) -> float:
        """Round ``quantity`` toward zero to a whole number of lots (0 if below the minimum)."""
        step = Decimal(repr(self.lot_size))
        lots = (Decimal(repr(quantity)) / step).to_integral_value(rounding="ROUND_DOWN")
        rounded = float(lots * step)
        return 0.0 if abs(rounded) < self.min_quantity else rounded


_DEFAULTS: dict[AssetClass, dict[str, Any]] = {
    AssetClass.EQUITY: {"calendar": "XNYS", "margin": REG_T},
    AssetClass.ETF: {"calendar": "XNYS", "margin": REG_T},
    AssetClass.CRYPTO: {"quote_currency": "USDT", "lot_size": 1e-8, "tick_size": 1e-8},
    AssetClass.PERPETUAL: {"quote_currency": "USDT", "lot_size": 1e-8, "tick_size": 1e-8},
    AssetClass.FOREX: {"lot_size": 1.0, "tick_size": 1e-5},
    AssetClass.FUTURE: {"tick_size": 0.25},
}
"""Per-asset-class defaults :meth:`Instrument.of` starts from."""


def _round_to_step(value: float, step: float) -> float:
    decimal_step = Decimal(repr(step))
    steps = (Decimal(repr(value)) / decimal_step).to_integral_value(rounding="ROUND_HALF_EVEN")
    return float(steps * decimal_step)
