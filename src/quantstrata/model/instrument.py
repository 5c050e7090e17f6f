"""What is traded: an :class:`Instrument` with its trading rules and calendar."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from quantstrata.core.errors import ConfigError
from quantstrata.model.identifiers import Symbol

__all__ = ["AssetClass", "Instrument"]


class AssetClass(StrEnum):
    """Broad families of instruments; they set defaults such as the trading calendar."""

    EQUITY = "equity"
    INDEX = "index"
    FOREX = "forex"
    CRYPTO = "crypto"
    FUTURE = "future"
    COMMODITY = "commodity"


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable instrument and its rules.

    ``calendar`` is an exchange-calendars code such as ``"XNYS"``; ``None`` means the market trades
    around the clock (24/7), as crypto does. Prices are multiples of ``tick_size`` and quantities
    multiples of ``lot_size``, never below ``min_quantity``.
    """

    symbol: Symbol
    asset_class: AssetClass
    quote_currency: str
    tick_size: float = 0.01
    lot_size: float = 1.0
    min_quantity: float = 0.0
    calendar: str | None = None

    def __post_init__(self) -> None:
        """Check the trading rules are usable."""
        object.__setattr__(self, "symbol", Symbol(self.symbol))
        object.__setattr__(self, "asset_class", AssetClass(self.asset_class))
        for name in ("tick_size", "lot_size"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"instrument {self.symbol}: {name} must be positive, got {value}")
        if not (math.isfinite(self.min_quantity) and self.min_quantity >= 0):
            raise ConfigError(
                f"instrument {self.symbol}: min_quantity must be >= 0, got {self.min_quantity}"
            )
        if len(self.quote_currency) < 3 or not self.quote_currency.isalnum():
            raise ConfigError(
                f"instrument {self.symbol}: quote_currency {self.quote_currency!r} is not a code"
            )

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


def _round_to_step(value: float, step: float) -> float:
    decimal_step = Decimal(repr(step))
    steps = (Decimal(repr(value)) / decimal_step).to_integral_value(rounding="ROUND_HALF_EVEN")
    return float(steps * decimal_step)
