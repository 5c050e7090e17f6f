"""How the live order book shows itself in a notebook: open orders and positions.

:class:`~quantstrata.live.state.LiveState` (and the :class:`~quantstrata.live.orders.OrderManager`
holding it) render as an inline HTML card: the working orders, oldest first, and every
non-flat position. The plot puts each symbol's position beside the signed quantity its open
orders would add. Order tags and ids are user text and are escaped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from quantstrata.analytics._html import card_html, frame_html

if TYPE_CHECKING:
    from quantstrata.live.state import LiveState

__all__ = ["open_orders_frame", "order_book_html", "plot_order_book", "positions_frame"]

_SHOWN_ROWS = 25


def open_orders_frame(state: LiveState) -> pl.DataFrame:
    """Return one row per working order: id, symbol, side, type, quantities, prices, status."""
    rows = [
        {
            "order_id": str(order.order_id),
            "symbol": str(order.request.symbol),
            "side": order.side.name.lower(),
            "type": order.request.order_type.name.lower(),
            "quantity": float(order.request.quantity),
            "filled": float(order.filled_quantity),
            "limit": order.request.limit_price,
            "stop": order.request.stop_price,
            "status": order.status.name.lower(),
            "created_at": order.created_at,
            "tag": order.request.tag,
        }
        for order in state.open_orders()
    ]
    schema: dict[str, pl.DataType] = {
        "order_id": pl.String(),
        "symbol": pl.String(),
        "side": pl.String(),
        "type": pl.String(),
        "quantity": pl.Float64(),
        "filled": pl.Float64(),
        "limit": pl.Float64(),
        "stop": pl.Float64(),
        "status": pl.String(),
        "created_at": pl.Datetime("us", "UTC"),
        "tag": pl.String(),
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def positions_frame(state: LiveState) -> pl.DataFrame:
    """Return one row per non-flat position: quantity, average price, realised P&L."""
    rows = [
        (str(symbol), position.quantity, position.average_price, position.realized_pnl)
        for symbol, position in sorted(state.positions.items())
        if position.quantity != 0.0
    ]
    schema: dict[str, pl.DataType] = {
        "symbol": pl.String(),
        "quantity": pl.Float64(),
        "average_price": pl.Float64(),
        "realized_pnl": pl.Float64(),
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def order_book_html(state: LiveState, title: str) -> str:
    """Return the order book card: cash, open orders and positions."""
    orders, positions = open_orders_frame(state), positions_frame(state)
    parts = [
        f"<div><em>open orders ({orders.height:,})</em></div>"
        + frame_html(orders, rows=_SHOWN_ROWS, identifier="open-orders"),
        f"<div><em>positions ({positions.height:,})</em></div>"
        + frame_html(positions, rows=_SHOWN_ROWS, identifier="positions"),
    ]
    return card_html(
        title,
        *parts,
        subtitle=f"cash {state.cash:,.2f}; {len(state.orders):,} orders in the journal",
    )


def plot_order_book(state: LiveState) -> Any:
    """Return a bar chart: each symbol's position and the signed quantity of its open orders."""
    import plotly.graph_objects as go  # type: ignore[import-untyped]

    orders, positions = open_orders_frame(state), positions_frame(state)
    pending = orders.group_by("symbol").agg(
        (
            pl.when(pl.col("side") == "buy").then(1.0).otherwise(-1.0)
            * (pl.col("quantity") - pl.col("filled"))
        )
        .sum()
        .alias("pending")
    )
    symbols = sorted(set(positions["symbol"].to_list()) | set(pending["symbol"].to_list()))
    held = dict(positions.select("symbol", "quantity").iter_rows())
    waiting = dict(pending.iter_rows())
    figure = go.Figure(
        [
            go.Bar(x=symbols, y=[held.get(name, 0.0) for name in symbols], name="position"),
            go.Bar(x=symbols, y=[waiting.get(name, 0.0) for name in symbols], name="open orders"),
        ]
    )
    figure.update_layout(
        template="plotly_white",
        barmode="group",
        title={"text": "Positions and open orders"},
        yaxis={"title": {"text": "quantity (signed)"}},
    )
    return figure
