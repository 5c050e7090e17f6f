"""A backtest whose instruments settle in more than one currency: rates per bar, carry per currency.

Fills settle in their instrument's currency (the exchange's per-currency cash); the backtest
values everything in the base currency at each bar's FX rates, read as-of the bar's time by
:class:`~quantstrata.exchange._currency.FxRates` (the FX bar stamped at or before it, whose
close is no later than the bar's own close). Such a run goes through the event loop (the
simulated exchange), not the compiled signal loops, which keep one cash.

Borrow on shorts and financing on a negative balance are charged per currency, at that
currency's rate (``BacktestConfig.borrow_rates`` / ``financing_rates``, else the one rate), on
that currency's balance and positions, and taken from that currency's cash.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quantstrata.backtest._align import AlignedBars
from quantstrata.backtest.config import BacktestConfig
from quantstrata.exchange._currency import FxRates
from quantstrata.execution._nb import carry_cost_nb
from quantstrata.execution.costs import carry_factors

__all__ = ["CurrencyBook", "carry_charges", "carry_costs_in_base", "currency_book"]


@dataclass(frozen=True, slots=True)
class CurrencyBook:
    """The currencies of a run (the base first), which column settles in which, rates per bar.

    ``rates`` (bars × currencies): one unit of each currency in the base at each bar time;
    ``carry`` (bars × currencies × 2): each currency's borrow and financing factor per bar.
    """

    currencies: tuple[str, ...]
    of_column: npt.NDArray[np.int64]
    rates: npt.NDArray[np.float64]
    carry: npt.NDArray[np.float64]

    def column_rates(self) -> npt.NDArray[np.float64]:
        """Return each symbol's rate to the base at each bar (bars × symbols)."""
        return self.rates[:, self.of_column]


def currency_book(config: BacktestConfig, aligned: AlignedBars, fx: FxRates) -> CurrencyBook | None:
    """Return the currencies of a run on ``aligned``; ``None`` when everything is in the base.

    Raise :class:`~quantstrata.exchange._currency.MissingRateError` for the first bar time a
    currency has no rate at.
    """
    base = config.account_currency()
    settled = config.currencies_of(aligned.symbols)
    if all(currency == base for currency in settled) and not config.per_currency_carry():
        return None
    currencies = (base, *sorted(set(settled) - {base}))
    of_column = np.array([currencies.index(c) for c in settled], dtype=np.int64)
    rates = np.column_stack([fx.rates(c, base, aligned.times) for c in currencies])
    years = carry_factors(aligned.times, 1.0, 1.0)[:, 0]
    carry = np.stack(
        [np.column_stack((years * b, years * f)) for b, f in map(config.carry_rates, currencies)],
        axis=1,
    )
    return CurrencyBook(currencies, of_column, rates, carry)


def carry_charges(
    cash: npt.NDArray[np.float64],
    quantities: npt.NDArray[np.float64],
    marks: npt.NDArray[np.float64],
    of_column: npt.NDArray[np.int64],
    factors: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Return each currency's carry charge for one interval, in that currency.

    ``cash`` is the balance per currency, ``quantities``/``marks`` every symbol's position and
    price (in its currency), ``factors`` (currencies × 2) each currency's borrow and financing
    factor; the one rule is :func:`~quantstrata.execution._nb.carry_cost_nb`.
    """
    charges = np.zeros(cash.shape[0])
    for index in range(cash.shape[0]):
        held = of_column == index
        charges[index] = carry_cost_nb(
            float(cash[index]), quantities[held], marks[held], *factors[index]
        )
    return charges


def carry_costs_in_base(
    book: CurrencyBook,
    balances: npt.NDArray[np.float64],
    positions: npt.NDArray[np.float64],
    marks: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Return the carry charged at each bar, in the base currency at the bar's rates.

    From the book after each bar (``balances``: cash per currency, ``positions``, ``marks``),
    with :func:`carry_charges`, as the event loop charged it; the first bar is charged nothing.
    """
    costs = np.zeros(balances.shape[0])
    for bar in range(1, balances.shape[0]):
        charges = carry_charges(
            balances[bar - 1], positions[bar - 1], marks[bar - 1], book.of_column, book.carry[bar]
        )
        costs[bar] = float(np.dot(charges, book.rates[bar]))
    return costs
