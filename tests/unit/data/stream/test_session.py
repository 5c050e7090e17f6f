from __future__ import annotations

import json

from quantstrata.data.stream import StreamConfig, StreamSession, SubscriptionBook, canonical_symbol
from quantstrata.data.stream.messages import Acknowledged, ErrorMessage


def _session(**values: object) -> StreamSession:
    return StreamSession(StreamConfig(**values), lambda low, high: high)


def test_two_unanswered_pings_force_a_reconnect_and_a_pong_clears_them():
    session = _session(heartbeat_seconds=1.0, stale_after_seconds=100)
    session.on_connected(0.0)
    assert session.on_timer(0.5) == (None, None)
    assert session.on_timer(1.0)[0] == '{"cmd":"ping"}'
    session.on_pong()
    assert session.on_timer(2.0)[0] is not None
    assert session.on_timer(3.0)[0] is not None
    ping, decision = session.on_timer(4.0)
    assert ping is None
    assert decision is not None
    assert "2 pings without a timely pong" in decision.reason


def test_no_data_on_a_subscribed_channel_forces_a_reconnect():
    session = _session(heartbeat_seconds=1.0, stale_after_seconds=5)
    session.book.request("trade", ["A"])
    session.on_connected(0.0)
    session.on_data(3.0)
    assert session.on_timer(7.9)[1] is None or "no data" not in session.on_timer(7.9)[1].reason
    _, decision = session.on_timer(8.0)
    assert decision is not None
    assert "no data" in decision.reason


def test_rotation_comes_before_the_maximum_age():
    session = _session(max_connection_age_seconds=60)
    session.on_connected(0.0)
    _, decision = session.on_timer(60.0)
    assert decision is not None
    assert "rotation" in decision.reason


def test_backoff_grows_on_every_close_and_resets_only_after_a_healthy_connection():
    session = _session(backoff_base_seconds=1, backoff_cap_seconds=8, healthy_after_seconds=10)
    delays = []
    for moment in (0.0, 20.0, 40.0, 60.0):  # accept-then-close: up for 1 s each time
        session.on_connected(moment)
        delays.append(session.on_closed(moment + 1, "closed"))
    assert delays == [1, 2, 4, 8]
    session.on_connected(100.0)
    assert session.on_closed(111.0, "closed") == 1
    assert session.counters.delays_outside_policy == 0
    assert list(session.counters.reasons)[-1] == "closed"


def test_server_waits_are_a_floor():
    session = _session(backoff_base_seconds=1, rate_limit_wait_seconds=3)
    decision = session.on_error(ErrorMessage(None, 3001, "slow", None))
    assert decision is not None
    assert decision.server_wait == 3
    decision = session.on_error(ErrorMessage(None, 3003, "too many", 12.0))
    assert decision is not None
    assert decision.server_wait == 12
    session.on_connected(0.0)
    assert session.on_closed(0.1, "limited", 12.0) == 12


def test_auth_errors_are_fatal():
    decision = _session().on_error(ErrorMessage("subscribe", 1001, "Invalid token", None))
    assert decision is not None
    assert decision.fatal


def test_only_confirmed_subscriptions_are_resent():
    book = SubscriptionBook()
    book.request("trade", ["A", "B"])
    book.request("trade", ["BAD"])
    book.acknowledge(Acknowledged("subscribe", "trade", ("A", "B")))
    book.reject(ErrorMessage("subscribe", 2002, "Symbol not found", None))
    frames = [json.loads(frame) for frame in book.resubscribe()]
    assert frames == [{"cmd": "subscribe", "data": {"channel": "trade", "symbols": ["A", "B"]}}]
    assert book.rejected == [("trade", ("BAD",), 2002)]


def test_pushed_symbols_without_suffix_map_to_the_subscribed_name():
    names = ["700.HK", "AAPL.US", "BTCUSDT"]
    assert canonical_symbol("700", names) == "700.HK"
    assert canonical_symbol("00700", names) == "700.HK"
    assert canonical_symbol("AAPL", names) == "AAPL.US"
    assert canonical_symbol("BTCUSDT", names) == "BTCUSDT"
    assert canonical_symbol("OTHER", names) == "OTHER"


def test_late_pongs_do_not_make_a_slow_link_healthy():
    session = _session(heartbeat_seconds=1.0, missed_pongs=2)
    session.on_connected(0.0)
    now, decisions = 0.0, []
    for _ in range(10):  # every pong comes back 1.5 heartbeats late
        now += 1.0
        ping, decision = session.on_timer(now)
        decisions.append(decision)
        if ping is not None:
            session.on_pong(now + 1.5)
    assert any(decision is not None for decision in decisions)


def test_falling_behind_the_market_past_the_bound_reconnects():
    session = _session(max_lag_seconds=5.0)
    assert session.on_lag(None) is None  # a quiet period says nothing
    assert session.on_lag(3_600.0) is None  # the least lag: clock skew, not lateness
    assert session.on_lag(3_604.0) is None
    decision = session.on_lag(3_606.0)
    assert decision is not None
    assert "behind the market" in decision.reason
    assert session.counters.lag_reconnects == 1
