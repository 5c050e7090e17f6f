"""The fake Alpaca, driven only by the real alpaca-py SDK (REST clients and both streams).

Fills are checked against the shared fill model run on the same bars, never against numbers
written here; every fault mode is observed through the SDK.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from quantstrata.data.samples import load_sample
from quantstrata.execution import FillModel, WorkingOrder
from quantstrata.model.bar import Bar
from quantstrata.model.orders import OrderRequest
from tests.kit.alpaca_sdk import (
    APIError,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StockBarsRequest,
    StopLimitOrderRequest,
    StopLossRequest,
    StopOrderRequest,
    TakeProfitRequest,
    TimeFrame,
    TradingClient,
    TrailingStopOrderRequest,
    bar_stream,
    history_client,
    trade_stream,
    trading_client,
)
from tests.kit.fake_alpaca import DATA, TRADING, FakeAlpaca

WARM = 20


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    with FakeAlpaca(load_sample("SPX_1d").head(60), published=WARM) as server:
        yield server


def _bar(fake: FakeAlpaca, index: int) -> Bar:
    return fake.snapshots[index]["SPX"]  # type: ignore[index]


def _model_fill(request: OrderRequest, bars: list[Bar]) -> tuple[int, float] | None:
    """Return (bar offset, price) of the shared fill model's first fill of ``request``."""
    model, state = FillModel(), WorkingOrder.from_request(request)
    for offset, bar in enumerate(bars):
        step = model.step(state, bar)
        if step.fill is not None:
            return offset, step.fill.price
        if step.order is None:
            return None
        state = step.order
    return None


def _events(updates: list[object]) -> list[tuple[str, str]]:
    return [
        (u.event.value if hasattr(u.event, "value") else u.event, u.order.client_order_id)
        for u in updates
    ]  # type: ignore[attr-defined]


def test_account_clock_calendar_and_asset_parse_in_the_sdk(fake: FakeAlpaca) -> None:
    client = trading_client(fake)
    account = client.get_account()
    assert float(account.cash) == pytest.approx(100_000.0)
    assert account.pattern_day_trader is False
    clock = client.get_clock()
    assert clock.timestamp == fake.now
    assert clock.is_open
    assert [day.date for day in client.get_calendar()] == fake.sessions()
    assert client.get_asset("SPX").tradable
    assert client.get_all_positions() == []


def test_market_order_fills_at_the_fill_models_price_on_the_next_bar(fake: FakeAlpaca) -> None:
    client = trading_client(fake)
    with trade_stream(fake) as stream:
        order = client.submit_order(
            MarketOrderRequest(
                symbol="SPX", qty=3, side="buy", time_in_force="gtc", client_order_id="m-1"
            )
        )
        assert order.status.value == "new"
        assert order.client_order_id == "m-1"
        fake.publish_next_bar()
        updates = stream.wait_for(lambda got: len(got) >= 2)
    expected = _model_fill(OrderRequest.market("SPX", 3), [_bar(fake, WARM)])
    assert expected is not None
    assert _events(updates) == [("new", "m-1"), ("fill", "m-1")]
    fill = updates[1]
    assert (fill.price, fill.qty, fill.position_qty) == (expected[1], 3.0, 3.0)
    position = client.get_open_position("SPX")
    assert float(position.qty) == 3.0
    assert float(position.avg_entry_price) == expected[1]
    activities = client.get("/account/activities/FILL")
    assert [(a["order_id"], float(a["price"])) for a in activities] == [
        (str(order.id), expected[1])
    ]
    assert fake.positions() == {"SPX": 3.0}


def test_limit_order_rests_until_the_fill_model_crosses_it(fake: FakeAlpaca) -> None:
    client = trading_client(fake)
    price = round(min(_bar(fake, i).low for i in range(WARM, WARM + 8)) + 1.0, 2)
    order = client.submit_order(
        LimitOrderRequest(symbol="SPX", qty=2, side="buy", time_in_force="gtc", limit_price=price)
    )
    bars = []
    while client.get_order_by_id(order.id).status.value == "new" and not fake.finished:
        bars.append(_bar(fake, fake.position + 1))
        fake.publish_next_bar()
    expected = _model_fill(OrderRequest.limit("SPX", 2, price), bars)
    assert expected == (len(bars) - 1, float(client.get_order_by_id(order.id).filled_avg_price))


@pytest.mark.parametrize("tif", ["day", "gtc", "ioc", "fok", "opg", "cls"])
def test_every_order_type_and_time_in_force_round_trips(fake: FakeAlpaca, tif: str) -> None:
    client = trading_client(fake)
    close = _bar(fake, WARM - 1).close
    requests = [
        MarketOrderRequest(symbol="SPX", qty=1, side="buy", time_in_force=tif),
        LimitOrderRequest(symbol="SPX", qty=1, side="buy", time_in_force=tif, limit_price=close),
        StopOrderRequest(
            symbol="SPX", qty=1, side="buy", time_in_force=tif, stop_price=close * 1.01
        ),
        StopLimitOrderRequest(
            symbol="SPX", qty=1, side="buy", time_in_force=tif, stop_price=close, limit_price=close
        ),
        TrailingStopOrderRequest(
            symbol="SPX", qty=1, side="sell", time_in_force=tif, trail_percent=2
        ),
    ]
    orders = [client.submit_order(request) for request in requests]
    assert [(o.type.value, o.time_in_force.value) for o in orders] == [
        (kind, tif) for kind in ("market", "limit", "stop", "stop_limit", "trailing_stop")
    ]
    assert orders[-1].trail_percent == "2.0"
    fake.publish_next_bar()
    statuses = {o.client_order_id: client.get_order_by_id(o.id).status.value for o in orders}
    assert statuses[orders[0].client_order_id] == "filled"
    if tif in ("ioc", "fok"):  # nothing rests after the first bar
        assert all(status in {"filled", "canceled"} for status in statuses.values())


def test_bracket_legs_wait_for_the_entry_and_one_exit_cancels_the_other(fake: FakeAlpaca) -> None:
    client = trading_client(fake)
    entry_open = _bar(fake, WARM).open
    with trade_stream(fake) as stream:
        parent = client.submit_order(
            MarketOrderRequest(
                symbol="SPX", qty=1, side="buy", time_in_force="gtc", order_class="bracket",
                take_profit=TakeProfitRequest(limit_price=round(entry_open * 1.02, 2)),
                stop_loss=StopLossRequest(stop_price=round(entry_open * 0.98, 2)),
            )
        )  # fmt: skip
        assert parent.order_class.value == "bracket"
        assert [leg.status.value for leg in parent.legs] == ["held", "held"]
        fake.publish_next_bar()
        stream.wait_for(lambda got: sum(u.event == "new" for u in got) == 3)
        while fake.positions() and not fake.finished:
            fake.publish_next_bar()
        stream.wait_for(lambda got: sum(u.event == "canceled" for u in got) == 1)
    legs = client.get_order_by_id(parent.id).legs
    assert sorted(leg.status.value for leg in legs) == ["canceled", "filled"]
    assert fake.positions() == {}


def test_oco_works_both_exits_and_oto_holds_its_leg(fake: FakeAlpaca) -> None:
    client = trading_client(fake)
    client.submit_order(MarketOrderRequest(symbol="SPX", qty=2, side="buy", time_in_force="gtc"))
    fake.publish_next_bar()
    close = _bar(fake, fake.position).close
    oco = client.submit_order(
        LimitOrderRequest(
            symbol="SPX", qty=2, side="sell", time_in_force="gtc", order_class="oco",
            take_profit=TakeProfitRequest(limit_price=round(close * 1.5, 2)),
            stop_loss=StopLossRequest(stop_price=round(close * 0.5, 2)),
        )
    )  # fmt: skip
    assert [oco.status.value, *(leg.status.value for leg in oco.legs)] == ["new", "new"]
    assert [oco.limit_price, oco.legs[0].stop_price] == [
        repr(round(close * 1.5, 2)),
        repr(round(close * 0.5, 2)),
    ]
    oto = client.submit_order(
        LimitOrderRequest(
            symbol="SPX", qty=1, side="buy", time_in_force="gtc", order_class="oto",
            limit_price=round(close * 0.5, 2),
            stop_loss=StopLossRequest(stop_price=round(close * 0.4, 2)),
        )
    )  # fmt: skip
    assert [leg.status.value for leg in oto.legs] == ["held"]
    client.cancel_order_by_id(oto.id)
    cancelled = client.get_order_by_id(oto.id)
    assert [cancelled.status.value, cancelled.legs[0].status.value] == ["canceled", "canceled"]


def test_cancel_replace_list_and_client_ids(fake: FakeAlpaca) -> None:
    client = trading_client(fake)
    low = round(_bar(fake, WARM - 1).low * 0.5, 2)
    with trade_stream(fake) as stream:
        first = client.submit_order(
            LimitOrderRequest(
                symbol="SPX",
                qty=1,
                side="buy",
                time_in_force="gtc",
                limit_price=low,
                client_order_id="c-1",
            )
        )
        with pytest.raises(APIError) as duplicate:
            client.submit_order(
                LimitOrderRequest(
                    symbol="SPX",
                    qty=1,
                    side="buy",
                    time_in_force="gtc",
                    limit_price=low,
                    client_order_id="c-1",
                )
            )
        assert duplicate.value.status_code == 422
        second = client.replace_order_by_id(
            first.id, ReplaceOrderRequest(qty=2, limit_price=low + 1)
        )
        assert (second.replaces, float(second.qty)) == (first.id, 2.0)
        assert client.get_order_by_client_id("c-1").status.value == "replaced"
        assert [o.id for o in client.get_orders(GetOrdersRequest(status="open"))] == [second.id]
        client.cancel_order_by_id(second.id)
        with pytest.raises(APIError) as again:
            client.cancel_order_by_id(second.id)
        assert again.value.status_code == 422
        updates = stream.wait_for(lambda got: len(got) >= 4)
    assert [u.event for u in updates] == ["new", "replaced", "new", "canceled"]
    assert len(client.get_orders(GetOrdersRequest(status="all"))) == 2


def test_historical_bars_page_with_page_token(fake: FakeAlpaca) -> None:
    fake.page_size = 7
    request = StockBarsRequest(symbol_or_symbols="SPX", timeframe=TimeFrame.Day)
    bars = history_client(fake).get_stock_bars(request).data["SPX"]
    expected = [_bar(fake, i) for i in range(WARM)]
    assert [(b.timestamp, b.open, b.close) for b in bars] == [
        (b.ts, b.open, b.close) for b in expected
    ]
    pages = [r for r in fake.requests if r.path == "/v2/stocks/bars"]
    assert len(pages) == 3
    assert "page_token" in pages[-1].query


def test_bar_stream_and_updated_bars(fake: FakeAlpaca) -> None:
    with bar_stream(fake, "SPX", updated=True) as stream:
        ts = fake.publish_next_bar()
        fake.publish_updated_bar(c=_bar(fake, WARM).close + 1.0)
        got = stream.wait_for(lambda got: len(got) >= 2)
    assert [(b.timestamp, b.open) for b in got] == [(ts, _bar(fake, WARM).open)] * 2
    assert got[1].close == got[0].close + 1.0


def test_lockstep_replay_publishes_the_next_bar_only_after_the_ack(fake: FakeAlpaca) -> None:
    client = trading_client(fake)
    with bar_stream(fake, "SPX") as stream:
        fake.start_replay(lockstep=True)
        first = stream.wait_for(lambda got: len(got) == 1)[0]
        order = client.submit_order(
            MarketOrderRequest(symbol="SPX", qty=1, side="buy", time_in_force="gtc")
        )
        assert fake.position == WARM  # held until the ack
        fake.ack(first.timestamp)
        stream.wait_for(lambda got: len(got) == 2)
    expected = _model_fill(OrderRequest.market("SPX", 1), [_bar(fake, WARM + 1)])
    assert expected is not None
    assert float(client.get_order_by_id(order.id).filled_avg_price) == expected[1]


def test_a_wrong_key_is_refused_and_the_key_is_never_logged(
    fake: FakeAlpaca, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = TradingClient(fake.key_id, "not-the-secret", paper=True, url_override=fake.url)
    with pytest.raises(APIError) as refused:
        bad.get_account()
    assert refused.value.status_code == 401
    assert refused.value.code == 40110000
    client = trading_client(fake)
    client.submit_order(MarketOrderRequest(symbol="SPX", qty=1, side="buy", time_in_force="gtc"))
    fake.publish_next_bar()
    recorded = f"{fake!r} {fake.requests} {fake.events} {caplog.text}"
    assert fake.secret not in recorded
    assert fake.key_id not in recorded


def test_rate_limit_429_with_retry_after_is_retried_by_the_sdk(fake: FakeAlpaca) -> None:
    fake.rate_limit(times=1, retry_after=1)
    account = trading_client(fake).get_account()  # alpaca-py retries 429 itself (3 s wait)
    assert account.status.value == "ACTIVE"
    limited = [r for r in fake.requests if r.status == 429]
    assert [(r.path, r.headers) for r in limited] == [("/v2/account", {"Retry-After": "1"})]


def test_server_error_reaches_the_sdk(fake: FakeAlpaca) -> None:
    fake.fail_next(times=1, status=503)
    client = trading_client(fake)
    with pytest.raises(APIError) as failed:
        client.get_all_positions()
    assert failed.value.status_code == 503
    assert client.get_all_positions() == []


def test_refused_create_carries_alpacas_code(fake: FakeAlpaca) -> None:
    fake.refuse_next_create(403, 40310100, "trade denied due to pattern day trading protection")
    with pytest.raises(APIError) as refused:
        trading_client(fake).submit_order(
            MarketOrderRequest(symbol="SPX", qty=1, side="buy", time_in_force="day")
        )
    assert (refused.value.status_code, refused.value.code) == (403, 40310100)
    with pytest.raises(APIError) as poor:
        trading_client(fake).submit_order(
            MarketOrderRequest(symbol="SPX", qty=10_000, side="buy", time_in_force="day")
        )
    assert poor.value.message == "insufficient buying power"


def test_a_stalled_create_is_accepted_before_it_answers(fake: FakeAlpaca) -> None:
    fake.stall_creates(seconds=1.0)
    answers: list[object] = []
    request = MarketOrderRequest(
        symbol="SPX", qty=1, side="buy", time_in_force="gtc", client_order_id="slow-1"
    )
    with trade_stream(fake) as stream:
        sender = threading.Thread(
            target=lambda: answers.append(trading_client(fake).submit_order(request))
        )
        sender.start()
        stream.wait_for(lambda got: [u.event for u in got] == ["new"])
        assert answers == []  # accepted, not answered yet
        assert trading_client(fake).get_order_by_client_id("slow-1").status.value == "new"
        sender.join(timeout=10)
    assert fake.stalled == ["slow-1"]
    assert len(answers) == 1


def test_a_dropped_trading_stream_reconnects_and_streams_again(fake: FakeAlpaca) -> None:
    client = trading_client(fake)
    with trade_stream(fake) as stream:
        assert fake.drop_streams(TRADING) == 1
        assert fake.streams.wait_for(
            lambda: fake.streams.connections[TRADING] == 2 and fake.streams.listeners() == 1, 10
        )
        client.submit_order(
            MarketOrderRequest(symbol="SPX", qty=1, side="buy", time_in_force="gtc")
        )
        assert [u.event for u in stream.wait_for(lambda got: len(got) == 1)] == ["new"]


def test_a_silent_stall_is_caught_by_the_sdks_data_timeout(fake: FakeAlpaca) -> None:
    with bar_stream(fake, "SPX", data_timeout=0.3) as stream:
        assert fake.stall_streams(DATA) == 1
        fake.publish_next_bar()  # sent to nobody: the connection is stalled

        def reconnected() -> bool:
            streams = fake.streams
            return streams.connections[DATA] == 2 and streams.bar_subscribers("SPX") == 1

        assert fake.streams.wait_for(reconnected, 10)
        ts = fake.publish_next_bar()
        got = stream.wait_for(lambda got: len(got) >= 1)
    assert [b.timestamp for b in got] == [ts]


@pytest.mark.parametrize("fault", ["duplicate_events", "reorder_events", "fill_before_new"])
def test_event_faults_show_in_trade_updates(fake: FakeAlpaca, fault: str) -> None:
    setattr(fake, fault, True)
    client = trading_client(fake)
    with trade_stream(fake) as stream:
        for name in ("a", "b"):
            client.submit_order(
                MarketOrderRequest(
                    symbol="SPX", qty=1, side="buy", time_in_force="gtc", client_order_id=name
                )
            )
        fake.publish_next_bar()
        updates = stream.wait_for(lambda got: len(got) >= (8 if fault == "duplicate_events" else 4))
    seen = _events(updates)
    expected = {
        "duplicate_events": [
            (e, n)
            for e, n in [("new", "a"), ("new", "b"), ("fill", "a"), ("fill", "b")]
            for _ in range(2)
        ],
        "reorder_events": [("new", "a"), ("new", "b"), ("fill", "b"), ("fill", "a")],
        "fill_before_new": [("fill", "a"), ("new", "a"), ("fill", "b"), ("new", "b")],
    }
    assert seen == expected[fault]
    if fault == "duplicate_events":
        assert updates[4].execution_id == updates[5].execution_id


def _short(fake: FakeAlpaca, client: TradingClient, fraction: float, name: str) -> int:
    """Sell short ``fraction`` × equity worth of SPX and fill it on the next bar."""
    qty = int(fraction * fake.account.book.equity() / fake.account.mark("SPX"))
    client.submit_order(
        MarketOrderRequest(
            symbol="SPX", qty=qty, side="sell", time_in_force="gtc", client_order_id=name
        )
    )
    fake.publish_next_bar()
    assert client.get_order_by_client_id(name).status.value == "filled"
    return qty


def test_covering_a_short_needs_no_buying_power(fake: FakeAlpaca) -> None:
    client = trading_client(fake)
    held = _short(fake, client, 1.5, "short")
    assert held * fake.account.mark("SPX") > fake.account.buying_power()
    client.submit_order(
        MarketOrderRequest(
            symbol="SPX", qty=held, side="buy", time_in_force="gtc", client_order_id="cover"
        )
    )
    fake.publish_next_bar()
    assert client.get_order_by_client_id("cover").status.value == "filled"
    assert fake.positions() == {}


def test_adding_to_a_short_needs_buying_power_for_the_addition_only(fake: FakeAlpaca) -> None:
    client = trading_client(fake)
    first = _short(fake, client, 0.9, "short")
    more = _short(fake, client, 0.5, "more")
    assert fake.positions() == {"SPX": -float(first + more)}


def test_fractional_quantities_are_taken_only_as_alpaca_takes_them(fake: FakeAlpaca) -> None:
    client = trading_client(fake)
    close = _bar(fake, WARM - 1).close
    refused = [
        MarketOrderRequest(symbol="SPX", qty=0.5, side="buy", time_in_force="gtc"),
        LimitOrderRequest(
            symbol="SPX", qty=0.5, side="buy", time_in_force="ioc", limit_price=close
        ),
        TrailingStopOrderRequest(
            symbol="SPX", qty=0.5, side="sell", time_in_force="day", trail_percent=2
        ),
        MarketOrderRequest(
            symbol="SPX",
            qty=0.5,
            side="buy",
            time_in_force="day",
            order_class="oto",
            stop_loss=StopLossRequest(stop_price=round(close * 0.5, 2)),
        ),
    ]
    answers = []
    for request in refused:
        with pytest.raises(APIError) as error:
            client.submit_order(request)
        answers.append((error.value.status_code, error.value.code, error.value.message))
    assert answers == [
        (422, 42210000, "fractional orders must be DAY orders"),
        (422, 42210000, "fractional orders must be DAY orders"),
        (422, 42210000, "fractional orders must be market, limit, stop, or stop_limit orders"),
        (422, 42210000, "fractional orders must be simple orders"),
    ]
    taken = [
        MarketOrderRequest(symbol="SPX", qty=0.5, side="buy", time_in_force="day"),
        LimitOrderRequest(
            symbol="SPX", qty=0.25, side="buy", time_in_force="day", limit_price=close
        ),
        MarketOrderRequest(symbol="SPX", qty=2, side="buy", time_in_force="gtc"),
    ]
    assert [float(client.submit_order(request).qty) for request in taken] == [0.5, 0.25, 2.0]
