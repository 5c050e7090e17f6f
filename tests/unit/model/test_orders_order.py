from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.model.identifiers import VenueOrderId
from quantstrata.model.orders.enums import OrderSide, OrderStatus
from quantstrata.model.orders.events import (
    NOT_FOUND_AT_VENUE,
    Accepted,
    Cancelled,
    CancelRejected,
    CancelRequested,
    Expired,
    FillEvent,
    OrderEvent,
    OrderEventKind,
    Rejected,
    Resolved,
    Submitted,
    TimedOut,
)
from quantstrata.model.orders.order import EventOutcome, Order, OrderUpdate, OverfillError
from quantstrata.model.orders.request import InvalidOrderError
from quantstrata.model.orders.transitions import InvalidTransitionError, OrderStateError
from tests.kit.orders import (
    EXPECTED_TRANSITIONS,
    IGNORED_MARK,
    ILLEGAL_MARK,
    ORDER_ID,
    START,
    at,
    make_fill,
    make_request,
    submitted_order,
)

VENUE_ID = VenueOrderId("V-1")


def _accepted(seconds: float = 0.5) -> Accepted:
    return Accepted(ORDER_ID, at(seconds), VENUE_ID)


def _fill(trade: str, quantity: float, price: float = 100.0, seconds: float = 1.0) -> FillEvent:
    return FillEvent(make_fill(trade, quantity, price, seconds=seconds))


def _working(quantity: float = 10.0) -> Order:
    return submitted_order(quantity).apply(_accepted())


def test_submission_starts_in_sending():
    order = submitted_order()
    assert order.status is OrderStatus.SENDING
    assert (order.filled_quantity, order.average_fill_price, order.trade_ids) == (0, 0, set())
    assert order.created_at == order.updated_at == START


def test_fill_before_ack_moves_straight_to_partial_and_the_late_ack_keeps_it():
    order = submitted_order().apply(_fill("t1", 4.0))
    assert order.status is OrderStatus.PARTIAL
    late = order.apply_with_outcome(_accepted(seconds=2.0))
    assert late.outcome is EventOutcome.APPLIED
    assert late.order.status is OrderStatus.PARTIAL
    assert late.order.venue_order_id == VENUE_ID
    assert late.order.filled_quantity == 4.0


def test_complete_fill_before_ack_then_late_ack_is_ignored_and_unchanged():
    order = submitted_order().apply(_fill("t1", 10.0))
    assert order.status is OrderStatus.FILLED
    update = order.apply_with_outcome(_accepted(seconds=2.0))
    assert update == OrderUpdate(order, EventOutcome.IGNORED)
    assert update.order is order


@pytest.mark.parametrize("status_events", ["working", "filled", "cancelled"])
def test_repeated_trade_id_returns_the_same_order(status_events: str):
    order = _working().apply(_fill("t1", 4.0, 101.0))
    if status_events == "filled":
        order = order.apply(_fill("t2", 6.0, 99.0))
    elif status_events == "cancelled":
        order = order.apply(Cancelled(ORDER_ID, at(3)))
    again = order.apply_with_outcome(_fill("t1", 4.0, 101.0))
    assert again.outcome is EventOutcome.DUPLICATE
    assert again.order is order


def test_quantities_follow_distinct_fills():
    order = _working()
    for trade, quantity, price in [("a", 2.0, 100.0), ("b", 3.0, 110.0), ("a", 2.0, 100.0)]:
        order = order.apply(_fill(trade, quantity, price))
    assert order.filled_quantity == 5.0
    assert order.average_fill_price == pytest.approx((2 * 100 + 3 * 110) / 5, rel=1e-12)
    assert order.trade_ids == {"a", "b"}
    assert order.remaining_quantity == 5.0


def test_fills_that_add_up_within_float_error_complete_the_order_exactly():
    order = submitted_order(quantity=0.3).apply(_fill("a", 0.1)).apply(_fill("b", 0.2))
    assert 0.1 + 0.2 != 0.3
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == 0.3
    assert order.remaining_quantity == 0.0


def test_overfill_is_a_typed_error_and_leaves_the_order_alone():
    order = _working().apply(_fill("t1", 8.0))
    with pytest.raises(OverfillError) as raised:
        order.apply(_fill("t2", 3.0))
    assert raised.value.filled == 11.0
    assert raised.value.quantity == 10.0
    assert order.filled_quantity == 8.0
    filled = order.apply(_fill("t2", 2.0))
    with pytest.raises(InvalidTransitionError):
        filled.apply(_fill("t3", 1.0))


def test_cancel_racing_a_partial_fill_stays_pending_cancel_with_the_quantity_updated():
    order = _working().apply(CancelRequested(ORDER_ID, at(1))).apply(_fill("t1", 3.0, seconds=2))
    assert order.status is OrderStatus.PENDING_CANCEL
    assert order.filled_quantity == 3.0
    assert order.apply(Cancelled(ORDER_ID, at(3))).status is OrderStatus.CANCELLED


def test_cancel_racing_the_fill_of_the_rest_ends_filled_and_the_late_cancel_is_ignored():
    order = _working().apply(_fill("t1", 3.0)).apply(CancelRequested(ORDER_ID, at(2)))
    order = order.apply(_fill("t2", 7.0, seconds=3))
    assert order.status is OrderStatus.FILLED
    for late in (
        Cancelled(ORDER_ID, at(4)),
        CancelRejected(ORDER_ID, at(4), "order already filled"),
        CancelRequested(ORDER_ID, at(5)),
        Expired(ORDER_ID, at(6)),
    ):
        assert order.apply_with_outcome(late) == OrderUpdate(order, EventOutcome.IGNORED)


@pytest.mark.parametrize(("filled", "expected"), [(0.0, "pending"), (4.0, "partial")])
def test_a_rejected_cancel_returns_the_order_to_work(filled: float, expected: str):
    order = _working()
    if filled:
        order = order.apply(_fill("t1", filled))
    order = order.apply(CancelRequested(ORDER_ID, at(2)))
    order = order.apply(CancelRejected(ORDER_ID, at(3), "too late to cancel"))
    assert order.status == expected
    assert order.reason == "too late to cancel"


def test_a_late_fill_on_a_cancelled_order_is_booked_and_the_status_stays():
    order = _working().apply(_fill("t1", 2.0)).apply(Cancelled(ORDER_ID, at(2), "user"))
    order = order.apply(_fill("t2", 8.0, 90.0, seconds=1.5))
    assert order.status is OrderStatus.CANCELLED
    assert order.filled_quantity == 10.0
    assert order.average_fill_price == pytest.approx((2 * 100 + 8 * 90) / 10)


def test_timeout_means_unknown_and_not_found_resolves_to_rejected_with_the_reason():
    order = submitted_order().apply(TimedOut(ORDER_ID, at(5), "no answer within 5 s"))
    assert order.status is OrderStatus.UNKNOWN
    resolved = order.apply(Resolved.not_found(ORDER_ID, at(6)))
    assert resolved.status is OrderStatus.REJECTED
    assert resolved.reason == NOT_FOUND_AT_VENUE
    with pytest.raises(InvalidTransitionError):
        resolved.apply(_accepted(seconds=7))
    with pytest.raises(InvalidTransitionError):
        resolved.apply(_fill("t1", 1.0))


@pytest.mark.parametrize(
    ("venue_status", "fills", "expected", "filled"),
    [
        (OrderStatus.PENDING, (), OrderStatus.PENDING, 0.0),
        (OrderStatus.PARTIAL, (("a", 4.0),), OrderStatus.PARTIAL, 4.0),
        (OrderStatus.FILLED, (("a", 4.0), ("b", 6.0)), OrderStatus.FILLED, 10.0),
        (OrderStatus.CANCELLED, (("a", 4.0),), OrderStatus.CANCELLED, 4.0),
        (OrderStatus.EXPIRED, (), OrderStatus.EXPIRED, 0.0),
        (OrderStatus.REJECTED, (), OrderStatus.REJECTED, 0.0),
        (OrderStatus.PENDING_CANCEL, (("a", 1.0),), OrderStatus.PARTIAL, 1.0),
    ],
)
def test_found_resolution_takes_the_venue_status_and_fills(
    venue_status: OrderStatus,
    fills: tuple[tuple[str, float], ...],
    expected: OrderStatus,
    filled: float,
):
    unknown = submitted_order().apply(TimedOut(ORDER_ID, at(5), "disconnected"))
    answer = Resolved(
        ORDER_ID,
        at(6),
        venue_status,
        VENUE_ID,
        tuple(make_fill(trade, quantity) for trade, quantity in fills),
    )
    order = unknown.apply(answer)
    assert order.status is expected
    assert order.filled_quantity == filled
    assert order.venue_order_id == VENUE_ID


def test_found_filled_without_the_fills_to_match_is_an_error():
    unknown = submitted_order().apply(TimedOut(ORDER_ID, at(5), "disconnected"))
    answer = Resolved(ORDER_ID, at(6), OrderStatus.FILLED, VENUE_ID, (make_fill("a", 4.0),))
    with pytest.raises(OrderStateError, match=r"FILLED|filled"):
        unknown.apply(answer)


def test_a_stale_query_answer_after_the_venue_spoke_is_ignored():
    unknown = submitted_order().apply(TimedOut(ORDER_ID, at(5), "disconnected"))
    working = unknown.apply(_accepted(seconds=6))
    update = working.apply_with_outcome(Resolved.not_found(ORDER_ID, at(7)))
    assert update == OrderUpdate(working, EventOutcome.IGNORED)


def test_a_resolution_needs_a_timeout_first():
    with pytest.raises(InvalidTransitionError):
        submitted_order().apply(Resolved.not_found(ORDER_ID, at(1)))


def test_cancel_of_an_order_the_venue_has_not_acknowledged_is_illegal():
    with pytest.raises(InvalidTransitionError):
        submitted_order().apply(CancelRequested(ORDER_ID, at(1)))


def test_rejecting_a_partly_filled_order_is_illegal_even_while_a_cancel_is_pending():
    pending_cancel = _working().apply(_fill("t1", 2.0)).apply(CancelRequested(ORDER_ID, at(2)))
    with pytest.raises(InvalidTransitionError, match="filled"):
        pending_cancel.apply(Rejected(ORDER_ID, at(3), "margin"))
    nothing_filled = _working().apply(CancelRequested(ORDER_ID, at(2)))
    assert nothing_filled.apply(Rejected(ORDER_ID, at(3), "x")).status is OrderStatus.REJECTED


def test_events_that_do_not_belong_to_the_order_are_refused():
    order = _working()
    with pytest.raises(OrderStateError, match="order-2"):
        order.apply(Cancelled("order-2", at(1)))  # type: ignore[arg-type]
    with pytest.raises(OrderStateError, match="does not match"):
        order.apply(FillEvent(make_fill("t1", 1.0, side=OrderSide.SELL)))
    with pytest.raises(OrderStateError, match="venue order id"):
        order.apply(FillEvent(make_fill("t1", 1.0, venue_order_id="V-2")))


def test_replaying_the_journal_gives_the_same_order():
    events: list[OrderEvent] = [
        Submitted(ORDER_ID, START, make_request()),
        _fill("t1", 2.0),
        _accepted(seconds=2),
        _fill("t1", 2.0),
        CancelRequested(ORDER_ID, at(3)),
        _fill("t2", 8.0, 95.0, seconds=4),
    ]
    folded = Order.submit(events[0])  # type: ignore[arg-type]
    for event in events[1:]:
        folded = folded.apply(event)
    assert Order.replay(events) == folded
    assert folded.status is OrderStatus.FILLED
    assert folded.updated_at == at(4)
    with pytest.raises(InvalidOrderError):
        Order.replay(events[1:])
    with pytest.raises(InvalidTransitionError, match="submitted"):
        folded.apply(events[0])


@pytest.mark.parametrize(
    ("status", "filled"),
    [
        (OrderStatus.FILLED, 5.0),
        (OrderStatus.PARTIAL, 0.0),
        (OrderStatus.PENDING, 5.0),
        (OrderStatus.REJECTED, 1.0),
        (OrderStatus.PENDING_CANCEL, 10.0),
    ],
)
def test_orders_no_event_sequence_can_produce_are_refused(status: OrderStatus, filled: float):
    with pytest.raises(InvalidOrderError, match="filled_quantity"):
        Order(
            ORDER_ID,
            make_request(),
            status,
            START,
            START,
            filled,
            100.0 if filled else 0.0,
            trade_ids=frozenset({"t"}) if filled else frozenset(),  # type: ignore[arg-type]
        )


# ------------------------------------------------------------------- random event sequences

_QUANTITY = 10.0
_TRADES = {f"t{index}": quantity for index, quantity in enumerate([1.5, 2.5, 1.0, 3.0, 2.0])}
_PRICES = {trade: 100.0 + 3.0 * index for index, trade in enumerate(_TRADES)}


def _event_strategy(trades: dict[str, float]) -> st.SearchStrategy[OrderEvent]:
    fills = [
        FillEvent(make_fill(trade, quantity, _PRICES.get(trade, 100.0), seconds=3))
        for trade, quantity in trades.items()
    ]
    others: list[OrderEvent] = [
        _accepted(),
        Rejected(ORDER_ID, at(2), "venue says no"),
        CancelRequested(ORDER_ID, at(2)),
        CancelRejected(ORDER_ID, at(2), "too late"),
        Cancelled(ORDER_ID, at(2)),
        Expired(ORDER_ID, at(2)),
        TimedOut(ORDER_ID, at(2), "disconnected"),
        Resolved.not_found(ORDER_ID, at(2)),
        Resolved(ORDER_ID, at(2), OrderStatus.PENDING, VENUE_ID),
    ]
    # fills are weighted up so that sequences often reach PARTIAL and FILLED
    return st.sampled_from(fills * 3 + others)


def _kind(event: OrderEvent, before: Order) -> OrderEventKind:
    if isinstance(event, FillEvent):
        complete = math.isclose(before.filled_quantity + event.fill.quantity, before.quantity)
        return OrderEventKind.FILL if complete else OrderEventKind.PARTIAL_FILL
    return event.kind


def _check_step(before: Order, event: OrderEvent, after: Order, applied: set[str]) -> None:
    if before.is_terminal:
        assert after.status is before.status
    assert 0 <= after.filled_quantity <= after.quantity
    distinct = [make_fill(trade, _TRADES[trade], _PRICES[trade]) for trade in applied]
    assert set(after.trade_ids) == applied
    assert after.filled_quantity == pytest.approx(math.fsum(f.quantity for f in distinct))
    if distinct:
        weighted = math.fsum(f.quantity * f.price for f in distinct) / math.fsum(
            f.quantity for f in distinct
        )
        assert after.average_fill_price == pytest.approx(weighted, rel=1e-12)
    if isinstance(event, FillEvent | Resolved):
        return
    expected = EXPECTED_TRANSITIONS[(before.status, _kind(event, before))]
    if expected == IGNORED_MARK:
        assert after is before
    else:
        assert expected != ILLEGAL_MARK
        partial = expected is OrderStatus.PENDING and before.filled_quantity > 0
        assert after.status is (OrderStatus.PARTIAL if partial else expected)


@settings(max_examples=100, deadline=None)
@given(events=st.lists(_event_strategy(_TRADES), max_size=14))
def test_random_sequences_keep_the_order_consistent(events: list[OrderEvent]):
    order = submitted_order(_QUANTITY)
    applied: set[str] = set()
    for event in events:
        try:
            after = order.apply(event)
        except InvalidTransitionError:
            expected = None
            if not isinstance(event, FillEvent | Resolved):
                expected = EXPECTED_TRANSITIONS[(order.status, _kind(event, order))]
            assert expected in (None, ILLEGAL_MARK) or isinstance(event, Rejected)
            if isinstance(event, FillEvent):
                assert order.status in (OrderStatus.FILLED, OrderStatus.REJECTED)
            continue
        if isinstance(event, FillEvent):
            applied.add(event.fill.trade_id)
        _check_step(order, event, after, applied)
        order = after


_OVERSIZED = {"o1": 4.0, "o2": 5.0, "o3": 3.0, "o4": 2.5}


@settings(max_examples=100, deadline=None)
@given(events=st.lists(_event_strategy(_OVERSIZED), max_size=12))
def test_fills_beyond_the_quantity_are_refused_never_booked(events: list[OrderEvent]):
    order = submitted_order(_QUANTITY)
    seen: set[str] = set()
    for event in events:
        would_overfill = (
            isinstance(event, FillEvent)
            and event.fill.trade_id not in seen
            and order.filled_quantity + event.fill.quantity > _QUANTITY
        )
        try:
            order = order.apply(event)
        except OverfillError:
            assert would_overfill
            continue
        except InvalidTransitionError:
            continue
        assert not would_overfill
        if isinstance(event, FillEvent):
            seen.add(event.fill.trade_id)
        assert order.filled_quantity == pytest.approx(math.fsum(_OVERSIZED[t] for t in seen))
        assert order.filled_quantity <= _QUANTITY
