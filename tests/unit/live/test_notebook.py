"""The live order book in a notebook: open orders and positions as HTML, and its plot."""

from __future__ import annotations

from quantstrata.live.state import LiveState
from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.orders import Order, OrderRequest, OrderSide, OrderType, Submitted
from quantstrata.model.position import Position
from tests.kit.notebook_html import read_html
from tests.kit.orders import START, SYMBOL


def _state() -> LiveState:
    buy = OrderRequest(
        SYMBOL, OrderSide.BUY, 3.0, OrderType.LIMIT, limit_price=95.0, tag="<i>dip</i>"
    )
    sell = OrderRequest(
        Symbol("ETH/USDT"), OrderSide.SELL, 2.0, OrderType.LIMIT, limit_price=4000.0
    )
    orders = [
        Order.submit(Submitted(ClientOrderId("run-1"), START, buy)),
        Order.submit(Submitted(ClientOrderId("run-2"), START, sell)),
    ]
    return LiveState(
        orders={order.order_id: order for order in orders},
        positions={
            SYMBOL: Position(SYMBOL, 1.5, 100.0),
            Symbol("ETH/USDT"): Position(Symbol("ETH/USDT"), 0.0, 0.0),
        },
        cash=1234.5,
    )


def test_card_lists_open_orders_and_held_positions() -> None:
    page = read_html(_state()._repr_html_())

    orders = page.tables["open-orders"]
    header = orders[0]
    assert [row[header.index("order_id")] for row in orders[1:]] == ["run-1", "run-2"]
    assert [row[header.index("side")] for row in orders[1:]] == ["buy", "sell"]
    assert [row[header.index("limit")] for row in orders[1:]] == ["95", "4,000"]
    positions = page.tables["positions"]
    assert positions[1:] == [["BTC/USDT", "1.5", "100", "0"]]  # the flat ETH position is left out
    assert "cash 1,234.50" in "".join(page.text)


def test_order_tags_are_escaped() -> None:
    page = read_html(_state()._repr_html_())

    assert "i" not in page.tags
    assert "<i>dip</i>" in "".join(page.text)


def test_plot_puts_positions_beside_the_open_orders() -> None:
    position, pending = _state().plot().data

    assert list(position.x) == list(pending.x) == ["BTC/USDT", "ETH/USDT"]
    assert list(position.y) == [1.5, 0.0]
    assert list(pending.y) == [3.0, -2.0]
