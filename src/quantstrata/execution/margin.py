"""How the account values a position and how much it may build: multiplier and margin rules.

One home for the contract terms every environment reads (the compiled backtest loops, the
simulated exchange, the live runtime's target sizing, the result builder):

- **Value**: a position of ``quantity`` at ``price`` is worth ``quantity × price ×
  multiplier`` (:func:`position_value`); equity is cash plus Σ values (:func:`account_equity`).
  Cash is debited the notional of a buy and credited that of a sell, exactly as for shares, so
  equity equals the futures view (cash moving by realised PnL and fees only, plus Σ unrealised
  PnL) at every mark; the result builder reports the futures view of cash
  (:func:`free_cash`).
- **Buying power**: an instrument with a :class:`~quantstrata.model.margin.Margin` may build
  positions while Σ initial margin ≤ equity (a fraction of notional, or a fixed amount per
  contract); an instrument without one is held to ``max_leverage`` × equity of gross notional,
  as before. Both are one inequality, ``Σ used ≤ max_leverage × equity``, with each position's
  *used* exposure ``weight × |notional| + per_contract × |quantity|``: :func:`sizing_terms`
  gives each symbol's ``(multiplier, weight, per_contract)`` and the compiled kernels
  (:func:`~quantstrata.execution._sizing_nb.exposure_nb`) read them. Without margin the terms
  are ``(multiplier, 1, 0)`` and the cap is the leverage cap, to the last bit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt

from quantstrata.model.instrument import Instrument
from quantstrata.model.margin import Amount, MarginBasis

__all__ = [
    "NO_TERMS",
    "account_equity",
    "free_cash",
    "initial_margin",
    "maintenance_margin",
    "multiplier_of",
    "position_value",
    "sizing_terms",
    "terms_array",
]

NO_TERMS = (1.0, 1.0, 0.0)
"""The terms of a symbol without an instrument: multiplier 1, no margin (the leverage cap)."""


def multiplier_of(instrument: Instrument | None) -> float:
    """Return the contract multiplier of ``instrument`` (1 without one)."""
    return 1.0 if instrument is None else instrument.multiplier


def position_value(instrument: Instrument | None, quantity: Amount, price: Amount) -> Amount:
    """Return the signed value of ``quantity`` at ``price``: ``quantity × (price × multiplier)``.

    The one valuation of the project; compiled code computes the same product in this order.
    """
    return quantity * (price * multiplier_of(instrument))


def initial_margin(instrument: Instrument | None, quantity: Amount, price: Amount) -> Amount:
    """Return the initial margin ``quantity`` at ``price`` needs (the notional without margin)."""
    if instrument is None or instrument.margin is None:
        return abs(position_value(instrument, quantity, price))
    return instrument.margin.initial_for(quantity, price, instrument.multiplier)


def maintenance_margin(instrument: Instrument | None, quantity: Amount, price: Amount) -> Amount:
    """Return the maintenance margin holding ``quantity`` at ``price`` needs.

    Without a margin the account is a cash account: the whole notional.
    """
    if instrument is None or instrument.margin is None:
        return abs(position_value(instrument, quantity, price))
    return instrument.margin.maintenance_for(quantity, price, instrument.multiplier)


def account_equity(
    cash: float,
    positions: Mapping[str, float],
    marks: Mapping[str, float],
    instruments: Mapping[str, Instrument],
) -> float:
    """Return cash plus every position valued at its mark (with its multiplier)."""
    equity = cash
    for symbol, quantity in positions.items():
        if quantity != 0.0:
            equity += position_value(instruments.get(symbol), quantity, marks[symbol])
    return equity


def sizing_terms(instrument: Instrument | None, max_leverage: float) -> tuple[float, float, float]:
    """Return ``(multiplier, weight, per_contract)`` of a symbol for the buying-power cap.

    The cap is ``Σ (weight × |notional| + per_contract × |quantity|) ≤ max_leverage ×
    equity``: without margin ``weight`` is 1 (the leverage cap on notional); with a margin
    on notional ``weight = max_leverage × initial`` (so Σ initial margin ≤ equity); with a
    margin per contract ``per_contract = max_leverage × initial``.
    """
    if instrument is None:
        return NO_TERMS
    margin = instrument.margin
    if margin is None:
        return instrument.multiplier, 1.0, 0.0
    if margin.basis is MarginBasis.PER_CONTRACT:
        return instrument.multiplier, 0.0, max_leverage * margin.initial
    return instrument.multiplier, max_leverage * margin.initial, 0.0


def terms_array(
    symbols: Iterable[str], instruments: Mapping[str, Instrument], max_leverage: float
) -> npt.NDArray[np.float64]:
    """Return :func:`sizing_terms` of ``symbols`` as a ``(symbols, 3)`` array for compiled code."""
    rows = [sizing_terms(instruments.get(symbol), max_leverage) for symbol in symbols]
    return np.array(rows, dtype=np.float64).reshape(len(rows), 3)


def free_cash(
    cash: npt.NDArray[np.float64],
    positions: npt.NDArray[np.float64],
    marks: npt.NDArray[np.float64],
    instruments: Iterable[Instrument | None],
) -> npt.NDArray[np.float64]:
    """Return the cash of an account holding contracts as a futures broker reports it.

    ``cash`` (per bar) is the account's cash with each contract's notional debited (how every
    environment books it); a futures broker instead settles PnL as it goes and sets the
    initial margin of open contracts aside. Per bar: ``cash`` plus the contracts' value at
    ``marks`` minus their initial margin, i.e. equity less the margin posted (backtrader's
    ``getcash()``). Only instruments whose asset class has contracts (futures, perpetual
    swaps) are changed; shares keep the cash as booked.
    """
    adjusted = cash.copy()
    for column, instrument in enumerate(instruments):
        if instrument is None or not instrument.asset_class.has_contracts:
            continue
        held = positions[:, column]
        price = np.where(held == 0.0, 0.0, marks[:, column])
        adjusted += position_value(instrument, held, price) - initial_margin(
            instrument, held, price
        )
    return adjusted
