"""The simulated exchange's order rules: time in force, reduce-only, no-short, leverage, groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from quantstrata.exchange import ExchangeConfig, Prices, SimulatedExchange
from quantstrata.execution import FillConfig
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import (
    Accepted,
    Bracket,
    Cancelled,
    CancelRequested,
    FillEvent,
    OneCancelsOther,
    OrderRequest,
    OrderStatus,
    Rejected,
    Submitted,
    TimeInForce,
)

T0 = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
STEP = timedelta(minutes=1)


def _bar(
    open_: float = 100.0, high: float = 101.0, low: float = 99.0, volume: float = 1e6
) -> Prices:
    return Prices(open_, high, low, open_, volume)


class Run:
    """An exchange listing AAA and BBB, driven one minute bar at a time."""

    def __init__(self, **settings: Any) -> None:
        self.exchange = SimulatedExchange(ExchangeConfig(**settings), ["AAA", "BBB"])
        self.now = T0

    def submit(self, request: OrderRequest | Bracket | OneCancelsOther) -> ClientOrderId:
        order_id = self.exchange.new_order_id()
        self.exchange.submit(order_id, request, self.now)
        return order_id

    def bar(self, prices: Prices, symbol: str = "AAA") -> list[Any]:
        self.now += STEP
        return self.exchange.on_bar(symbol, self.now, prices)

    def status(self, order_id: str) -> OrderStatus:
        return self.exchange.orders[order_id].status  # type: ignore[index]

    def filled(self, order_id: str) -> float:
        return self.exchange.orders[order_id].filled_quantity  # type: ignore[index]

    def held(self, symbol: str = "AAA") -> float:
        return self.exchange.position(symbol).quantity


def test_a_market_order_fills_at_the_next_bars_open_and_moves_cash_and_position() -> None:
    run = Run(cash=10_000.0)
    order_id = run.submit(OrderRequest.market("AAA", 10.0))
    events = run.bar(_bar(open_=100.0))
    assert [type(event) for event in events] == [FillEvent]
    assert run.status(order_id) is OrderStatus.FILLED
    assert run.held() == 10.0
    assert run.exchange.cash == pytest.approx(9_000.0)
    assert run.exchange.account.quantities.tolist() == [10.0, 0.0]


def test_submit_returns_its_events_and_the_log_keeps_every_event_in_order() -> None:
    run = Run()
    events = run.exchange.submit(ClientOrderId("A1"), OrderRequest.market("AAA", 1.0), T0)
    assert [type(event) for event in events] == [Submitted, Accepted]
    run.bar(_bar())
    assert [type(event) for event in run.exchange.events] == [Submitted, Accepted, FillEvent]


def test_an_unknown_symbol_is_rejected_with_a_reason_naming_it() -> None:
    run = Run()
    order_id = run.submit(OrderRequest.market("ZZZ", 1.0))
    assert run.status(order_id) is OrderStatus.REJECTED
    rejection = run.exchange.events[-1]
    assert isinstance(rejection, Rejected)
    assert "'ZZZ'" in rejection.reason
    assert "AAA, BBB" in rejection.reason


def test_ioc_fills_what_the_first_bar_gives_and_cancels_the_rest() -> None:
    run = Run(fill=FillConfig(volume_cap=0.1))
    order_id = run.submit(OrderRequest.market("AAA", 50.0, time_in_force=TimeInForce.IOC))
    run.bar(_bar(volume=100.0))
    assert run.status(order_id) is OrderStatus.CANCELLED
    assert run.filled(order_id) == 10.0
    assert run.held() == 10.0


def test_ioc_that_cannot_fill_is_cancelled_at_once() -> None:
    run = Run()
    order_id = run.submit(OrderRequest.limit("AAA", 5.0, 90.0, time_in_force=TimeInForce.IOC))
    run.bar(_bar())
    assert run.status(order_id) is OrderStatus.CANCELLED
    assert run.exchange.fills == []


def test_fok_fills_entirely_on_its_first_bar() -> None:
    run = Run()
    order_id = run.submit(OrderRequest.market("AAA", 50.0, time_in_force=TimeInForce.FOK))
    run.bar(_bar())
    assert run.status(order_id) is OrderStatus.FILLED
    assert run.held() == 50.0


@pytest.mark.parametrize(
    ("request_", "prices"),
    [
        (OrderRequest.market("AAA", 50.0, time_in_force=TimeInForce.FOK), _bar(volume=100.0)),
        (OrderRequest.limit("AAA", 5.0, 90.0, time_in_force=TimeInForce.FOK), _bar()),
    ],
    ids=["partial-by-volume", "limit-not-reached"],
)
def test_fok_that_cannot_fill_entirely_is_cancelled_without_any_fill(
    request_: OrderRequest, prices: Prices
) -> None:
    run = Run(fill=FillConfig(volume_cap=0.1))
    order_id = run.submit(request_)
    run.bar(prices)
    assert run.status(order_id) is OrderStatus.CANCELLED
    assert run.filled(order_id) == 0.0
    assert run.exchange.fills == []
    assert run.held() == 0.0


def test_reduce_only_never_goes_beyond_the_position() -> None:
    run = Run()
    run.submit(OrderRequest.market("AAA", 10.0))
    run.bar(_bar())
    sell = run.submit(OrderRequest.market("AAA", -15.0, reduce_only=True))
    add = run.submit(OrderRequest.market("AAA", 5.0, reduce_only=True))
    run.bar(_bar())
    assert (run.filled(sell), run.status(sell)) == (10.0, OrderStatus.CANCELLED)
    assert (run.filled(add), run.status(add)) == (0.0, OrderStatus.CANCELLED)
    assert run.held() == 0.0


def test_without_shorting_a_sell_stops_at_flat() -> None:
    run = Run(allow_short=False)
    run.submit(OrderRequest.market("AAA", 3.0))
    run.bar(_bar())
    sell = run.submit(OrderRequest.market("AAA", -5.0))
    run.bar(_bar())
    assert (run.filled(sell), run.held()) == (3.0, 0.0)
    short = run.submit(OrderRequest.market("AAA", -1.0))
    run.bar(_bar())
    assert run.status(short) is OrderStatus.CANCELLED
    cancel = run.exchange.events[-1]
    assert isinstance(cancel, Cancelled)
    assert cancel.reason == "nothing to reduce or no shorting"


def test_a_fill_beyond_max_leverage_is_cut_to_the_cap_and_noted() -> None:
    run = Run(cash=1_000.0, max_leverage=1.0)
    order_id = run.submit(OrderRequest.market("AAA", 20.0))
    run.bar(_bar(open_=100.0))
    assert (run.filled(order_id), run.status(order_id)) == (10.0, OrderStatus.CANCELLED)
    assert run.exchange.notes[order_id] == "leverage cap reduced 20 to 10"  # type: ignore[index]
    blocked = run.submit(OrderRequest.market("AAA", 1.0))
    run.bar(_bar(open_=100.0))
    assert run.status(blocked) is OrderStatus.CANCELLED
    assert run.exchange.notes[blocked] == "leverage cap: no room at max_leverage 1"  # type: ignore[index]
    out = run.submit(OrderRequest.market("AAA", -10.0))
    run.bar(_bar(open_=100.0))
    assert run.status(out) is OrderStatus.FILLED


def test_a_bracket_exits_at_the_take_profit_and_cancels_the_stop() -> None:
    run = Run()
    entry = run.submit(Bracket(OrderRequest.market("AAA", 10.0), stop_loss=95.0, take_profit=110.0))
    run.bar(_bar(open_=100.0))
    assert run.status(entry) is OrderStatus.FILLED
    stop, take = (order.order_id for order in run.exchange.open_orders("AAA"))
    assert run.exchange.orders[stop].request.stop_price == 95.0
    run.bar(_bar(open_=105.0, high=111.0, low=104.0))
    assert (run.status(take), run.status(stop)) == (OrderStatus.FILLED, OrderStatus.CANCELLED)
    assert run.exchange.fills[-1].price == 110.0
    assert run.held() == 0.0
    assert run.exchange.open_orders() == []


def test_one_cancels_other_cancels_the_second_when_the_first_fills() -> None:
    run = Run()
    first = run.submit(
        OneCancelsOther(
            OrderRequest.limit("AAA", 10.0, 95.0), OrderRequest.stop("AAA", 10.0, 105.0)
        )
    )
    (second,) = (order for order in run.exchange.open_orders() if order.order_id != first)
    events = run.bar(_bar(open_=97.0, high=98.0, low=94.0))
    assert [type(event) for event in events] == [FillEvent, CancelRequested, Cancelled]
    assert run.status(first) is OrderStatus.FILLED
    assert run.status(second.order_id) is OrderStatus.CANCELLED


def test_cancel_ends_a_working_order_and_ignores_one_that_is_done() -> None:
    run = Run()
    order_id = run.submit(OrderRequest.limit("AAA", 10.0, 90.0))
    events = run.exchange.cancel(order_id, run.now)
    assert [type(event) for event in events] == [CancelRequested, Cancelled]
    assert run.exchange.cancel(order_id, run.now) == []
    assert run.bar(_bar(low=80.0)) == []


def test_orders_of_one_symbol_do_not_step_on_another_symbols_bar() -> None:
    run = Run()
    order_id = run.submit(OrderRequest.market("BBB", 1.0))
    run.bar(_bar(), symbol="AAA")
    assert run.status(order_id) is OrderStatus.PENDING
    run.bar(_bar(), symbol="BBB")
    assert run.held("BBB") == 1.0


def test_linked_exits_step_as_the_bracket_submitted_whole() -> None:
    whole, linked = Run(), Run()
    bracket = Bracket(OrderRequest.market("AAA", 5), stop_loss=95.0, take_profit=105.0)
    whole.submit(bracket)
    whole.bar(_bar())
    linked.submit(OrderRequest.market("AAA", 5))
    linked.bar(_bar())
    stop = linked.submit(OrderRequest.stop("AAA", -5, 95.0, reduce_only=True))
    take = linked.submit(OrderRequest.limit("AAA", -5, 105.0, reduce_only=True))
    assert linked.exchange.link(stop, take, bracket=True)
    assert linked.exchange.links() == [(stop, take, True)]
    wide = _bar(106.0, 110.0, 90.0)  # opens beyond the take-profit, touches the stop too
    fills = [
        [(e.fill.side, e.fill.price) for e in run.bar(wide) if isinstance(e, FillEvent)]
        for run in (whole, linked)
    ]
    assert fills[0] == fills[1] == [(-1, 106.0)]
    assert linked.status(stop) is OrderStatus.CANCELLED
    assert linked.exchange.links() == []


def test_orders_that_are_no_bracket_exits_or_not_working_alone_are_not_linked() -> None:
    run = Run()
    one = run.submit(OrderRequest.limit("AAA", -5, 105.0))
    other = run.submit(OrderRequest.limit("AAA", -5, 106.0))
    third = run.submit(OrderRequest.limit("AAA", 5, 90.0))
    assert not run.exchange.link(one, other, bracket=True)  # two limits: no stop-loss
    assert run.exchange.link(one, other)
    assert not run.exchange.link(one, third)  # linked already
    assert not run.exchange.link(third, ClientOrderId("nothing"))
    assert run.exchange.links() == [(one, other, False)]
    assert [entry[0] for entry in run.exchange.working_entries()] == [one, other, third]


def test_an_order_filled_within_the_tolerance_stops_working() -> None:
    # Found by Hypothesis (test_signal_accounting_holds_for_random_target_grids): a capped order
    # of 250.00000000000006 fills 50 a bar; after the fifth the order is FILLED (within
    # QUANTITY_TOLERANCE) and no dust of 5.7e-14 may work on to fill again on the next bar.
    run = Run(cash=1e6, fill=FillConfig(volume_cap=0.05))
    order_id = run.submit(OrderRequest.market("AAA", 250.00000000000006))
    for _ in range(6):
        run.bar(_bar(volume=1_000.0))
    assert run.status(order_id) is OrderStatus.FILLED
    assert not run.exchange.has_working
    assert [fill.quantity for fill in run.exchange.fills] == [50.0] * 5
