"""How much of a position's value must be held as collateral: a :class:`Margin` value.

A margin is written once per instrument and read by every place that sizes, checks or
liquidates a position (the simulated exchange, the backtest, the live risk engine). It is
either a fixed amount per contract (how futures exchanges quote it: "ES initial 12,000 USD")
or a fraction of the notional (how brokers quote equities and crypto: Reg-T's 50 % / 25 %).

- ``initial``: what opening or adding to a position needs;
- ``maintenance``: what holding it needs; below it the account gets a margin call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from quantstrata.core.errors import ConfigError

__all__ = ["REG_T", "Amount", "Margin", "MarginBasis"]

Amount = TypeVar("Amount", float, npt.NDArray[np.float64])
"""A quantity, price or sum of money: one number, or one per bar (compiled results)."""


class MarginBasis(StrEnum):
    """What a :class:`Margin`'s numbers are measured in."""

    NOTIONAL = "notional"
    """Fractions of the position's notional value (``|quantity| × price × multiplier``)."""
    PER_CONTRACT = "per_contract"
    """Amounts of the settlement currency per contract held."""


@dataclass(frozen=True, slots=True)
class Margin:
    """The initial and maintenance margin of an instrument.

    With ``basis=NOTIONAL`` both are fractions in (0, 1] (1.0 is a cash account: no
    leverage); with ``basis=PER_CONTRACT`` they are positive amounts per contract. The
    maintenance margin never exceeds the initial one.
    """

    initial: float
    maintenance: float
    basis: MarginBasis = MarginBasis.NOTIONAL

    def __post_init__(self) -> None:
        """Check the numbers can be used as collateral requirements."""
        object.__setattr__(self, "basis", MarginBasis(self.basis))
        for name in ("initial", "maintenance"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"margin {name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"margin {name} must be positive, got {value!r}")
            if self.basis is MarginBasis.NOTIONAL and value > 1:
                raise ConfigError(
                    f"margin {name} is a fraction of notional in (0, 1], got {value!r}; "
                    "for an amount per contract use basis='per_contract'"
                )
            object.__setattr__(self, name, float(value))
        if self.maintenance > self.initial:
            raise ConfigError(
                f"margin maintenance ({self.maintenance}) exceeds initial ({self.initial})"
            )

    def initial_for(self, quantity: Amount, price: Amount, multiplier: float = 1.0) -> Amount:
        """Return the initial margin ``|quantity|`` contracts at ``price`` need."""
        return self._required(self.initial, quantity, price, multiplier)

    def maintenance_for(self, quantity: Amount, price: Amount, multiplier: float = 1.0) -> Amount:
        """Return the maintenance margin ``|quantity|`` contracts at ``price`` need."""
        return self._required(self.maintenance, quantity, price, multiplier)

    def _required(self, rate: float, quantity: Amount, price: Amount, multiplier: float) -> Amount:
        if self.basis is MarginBasis.PER_CONTRACT:
            return abs(quantity) * rate
        return abs(quantity * (price * multiplier)) * rate  # the notional, valued as booked


REG_T = Margin(initial=0.5, maintenance=0.25)
"""US Regulation T for equities: 50 % initial, 25 % maintenance (short sales too)."""
