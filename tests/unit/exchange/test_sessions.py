"""DAY orders end at the session close of the symbol's calendar, found lazily by windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quantstrata.exchange import ExchangeConfig, Prices, SimulatedExchange
from quantstrata.exchange._sessions import SessionCloses
from quantstrata.model.instrument import AssetClass, Instrument
from quantstrata.model.orders import Expired, OrderRequest, OrderStatus, TimeInForce

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
# Never reaches the limit at 95: the order can only work or expire.
QUIET = Prices(100.0, 101.0, 99.0, 100.0, 1_000.0)


def _utc(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2024) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _day_limit(exchange: SimulatedExchange, decided: datetime) -> str:
    order_id = exchange.new_order_id()
    request = OrderRequest.limit("AAA", 10.0, 95.0, time_in_force=TimeInForce.DAY)
    exchange.submit(order_id, request, decided)
    return order_id


def _status_at(exchange: SimulatedExchange, order_id: str, ts: datetime) -> OrderStatus:
    exchange.on_bar("AAA", ts, QUIET)
    return exchange.orders[order_id].status  # type: ignore[index]


def _xnys(bar_length: timedelta, *, by_instrument: bool = False) -> SimulatedExchange:
    if by_instrument:
        instrument = Instrument("AAA", AssetClass.EQUITY, "USD", calendar="XNYS")  # type: ignore[arg-type]
        config = ExchangeConfig(instruments={"AAA": instrument}, bar_length=bar_length)
    else:
        config = ExchangeConfig(calendar="XNYS", bar_length=bar_length)
    return SimulatedExchange(config, ["AAA"])


@pytest.mark.parametrize("by_instrument", [False, True], ids=["config", "instrument"])
def test_a_minute_bar_order_works_until_that_days_close(by_instrument: bool) -> None:
    # 2024-11-27: a full NYSE session, closing at 16:00 New York = 21:00 UTC.
    exchange = _xnys(MINUTE, by_instrument=by_instrument)
    order_id = _day_limit(exchange, _utc(11, 27, 20, 58))
    assert _status_at(exchange, order_id, _utc(11, 27, 20, 59)) is OrderStatus.PENDING
    assert _status_at(exchange, order_id, _utc(11, 27, 21, 0)) is OrderStatus.EXPIRED
    assert isinstance(exchange.events[-1], Expired)


def test_an_order_decided_on_the_last_minute_works_through_the_holiday_until_an_early_close() -> (
    None
):
    # Decided on the 20:59 bar, whose close is the session close: it meets the next session.
    # 2024-11-28 is Thanksgiving (closed); 2024-11-29 closes early at 13:00 New York = 18:00 UTC.
    exchange = _xnys(MINUTE)
    order_id = _day_limit(exchange, _utc(11, 27, 20, 59))
    assert _status_at(exchange, order_id, _utc(11, 28, 15, 0)) is OrderStatus.PENDING
    assert _status_at(exchange, order_id, _utc(11, 29, 17, 59)) is OrderStatus.PENDING
    assert _status_at(exchange, order_id, _utc(11, 29, 18, 0)) is OrderStatus.EXPIRED


def test_a_daily_close_decision_works_through_the_next_session() -> None:
    # Daily bars are labelled at the session date, 00:00 UTC. Decided on the 2024-11-27 bar, the
    # order meets the next session (the 29th: the 28th is a holiday), which closes at 18:00 UTC.
    exchange = _xnys(DAY)
    order_id = _day_limit(exchange, _utc(11, 27))
    assert _status_at(exchange, order_id, _utc(11, 29)) is OrderStatus.PENDING
    assert _status_at(exchange, order_id, _utc(12, 2)) is OrderStatus.EXPIRED


def test_without_a_calendar_a_session_is_a_utc_day() -> None:
    exchange = SimulatedExchange(ExchangeConfig(bar_length=MINUTE), ["AAA"])
    order_id = _day_limit(exchange, _utc(11, 27, 10))
    assert _status_at(exchange, order_id, _utc(11, 27, 23, 59)) is OrderStatus.PENDING
    assert _status_at(exchange, order_id, _utc(11, 28, 0, 0)) is OrderStatus.EXPIRED


def test_gtc_orders_never_expire() -> None:
    exchange = _xnys(MINUTE)
    order_id = exchange.new_order_id()
    exchange.submit(order_id, OrderRequest.limit("AAA", 10.0, 95.0), _utc(11, 27, 20, 58))
    assert _status_at(exchange, order_id, _utc(12, 30, 15)) is OrderStatus.PENDING


def test_closes_are_found_for_times_years_apart_in_any_order() -> None:
    closes = SessionCloses(lambda _symbol: "XNYS")
    # A window covers about a year: the later times extend it, the earlier one rebuilds it.
    assert closes.expiry("AAA", _utc(1, 2, 15, year=2020)) == _utc(1, 2, 21, year=2020)
    assert closes.expiry("AAA", _utc(6, 1, 21, year=2023)) == _utc(6, 2, 20, year=2023)
    assert closes.expiry("AAA", _utc(12, 24, 12, year=2024)) == _utc(12, 24, 18, year=2024)
    assert closes.expiry("AAA", _utc(7, 3, 18, year=2019)) == _utc(7, 5, 20, year=2019)


def test_24_7_closes_are_the_next_midnight() -> None:
    closes = SessionCloses(lambda _symbol: None)
    assert closes.expiry("BTC", _utc(2, 29, 23, 59)) == _utc(3, 1)
    assert closes.expiry("BTC", _utc(3, 1)) == _utc(3, 2)
