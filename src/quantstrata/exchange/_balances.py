"""Cash per currency: what an account holds in each currency its instruments settle in.

The base currency's cash stays where it always was (``Account.values[0]``, which compiled code
reads), so an account whose instruments all settle in the base currency is unchanged. Cash in
any other currency is kept here, in that currency; :attr:`Balances.rates` holds each
currency's latest rate to the base (the caller keeps it current, as it keeps the marks), from
which :meth:`Balances.in_base` values the account in the base currency.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["Balances"]


class Balances:
    """The currencies of an account, which symbol settles in which, and the non-base cash."""

    def __init__(self, base: str, settlement: Sequence[str]) -> None:
        """Hold ``base`` and the currency each column settles in (``settlement``), all at 0."""
        self.base = base
        self.currencies: tuple[str, ...] = (base,)
        self.of_column = np.zeros(0, dtype=np.int64)
        """Each column's currency (an index into :attr:`currencies`; 0: the base)."""
        self.cash = np.zeros(1)
        """Cash per currency, in that currency; ``cash[0]`` is unused (the base cash is the
        account's ``values[0]``)."""
        self.rates = np.ones(1)
        """What one unit of each currency is worth in the base, as of the latest bar."""
        for currency in settlement:
            self.list_column(currency)

    @property
    def multiple(self) -> bool:
        """Whether any column settles outside the base currency."""
        return len(self.currencies) > 1

    def list_column(self, currency: str) -> None:
        """Add a column settling in ``currency`` (the currency too, when new)."""
        self.of_column = np.append(self.of_column, self._index(currency))

    def _index(self, currency: str) -> int:
        """Return where ``currency`` is held, holding it (no cash, no rate yet) when new."""
        if currency not in self.currencies:
            self.currencies = (*self.currencies, currency)
            self.cash = np.append(self.cash, 0.0)
            self.rates = np.append(self.rates, np.nan)
        return self.currencies.index(currency)

    def currency_of(self, column: int) -> str:
        """Return the currency column ``column`` settles in."""
        return self.currencies[int(self.of_column[column])]

    def column_rates(self) -> np.ndarray:
        """Return each column's rate to the base (1 for the base's own columns)."""
        return self.rates[self.of_column]

    def in_base(self, base_cash: float) -> float:
        """Return the cash of every currency, ``base_cash`` included, in the base currency."""
        if not self.multiple:
            return base_cash
        return base_cash + float(np.dot(self.cash[1:], self.rates[1:]))

    def by_currency(self, base_cash: float) -> dict[str, float]:
        """Return the cash held in each currency, in that currency (the base's is ``base_cash``)."""
        return {self.base: base_cash} | {
            currency: float(self.cash[index])
            for index, currency in enumerate(self.currencies)
            if index
        }

    def hold(self, cash: dict[str, float]) -> None:
        """Hold the saved non-base ``cash`` (restoring a book; the base cash is the caller's)."""
        for currency, amount in cash.items():
            if currency != self.base:
                self.cash[self._index(currency)] = amount
