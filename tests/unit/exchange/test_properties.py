"""Random order streams keep the exchange's books consistent with its own event log."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.exchange import ExchangeConfig, Prices, SimulatedExchange
from quantstrata.execution import FillConfig
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import (
    Bracket,
    FillEvent,
    OneCancelsOther,
    Order,
    OrderRequest,
    OrderSide,
    OrderType,
    Submitted,
    TimeInForce,
)
from quantstrata.model.position import Position

SYMBOLS = ("AAA", "BBB")
T0 = datetime(2024, 11, 26, 14, 30, tzinfo=UTC)

_quantity = st.floats(0.5, 30.0)
_price = st.floats(80.0, 120.0)


@st.composite
def _request(draw: st.DrawFn) -> OrderRequest:
    symbol = draw(st.sampled_from(SYMBOLS))
    side = draw(st.sampled_from(OrderSide))
    kind = draw(st.sampled_from([OrderType.MARKET, OrderType.LIMIT, OrderType.STOP]))
    prices: dict[str, float] = {}
    if kind is OrderType.LIMIT:
        prices["limit_price"] = draw(_price)
    elif kind is OrderType.STOP:
        prices["stop_price"] = draw(_price)
    return OrderRequest(
        symbol,  # type: ignore[arg-type]
        side,
        draw(_quantity),
        kind,
        time_in_force=draw(st.sampled_from(TimeInForce)),
        reduce_only=draw(st.booleans()),
        **prices,
    )


@st.composite
def _group(draw: st.DrawFn) -> OrderRequest | Bracket | OneCancelsOther:
    kind = draw(st.sampled_from(["single", "bracket", "oco"]))
    if kind == "bracket":
        side = draw(st.sampled_from(OrderSide))
        entry = OrderRequest(draw(st.sampled_from(SYMBOLS)), side, draw(_quantity))  # type: ignore[arg-type]
        low, high = 90.0, 110.0
        return Bracket(entry, *((low, high) if side is OrderSide.BUY else (high, low)))
    first = draw(_request())
    if kind == "oco":
        second = draw(_request())
        return OneCancelsOther(first, OrderRequest(first.symbol, second.side, second.quantity))
    return first


@st.composite
def _bar(draw: st.DrawFn) -> Prices:
    open_, close = draw(_price), draw(_price)
    high = max(open_, close) + draw(st.floats(0.0, 5.0))
    low = min(open_, close) - draw(st.floats(0.0, 5.0))
    return Prices(open_, high, low, close, draw(st.floats(0.0, 500.0)))


_action = st.one_of(
    st.tuples(st.just("submit"), _group()),
    st.tuples(st.just("cancel"), st.integers(0, 40)),
    st.tuples(st.just("bar"), st.tuples(st.sampled_from(SYMBOLS), _bar())),
)


def _drive(exchange: SimulatedExchange, actions: list[tuple[str, object]]) -> None:
    now = T0
    for kind, payload in actions:
        now += timedelta(minutes=7)
        if kind == "submit":
            request = payload
            assert isinstance(request, OrderRequest | Bracket | OneCancelsOther)
            exchange.submit(exchange.new_order_id(), request, now)
        elif kind == "cancel":
            exchange.cancel(ClientOrderId(f"E{payload}"), now)
        else:
            symbol, prices = payload  # type: ignore[misc]
            exchange.on_bar(symbol, now, prices)
            exchange.account.marks[SYMBOLS.index(symbol)] = prices.close


def _check_log(exchange: SimulatedExchange) -> None:
    """Replay the log: every status through the transition table, no fill on a done order."""
    replayed: dict[str, Order] = {}
    for event in exchange.events:
        if isinstance(event, Submitted):
            assert event.order_id not in replayed
            replayed[event.order_id] = Order.submit(event)
            continue
        order = replayed[event.order_id]
        if isinstance(event, FillEvent):
            assert not order.is_terminal, f"fill on {order.status} order {order.order_id}"
        replayed[event.order_id] = order.apply(event)
    assert replayed == exchange.orders
    for order in exchange.orders.values():
        assert order.filled_quantity <= order.quantity * (1 + 1e-9)


def _check_account(exchange: SimulatedExchange, cash: float, allow_short: bool) -> None:
    """Cash and positions are what the fills say."""
    positions = {symbol: Position.flat(symbol) for symbol in SYMBOLS}
    for fill in exchange.fills:
        positions[fill.symbol] = positions[fill.symbol].apply(fill)
        cash -= fill.signed_quantity * fill.price + fill.commission
    assert math.isclose(exchange.cash, cash, rel_tol=1e-9, abs_tol=1e-6)
    for column, symbol in enumerate(SYMBOLS):
        assert exchange.position(symbol) == positions[symbol]
        assert exchange.account.quantities[column] == positions[symbol].quantity
        if not allow_short:
            assert positions[symbol].quantity >= -1e-9
    fill_events = [event.fill for event in exchange.events if isinstance(event, FillEvent)]
    assert fill_events == exchange.fills


@settings(max_examples=60, deadline=None)
@given(
    actions=st.lists(_action, max_size=40),
    allow_short=st.booleans(),
    max_leverage=st.sampled_from([0.5, 1.0, 3.0]),
    volume_cap=st.sampled_from([None, 0.2]),
)
def test_random_order_streams_keep_books_consistent_with_the_log(
    actions: list[tuple[str, object]],
    allow_short: bool,
    max_leverage: float,
    volume_cap: float | None,
) -> None:
    config = ExchangeConfig(
        cash=10_000.0,
        allow_short=allow_short,
        max_leverage=max_leverage,
        fill=FillConfig(volume_cap=volume_cap),
        calendar="XNYS",
        bar_length=timedelta(minutes=7),
    )
    exchange = SimulatedExchange(config, SYMBOLS)
    _drive(exchange, actions)
    _check_log(exchange)
    _check_account(exchange, 10_000.0, allow_short)
