"""Trading costs: commission and slippage, the same compiled kernels the fill model uses.

Costs are never negative and slippage always moves the price against the trader. Commission is
charged per order: the fixed part and the minimum are paid once even when an order fills in
parts; :class:`CommissionCharge` carries the order's fee basis from one fill to the next.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from quantstrata.core.errors import ConfigError
from quantstrata.execution import _nb
from quantstrata.execution.config import CommissionConfig, SlippageConfig
from quantstrata.model.orders.enums import OrderSide
from quantstrata.model.orders.fill import Liquidity

__all__ = [
    "DAYS_PER_YEAR",
    "CommissionCharge",
    "carry_factors",
    "commission",
    "commission_arguments",
    "lot_scale",
    "scaled_rate",
    "slippage_arguments",
    "slipped_price",
]


class CommissionCharge(NamedTuple):
    """The commission of one fill and the order's fee basis after it.

    ``basis`` is the order's fee before the minimum; pass it back as ``previous_basis`` for the
    order's next fill.
    """

    amount: float
    basis: float


def commission(
    config: CommissionConfig,
    quantity: float,
    price: float,
    *,
    liquidity: Liquidity = Liquidity.TAKER,
    previous_basis: float | None = None,
    multiplier: float = 1.0,
) -> CommissionCharge:
    """Return the commission of one fill of ``quantity`` at ``price``.

    ``previous_basis`` is ``None`` for an order's first fill, else the ``basis`` returned for
    its previous fill. ``multiplier`` is the contract's: the rates apply to ``quantity × price
    × multiplier``; ``per_unit`` and ``exchange_fee`` are per contract.
    """
    _require_finite(quantity=quantity, price=price)
    first_fill = previous_basis is None
    amount, basis = _nb.commission_nb(
        quantity,
        price,
        Liquidity(liquidity) is Liquidity.MAKER,
        first_fill,
        0.0 if previous_basis is None else previous_basis,
        *commission_arguments(config, multiplier),
    )
    return CommissionCharge(float(amount), float(basis))


def slipped_price(
    config: SlippageConfig,
    side: OrderSide,
    price: float,
    quantity: float,
    bar_volume: float = math.nan,
) -> float:
    """Return the execution price of a taker fill at ``price`` after slippage.

    ``bar_volume`` feeds the volume-share impact; without it (``NaN``) that part is skipped.
    """
    _require_finite(quantity=quantity, price=price)
    return float(
        _nb.slippage_nb(
            int(OrderSide(side)), price, quantity, bar_volume, *slippage_arguments(config)
        )
    )


def commission_arguments(
    config: CommissionConfig, multiplier: float = 1.0
) -> tuple[float, float, float, float, float]:
    """Return the commission settings in the order :func:`_nb.commission_nb` takes them.

    For a contract with ``multiplier`` the rates are ``rate × multiplier`` (a rate applies to
    the notional ``quantity × price × multiplier``); compiled loops scale the rates of each
    symbol the same way (:func:`scaled_rate`). The exchange fee adds to the per-unit fee.
    """
    return (
        scaled_rate(config.rate, multiplier),
        scaled_rate(config.effective_maker_rate, multiplier),
        config.per_unit + config.exchange_fee,
        config.per_order,
        config.minimum,
    )


def scaled_rate(rate: float, multiplier: float) -> float:
    """Return a commission rate on notional as a rate on ``quantity × price`` (``rate × m``)."""
    return rate * multiplier


def slippage_arguments(config: SlippageConfig) -> tuple[float, float, float, float]:
    """Return the slippage settings in the order :func:`_nb.slippage_nb` takes them."""
    return (
        config.fixed_basis_points,
        config.spread_basis_points,
        config.spread,
        config.volume_impact,
    )


DAYS_PER_YEAR = 365.0
"""The day count of carry costs: actual/365 (calendar time between bars over 365 days)."""
_NANOSECONDS_PER_YEAR = DAYS_PER_YEAR * 86_400 * 1_000_000_000


def carry_factors(
    times: npt.NDArray[np.int64], borrow_rate: float, financing_rate: float
) -> npt.NDArray[np.float64]:
    """Return per bar ``(borrow_rate × years, financing_rate × years)`` since the bar before.

    ``times`` are the bar times in nanoseconds, increasing; the rates are annual fractions
    (``0.05`` = 5 % a year). Years are actual/365: a weekend between two daily bars counts its
    three calendar days. The first bar has no interval and gets zeros.
    """
    _require_finite(borrow_rate=borrow_rate, financing_rate=financing_rate)
    years = np.zeros(times.shape[0])
    years[1:] = np.diff(times).astype(np.float64) / _NANOSECONDS_PER_YEAR
    return np.column_stack((borrow_rate * years, financing_rate * years))


def _require_finite(**values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}")


def lot_scale(lot_size: float) -> float:
    """Return the power of ten that makes ``lot_size`` a whole number (``0.25`` → 100).

    :func:`~quantstrata.execution._nb.round_fill_nb` counts lots in these units, so compiled
    code rounds fills exactly as the decimal rounding of the fill model does.
    """
    exponent = Decimal(repr(float(lot_size))).as_tuple().exponent
    if not isinstance(exponent, int):  # NaN or infinity: no decimals to count
        return 1.0
    return float(10 ** max(-exponent, 0))
