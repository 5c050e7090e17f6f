"""The JSON forms of model values read back to equal values."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from quantstrata.model.codec import (
    fill_from_json,
    fill_to_json,
    order_from_json,
    order_to_json,
    parse_time,
    request_from_json,
    request_to_json,
)
from quantstrata.model.identifiers import ClientOrderId, TradeId
from quantstrata.model.orders import (
    Fill,
    FillEvent,
    Liquidity,
    Order,
    OrderRequest,
    OrderSide,
    OrderType,
    Submitted,
    TimeInForce,
)

_PRICE = st.floats(min_value=0.01, max_value=1e6, allow_nan=False)
_TIME = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def _requests(draw: st.DrawFn) -> OrderRequest:
    kind = draw(st.sampled_from(list(OrderType)))
    prices: dict[str, float] = {}
    if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        prices["limit_price"] = draw(_PRICE)
    if kind in (OrderType.STOP, OrderType.STOP_LIMIT):
        prices["stop_price"] = draw(_PRICE)
    if kind is OrderType.TRAILING_STOP:
        prices["trail_percent"] = draw(st.floats(min_value=0.001, max_value=0.5))
    return OrderRequest(
        draw(st.sampled_from(["SPX", "BTC/USDT", "AAPL.US"])),
        draw(st.sampled_from(list(OrderSide))),
        draw(_PRICE),
        kind,
        time_in_force=draw(st.sampled_from(list(TimeInForce))),
        reduce_only=draw(st.booleans()),
        **prices,
    )


@given(_requests())
def test_requests_round_trip(request: OrderRequest) -> None:
    assert request_from_json(request_to_json(request)) == request


@given(_requests(), _PRICE, _TIME, st.sampled_from(list(Liquidity)))
def test_orders_and_fills_round_trip(
    request: OrderRequest, price: float, ts: datetime, liquidity: Liquidity
) -> None:
    order = Order.submit(Submitted(ClientOrderId("A1"), ts, request))
    fill = Fill(
        order.order_id,
        TradeId("T1"),
        request.symbol,
        request.side,
        request.quantity / 2,
        price,
        0.5,
        ts,
        liquidity,
    )
    order = order.apply(FillEvent(fill))
    assert fill_from_json(fill_to_json(fill)) == fill
    assert order_from_json(order_to_json(order), order.trade_ids) == order


def test_naive_times_read_as_utc() -> None:
    assert parse_time("2024-01-02T03:04:05") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
