"""The venue's book without sockets: matching, expiry, caps, cancels, idempotence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quantstrata.model.bar import Bar
from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.orders import (
    Accepted,
    Cancelled,
    CancelRejected,
    Expired,
    FillEvent,
    OrderRequest,
    OrderStatus,
    Rejected,
    TimeInForce,
)
from quantstrata.venue import VenueBook, VenueConfig
from quantstrata.venue._store import VenueStore

_START = datetime(2024, 1, 2, tzinfo=UTC)
_SPX = Symbol("SPX")


def _bar(day: int, open_: float, high: float, low: float, close: float) -> dict[Symbol, Bar]:
    return {_SPX: Bar(_START + timedelta(days=day), _SPX, open_, high, low, close, 1_000.0)}


def _book(**settings: object) -> VenueBook:
    book = VenueBook(VenueConfig(**settings), ["SPX"])  # type: ignore[arg-type]
    book.on_bars(_bar(0, 100, 101, 99, 100))
    return book


def test_market_order_fills_at_the_next_open_and_moves_cash() -> None:
    book = _book()
    outcome = book.submit(ClientOrderId("A"), OrderRequest.market("SPX", 2), _START)
    events = book.on_bars(_bar(1, 105, 106, 104, 105))
    assert isinstance(outcome.events[0], Accepted)
    assert [type(event) for event in events] == [FillEvent]
    assert events[0].fill.price == 105  # type: ignore[union-attr]
    assert book.cash == pytest.approx(100_000 - 210)
    assert book.position("SPX").quantity == 2
    assert book.orders[ClientOrderId("A")].status is OrderStatus.FILLED


def test_resubmitting_an_id_changes_nothing() -> None:
    book = _book()
    first = book.submit(ClientOrderId("A"), OrderRequest.market("SPX", 2), _START)
    again = book.submit(ClientOrderId("A"), OrderRequest.market("SPX", 9), _START)
    assert not again.created
    assert again.order == first.order
    assert again.events == ()
    assert len(book.exchange.working_entries()) == 1


def test_unknown_symbol_and_injected_rejections_are_recorded() -> None:
    book = _book()
    unknown = book.submit(ClientOrderId("U"), OrderRequest.market("XYZ", 1), _START)
    faulted = book.submit(ClientOrderId("F"), OrderRequest.market("SPX", 1), _START, reject="no")
    assert isinstance(unknown.events[0], Rejected)
    assert "XYZ" in unknown.order.reason
    assert faulted.order.status is OrderStatus.REJECTED
    assert book.exchange.working_entries() == []


def test_day_order_expires_at_the_next_session() -> None:
    book = _book()
    request = OrderRequest.limit("SPX", 1, 50.0, time_in_force=TimeInForce.DAY)
    book.submit(ClientOrderId("D"), request, _START)
    events = book.on_bars(_bar(1, 100, 101, 99, 100))
    assert [type(event) for event in events] == [Expired]


def test_reduce_only_is_capped_at_the_position_and_the_rest_cancelled() -> None:
    book = _book()
    book.submit(ClientOrderId("B"), OrderRequest.market("SPX", 3), _START)
    book.on_bars(_bar(1, 100, 101, 99, 100))
    book.submit(ClientOrderId("S"), OrderRequest.market("SPX", -10, reduce_only=True), _START)
    events = book.on_bars(_bar(2, 100, 101, 99, 100))
    assert [type(event) for event in events] == [FillEvent, Cancelled]
    assert book.position("SPX").quantity == 0


def test_cancel_and_cancel_race() -> None:
    book = _book()
    book.submit(ClientOrderId("L"), OrderRequest.limit("SPX", 1, 50.0), _START)
    book.submit(ClientOrderId("R"), OrderRequest.limit("SPX", 1, 50.0), _START)
    cancelled = book.cancel(ClientOrderId("L"), _START)
    again = book.cancel(ClientOrderId("L"), _START)
    raced = book.cancel(ClientOrderId("R"), _START, race=True)
    assert cancelled.cancelled
    assert cancelled.order.status is OrderStatus.CANCELLED
    assert not again.cancelled
    assert "cancelled" in again.reason
    assert not raced.cancelled
    assert [type(event) for event in raced.events] == [FillEvent, CancelRejected]
    assert raced.order.status is OrderStatus.FILLED
    assert raced.order.average_fill_price == 100.0  # the latest close


def test_day_order_works_until_the_session_close_of_the_calendar_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    friday = datetime(2024, 11, 29, tzinfo=UTC)  # daily bars at 00:00 UTC, XNYS early close
    config = VenueConfig(calendar="XNYS", state=tmp_path / "venue.sqlite")
    book = VenueBook(config, ["SPX"], bar_length=timedelta(days=1))
    book.on_bars({_SPX: Bar(friday, _SPX, 100, 101, 99, 100, 1_000.0)})
    request = OrderRequest.limit("SPX", 1, 50.0, time_in_force=TimeInForce.DAY)
    book.submit(ClientOrderId("D"), request, friday)
    store = VenueStore(config.state)
    store.commit(book, friday)
    store.close()
    restored = VenueBook(config, ["SPX"], bar_length=timedelta(days=1))
    reopened = VenueStore(config.state)
    reopened.load(restored)
    reopened.close()
    monday = friday + timedelta(days=3)  # decided Friday: works through Monday's session
    assert restored.on_bars({_SPX: Bar(monday, _SPX, 100, 101, 99, 100, 1.0)}) == []
    assert [entry.expires for entry in restored.exchange.working_entries()] == [
        datetime(2024, 12, 2, 21, tzinfo=UTC)
    ]
    events = restored.on_bars({_SPX: Bar(monday + timedelta(days=1), _SPX, 9, 9, 9, 9, 1.0)})
    assert [type(event) for event in events] == [Expired]


def _restarted(book: VenueBook, config: VenueConfig) -> VenueBook:
    store = VenueStore(config.state)
    store.commit(book, _START)
    store.close()
    restored = VenueBook(config, ["SPX"])
    reopened = VenueStore(config.state)
    reopened.load(restored)
    reopened.close()
    return restored


def test_a_linked_pair_cancels_the_other_on_a_fill_after_a_restart(tmp_path: Path) -> None:
    config = VenueConfig(state=tmp_path / "venue.sqlite")
    book = VenueBook(config, ["SPX"])
    book.on_bars(_bar(0, 100, 101, 99, 100))
    book.submit(ClientOrderId("B"), OrderRequest.limit("SPX", 1, 95.0), _START)
    book.submit(ClientOrderId("S"), OrderRequest.limit("SPX", -1, 105.0), _START)
    assert book.link(ClientOrderId("B"), ClientOrderId("S"))
    restored = _restarted(book, config)
    events = restored.on_bars(_bar(1, 100, 110, 90, 100))  # both prices touched
    assert [type(event) for event in events] == [FillEvent, Cancelled]
    assert restored.position("SPX").quantity == 1
    assert restored.orders[ClientOrderId("S")].status is OrderStatus.CANCELLED


@pytest.mark.parametrize("restart", [False, True])
def test_linked_bracket_exits_fill_the_take_profit_on_a_bar_opening_beyond_it(
    tmp_path: Path, restart: bool
) -> None:
    config = VenueConfig(state=tmp_path / "venue.sqlite")
    book = VenueBook(config, ["SPX"])
    book.on_bars(_bar(0, 100, 101, 99, 100))
    book.submit(ClientOrderId("E"), OrderRequest.market("SPX", 2), _START)
    book.on_bars(_bar(1, 100, 101, 99, 100))
    stop = OrderRequest.stop("SPX", -2, 95.0, reduce_only=True)
    take = OrderRequest.limit("SPX", -2, 105.0, reduce_only=True)
    book.submit(ClientOrderId("SL"), stop, _START)
    book.submit(ClientOrderId("TP"), take, _START)
    assert book.link(ClientOrderId("SL"), ClientOrderId("TP"), bracket=True)
    if restart:
        book = _restarted(book, config)
    events = book.on_bars(_bar(2, 106, 110, 90, 100))  # opens beyond the take-profit
    fills = [event.fill for event in events if isinstance(event, FillEvent)]
    assert [(fill.order_id, fill.price) for fill in fills] == [("TP", 106.0)]
    assert book.orders[ClientOrderId("SL")].status is OrderStatus.CANCELLED
    assert book.position("SPX").quantity == 0


def test_a_restart_keeps_the_working_orders_in_the_order_they_were_sent(tmp_path: Path) -> None:
    config = VenueConfig(state=tmp_path / "venue.sqlite")
    book = VenueBook(config, ["SPX"])
    book.on_bars(_bar(0, 100, 101, 99, 100))
    sent = [ClientOrderId(f"order-{number}") for number in range(30)]
    for number, order_id in enumerate(sent):
        book.submit(order_id, OrderRequest.limit("SPX", 1, 90.0 - number / 10), _START)
    restored = _restarted(book, config)
    assert [entry.order_id for entry in restored.exchange.working_entries()] == sent
