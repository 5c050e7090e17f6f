"""A notebook view of a canonical bar frame: :class:`BarFrame`.

Functions that load bars keep returning plain Polars frames; wrap one to see it in a notebook
the way a vectorbt or backtesting.py user expects (a card per symbol with a close sparkline,
and candlesticks from ``.plot()``)::

    >>> from quantstrata.data import BarFrame, load_sample
    >>> bars = BarFrame(load_sample("SPX_1d"))
    >>> bars.symbols, str(bars.interval), bars.frame.height
    (['SPX'], '1d', 5031)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from quantstrata.analytics import infer_interval
from quantstrata.core.errors import QuantstrataError, SchemaError
from quantstrata.data._notebook import bars_html, plot_bars
from quantstrata.model.interval import Interval

__all__ = ["BarFrame"]

_REQUIRED = ("ts", "symbol", "open", "high", "low", "close")


@dataclass(frozen=True, slots=True)
class BarFrame:
    """Show a canonical bar frame (one or many symbols) in a notebook; ``frame`` is unchanged."""

    frame: pl.DataFrame

    def __post_init__(self) -> None:
        """Refuse a frame that lacks a column the view reads."""
        if not isinstance(self.frame, pl.DataFrame):
            raise SchemaError(f"BarFrame takes a Polars DataFrame, got {type(self.frame).__name__}")
        missing = [name for name in _REQUIRED if name not in self.frame.columns]
        if missing:
            raise SchemaError(
                f"bar frame is missing column(s) {missing}; it has {self.frame.columns}"
            )

    @property
    def symbols(self) -> list[str]:
        """The symbols, in order of first appearance."""
        return [str(name) for name in self.frame["symbol"].unique(maintain_order=True).to_list()]

    @property
    def interval(self) -> Interval | None:
        """The bar interval guessed from the first symbol's spacing (None below two bars)."""
        if self.frame.is_empty():
            return None
        first = self.frame.filter(pl.col("symbol") == self.frame["symbol"][0]).sort("ts")
        try:
            return infer_interval(first["ts"]) if first.height >= 2 else None
        except QuantstrataError:
            return None

    def plot(self, symbol: str | None = None) -> Any:
        """Return a Plotly figure: candlesticks for one symbol, close lines for several."""
        return plot_bars(self.frame, symbol)

    def _repr_html_(self) -> str:
        """Show the symbols, their ranges and close sparklines, then the first and last rows."""
        interval = self.interval
        return bars_html(self.frame, "interval unknown" if interval is None else str(interval))
