"""The bar snapshot the event loop hands ``on_bar``: a view over the aligned arrays.

The bar frame was validated once before the run (:func:`~quantstrata.backtest._align.
canonical_bars`), so the loop does not build and check a :class:`~quantstrata.model.bar.Bar`
per symbol and bar: one view shows the bars of the loop's current time and builds a ``Bar``
only when the strategy reads it (kept for the rest of that bar time).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from quantstrata.core.errors import UnknownSymbolError
from quantstrata.model.bar import Bar
from quantstrata.strategy.event import BarSnapshot

if TYPE_CHECKING:
    from quantstrata.backtest._event import EventBook

__all__ = ["AlignedSnapshot"]


class AlignedSnapshot(BarSnapshot):
    """The bars of the book's current time, read from its arrays when asked for."""

    __slots__ = ("_book", "_built", "_built_at")

    def __init__(self, book: EventBook) -> None:
        self._book = book
        self._built: dict[str, Bar] = {}
        self._built_at = -2

    @property
    def ts(self) -> datetime:
        """The open time of the bars being handled."""
        return self._book.now

    @property
    def bars(self) -> tuple[Bar, ...]:
        """The bars, sorted by symbol."""
        return tuple(self[symbol] for symbol in self.symbols)

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols with a bar at this time, sorted."""
        return self._book.symbols_now()

    def __getitem__(self, symbol: str) -> Bar:
        """Return the bar of ``symbol``; raise :class:`UnknownSymbolError` if it has none."""
        book = self._book
        if self._built_at != book.bar:
            self._built = {}
            self._built_at = book.bar
        bar = self._built.get(symbol)
        if bar is not None:
            return bar
        if symbol not in self.symbols:
            raise UnknownSymbolError(
                f"no bar for {symbol!r} at {self.ts}; the snapshot holds {list(self.symbols)}"
            )
        bar = book.bar_of(book.symbol_index(symbol))
        self._built[symbol] = bar
        return bar

    def __iter__(self) -> Iterator[str]:
        """Iterate over the symbols, sorted."""
        return iter(self.symbols)

    def __len__(self) -> int:
        """Return the number of symbols with a bar."""
        return len(self.symbols)
