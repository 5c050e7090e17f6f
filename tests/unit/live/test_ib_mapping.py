"""The IB connector's pure rules: order fields, statuses, error codes, bar sizes, pacing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantstrata.core.errors import ConfigError
from quantstrata.live.broker import OrderRejectedError
from quantstrata.live.brokers._ib_link import IBConfig
from quantstrata.live.brokers._ib_mapping import (
    IBMessage,
    bracket_leg_ids,
    classify_error,
    group_fields,
    order_fields,
    status_of,
)
from quantstrata.live.feeds.ib import HistoryPacer, bar_size, duration_text
from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.interval import Interval
from quantstrata.model.orders import (
    Bracket,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)

SPX = Symbol("SPX")


def test_order_fields_carry_our_id_in_order_ref() -> None:
    request = OrderRequest(
        SPX, OrderSide.SELL, 3, OrderType.STOP_LIMIT, stop_price=99.0, limit_price=98.5
    )
    fields = order_fields(ClientOrderId("c-1"), request)
    assert fields == {
        "action": "SELL",
        "totalQuantity": 3.0,
        "orderType": "STP LMT",
        "tif": "GTC",
        "orderRef": "c-1",
        "transmit": True,
        "lmtPrice": 98.5,
        "auxPrice": 99.0,
    }


def test_a_trailing_percent_is_sent_in_percent() -> None:
    request = OrderRequest(SPX, OrderSide.SELL, 1, OrderType.TRAILING_STOP, trail_percent=0.025)
    assert order_fields(ClientOrderId("t"), request)["trailingPercent"] == pytest.approx(2.5)


def test_reduce_only_is_refused_naming_the_order() -> None:
    request = OrderRequest(SPX, OrderSide.SELL, 1, reduce_only=True)
    with pytest.raises(OrderRejectedError, match="order r-1"):
        order_fields(ClientOrderId("r-1"), request)


def test_a_bracket_transmits_only_its_last_order() -> None:
    entry = OrderRequest(SPX, OrderSide.BUY, 2, time_in_force=TimeInForce.DAY)
    legs = group_fields(ClientOrderId("b"), Bracket(entry, stop_loss=90.0, take_profit=110.0))
    assert [leg_id for leg_id, _, _ in legs] == ["b", *bracket_leg_ids(ClientOrderId("b"))]
    assert [fields["transmit"] for _, _, fields in legs] == [False, False, True]
    assert [fields["action"] for _, _, fields in legs] == ["BUY", "SELL", "SELL"]


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        (1100, IBMessage.LINK_LOST),
        (1101, IBMessage.LINK_RESTORED_DATA_LOST),
        (1102, IBMessage.LINK_RESTORED),
        (2103, IBMessage.FARM_DOWN),
        (2104, IBMessage.FARM_UP),
        (201, IBMessage.OTHER),
    ],
)
def test_error_codes_are_classified(code: int, meaning: IBMessage) -> None:
    assert classify_error(code) is meaning


def test_statuses_map_onto_ours() -> None:
    assert status_of("Submitted", 0.0) is OrderStatus.PENDING
    assert status_of("Submitted", 1.0) is OrderStatus.PARTIAL
    assert status_of("Filled", 5.0) is OrderStatus.FILLED
    assert status_of("ApiCancelled", 0.0) is OrderStatus.CANCELLED
    assert status_of("Inactive", 0.0) is OrderStatus.REJECTED


def test_bad_settings_name_the_field() -> None:
    with pytest.raises(ConfigError, match=r"IBConfig\.port"):
        IBConfig(port=0)
    with pytest.raises(ConfigError, match=r"IBConfig\.client_id"):
        IBConfig(client_id=-1)


@pytest.mark.parametrize(
    ("interval", "size"),
    [("5s", "5 secs"), ("1m", "1 min"), ("15m", "15 mins"), ("1h", "1 hour"), ("1d", "1 day")],
)
def test_bar_sizes(interval: str, size: str) -> None:
    assert bar_size(Interval.parse(interval)) == size


def test_ib_has_no_two_day_bars() -> None:
    with pytest.raises(ConfigError, match="2d"):
        bar_size(Interval.parse("2d"))


@given(st.integers(min_value=1, max_value=3_000 * 86_400))
def test_a_duration_always_covers_the_span(seconds: int) -> None:
    number, unit = duration_text(timedelta(seconds=seconds)).split()
    length = {"S": 1, "D": 86_400, "Y": 365 * 86_400}[unit]
    assert int(number) * length >= seconds


def test_the_pacer_keeps_sixty_requests_in_ten_minutes_and_no_quick_repeat() -> None:
    now = [0.0]
    pacer = HistoryPacer(lambda: now[0])
    for index in range(60):
        assert pacer.wait_for(("k", index)) == 0.0
        pacer.sent(("k", index))
        now[0] += 1.0
    assert pacer.wait_for(("k", 60)) == pytest.approx(600.0 - 60.0)
    now[0] = 600.0
    assert pacer.wait_for(("k", 60)) == 0.0
    pacer.sent(("same",))
    assert pacer.wait_for(("same",)) == pytest.approx(15.0)
