"""The cells of the parity matrix: order type × time in force × long / short / reduce-only.

One run trades every time-in-force × side cell of one order type at once, each cell on a
symbol of its own (``GTC_LONG``, ``DAY_SHORT``, ``IOC_REDUCE``...), so a run per order type and
bar set covers its nine cells and a failing comparison names the cell by its symbol.

Every cell trades in rounds of ``period`` bar times: flatten (cancel what works, close the
position at market), open the position the cell needs (reduce-only cells and OCO exit pairs
trade out of one), then place the cell's order priced a little away from the close, and let it
work until the next round. Orders placed late in a session test where a DAY order ends; those
left working test GTC across the night, the weekend and the holiday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.orders import (
    Bracket,
    OneCancelsOther,
    OrderRequest,
    OrderSide,
    OrderType,
    TimeInForce,
)
from quantstrata.strategy import BarSnapshot, StrategyContext
from tests.kit.bars import make_bars
from tests.kit.parity import Setup, submit

__all__ = [
    "BAR_SETS",
    "MODES",
    "ORDER_KINDS",
    "QUANTITY",
    "CellPlan",
    "bar_set",
    "cell_symbol",
    "single_order",
]

ORDER_KINDS = ("market", "limit", "stop", "stop_limit", "trailing", "bracket", "oco")
MODES = ("long", "short", "reduce")
QUANTITY = 10.0
STEP = 0.001
"""How far from the close an order is priced: about half a bar's move of ``make_bars``' bars."""

BAR_SETS = ("daily", "minute")


def cell_symbol(tif: TimeInForce, mode: str) -> str:
    """The symbol a cell trades: ``DAY_SHORT`` for a DAY order opening a short."""
    return f"{tif.name}_{mode.upper()}"


def bar_set(kind: str, symbols: tuple[str, ...]) -> tuple[Setup, int]:
    """Return the setup of a bar set and the rounds' period in bar times.

    ``daily``: 28 XNYS sessions from 2024-11-18 (Thanksgiving, the early close of 29 November,
    the weekends, the early close of 24 December and Christmas inside). ``minute``: 120 XNYS
    session minutes from 12:25 New York on 24 December 2024 (the last 35 minutes before the early
    close at 13:00, the Christmas holiday, then the first 85 minutes of 26 December).
    """
    if kind == "daily":
        start, count, interval, period = datetime(2024, 11, 18, tzinfo=UTC), 28, "1d", 4
    else:
        start, count, interval, period = datetime(2024, 12, 24, 17, 25, tzinfo=UTC), 120, "1m", 15
    frames = [
        make_bars(
            count,
            symbol=symbol,
            start=start,
            interval=interval,
            calendar="XNYS",
            seed=number,
        )
        for number, symbol in enumerate(symbols)
    ]
    bars = pl.concat(frames).sort("ts", "symbol")
    return Setup(bars, interval=interval, calendar="XNYS"), period


_TYPES = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP,
    "stop_limit": OrderType.STOP_LIMIT,
    "trailing": OrderType.TRAILING_STOP,
}


def single_order(
    kind: str,
    symbol: str,
    signed: float,
    *,
    price: float,
    limit: float,
    trail: float,
    tif: TimeInForce,
    reduce_only: bool,
) -> OrderRequest:
    """One order of ``kind`` (not a group) for ``signed`` units (a buy when positive).

    A limit order is priced at ``price``; a stop triggers at ``price``; a stop-limit triggers at
    ``price`` and is limited at ``limit``; a trailing stop trails by the fraction ``trail``.
    """
    order_type = _TYPES[kind]
    prices: dict[str, float] = {
        OrderType.MARKET: {},
        OrderType.LIMIT: {"limit_price": price},
        OrderType.STOP: {"stop_price": price},
        OrderType.STOP_LIMIT: {"stop_price": price, "limit_price": limit},
        OrderType.TRAILING_STOP: {"trail_percent": trail},
    }[order_type]
    return OrderRequest(
        Symbol(symbol),
        OrderSide.BUY if signed > 0 else OrderSide.SELL,
        abs(signed),
        order_type,
        time_in_force=tif,
        reduce_only=reduce_only,
        **prices,
    )


def _priced(
    kind: str, symbol: str, signed: float, close: float, *, tif: TimeInForce, reduce_only: bool
) -> OrderRequest:
    """One order of ``kind`` priced ``STEP`` from ``close``: a limit inside, a stop outside."""
    sign = 1.0 if signed > 0 else -1.0
    inside = kind == "limit"  # a buy limit below the close; a buy stop above it
    return single_order(
        kind,
        symbol,
        signed,
        price=close * (1 - sign * STEP if inside else 1 + sign * STEP),
        limit=close * (1 + 2 * sign * STEP),
        trail=STEP,
        tif=tif,
        reduce_only=reduce_only,
    )


def _cell_order(
    kind: str, symbol: str, mode: str, close: float, tif: TimeInForce
) -> OrderRequest | Bracket | OneCancelsOther:
    """The order a cell places once it holds the position its mode needs."""
    reduce_only = mode == "reduce"
    if kind == "oco":  # an exit pair out of the position: a limit beyond it, a stop behind it
        exit_sign = 1.0 if mode == "short" else -1.0
        size = exit_sign * QUANTITY * (1.5 if reduce_only else 1.0)
        return OneCancelsOther(
            _priced("limit", symbol, size, close, tif=tif, reduce_only=reduce_only),
            _priced("stop", symbol, size, close, tif=tif, reduce_only=reduce_only),
        )
    signed = QUANTITY if mode == "long" else -QUANTITY * (1.5 if reduce_only else 1.0)
    if kind == "bracket":
        sign = 1.0 if signed > 0 else -1.0
        entry = OrderRequest(
            Symbol(symbol),
            OrderSide.BUY if sign > 0 else OrderSide.SELL,
            abs(signed),
            OrderType.LIMIT,
            limit_price=close * (1 - sign * STEP / 2),
            time_in_force=tif,
            reduce_only=reduce_only,
        )
        return Bracket(
            entry,
            stop_loss=close * (1 - 3 * sign * STEP),
            take_profit=close * (1 + 2 * sign * STEP),
        )
    return _priced(kind, symbol, signed, close, tif=tif, reduce_only=reduce_only)


@dataclass(frozen=True)
class CellPlan:
    """Trade one order kind in every cell (symbol → time in force and mode), round by round."""

    kind: str
    cells: tuple[tuple[str, TimeInForce, str], ...]
    period: int

    def __call__(
        self, index: int, bars: BarSnapshot, context: StrategyContext, placed: list[ClientOrderId]
    ) -> None:
        phase = index % self.period
        for symbol, tif, mode in self.cells:
            bar = bars.get(symbol)
            if bar is None:
                continue
            if phase == 0:
                for order in context.open_orders(symbol):
                    context.cancel(order.order_id)
                held = context.position(symbol)
                if held:
                    submit(context, placed, OrderRequest.market(symbol, -held))
            elif phase == 1 and (mode == "reduce" or self.kind == "oco"):
                opening = -QUANTITY if mode == "short" else QUANTITY
                submit(context, placed, OrderRequest.market(symbol, opening))
            elif phase == 2:
                submit(context, placed, _cell_order(self.kind, symbol, mode, bar.close, tif))
