"""The live dashboard's HTTP API against a running live runtime on the paper broker.

Real uvicorn on 127.0.0.1 port 0, real SQLite journal, real httpx client: the kill switch is
journaled, alerted and refuses orders through the risk engine; every route checks the token;
the event stream pushes snapshots; tokens never reach logs or reprs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from quantstrata.core.clock import LiveClock
from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret
from quantstrata.data import load_sample
from quantstrata.execution.fill_model import FillModel
from quantstrata.execution.risk import TradingState
from quantstrata.live import Live, LiveConfig
from quantstrata.live.brokers import PaperBroker
from quantstrata.live.dashboard import DashboardConfig
from quantstrata.live.feeds import ReplayFeed
from quantstrata.live.journal import SqliteJournal
from quantstrata.live.journal.entries import TradingStateChange
from quantstrata.model.orders import OrderRequest, OrderStatus
from quantstrata.strategy import EventStrategy
from quantstrata.strategy.context import StrategyContext
from quantstrata.strategy.event import BarSnapshot
from tests.kit.dashboard import ADMIN, VIEWER, Flipper
from tests.kit.venue import wait_until

CSRF = {"X-Quantstrata-Dashboard": "1"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class RestingLimits(EventStrategy):
    """Rest a buy limit far below the market on every bar (it never fills)."""

    def warmup_bars(self) -> int:
        return 0

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        context.submit(OrderRequest.limit("SPX", 1.0, bars["SPX"].close * 0.5))


@asynccontextmanager
async def _running(
    tmp_path: Path, pause: float = 0.01, strategy: EventStrategy | None = None
) -> AsyncIterator[tuple[Live, str]]:
    clock = LiveClock()
    broker = PaperBroker(clock=clock, fill_model=FillModel(), cash=100_000.0)
    config = LiveConfig(
        symbols=("SPX",),
        journal=str(tmp_path / "journal.sqlite"),
        warm_up=False,
        reconcile_interval=3_600,
        dashboard=DashboardConfig(
            admin_token=Secret(ADMIN), viewer_token=Secret(VIEWER), push_interval=0.05
        ),
    )
    feed = ReplayFeed(load_sample("SPX_1d").head(3_000), "1d", pause=pause)
    chosen = strategy if strategy is not None else Flipper(hold=2)
    live = Live(chosen, feed, broker, config, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(live.run_async(stop))
    await wait_until(lambda: live.controls.open)
    assert live.dashboard is not None
    try:
        yield live, live.dashboard.url
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


@pytest.mark.asyncio
async def test_kill_switch_is_journaled_alerted_and_stops_orders(tmp_path: Path) -> None:
    async with _running(tmp_path) as (live, url), httpx.AsyncClient(base_url=url) as client:
        await wait_until(lambda: live.manager.state.submitted >= 2)
        answer = await client.post(
            "api/trading-state",
            json={"action": "halt", "reason": "test halt"},
            headers={**_bearer(ADMIN), **CSRF},
        )
        assert answer.status_code == 200
        assert answer.json() == {
            "action": "halt",
            "symbol": None,
            "state": "halted",
            "cancelled": 0,
        }
        assert live.manager.risk is not None
        assert live.manager.risk.global_state is TradingState.HALTED
        submitted, rejected = live.manager.state.submitted, live.manager.state.rejections
        bars = live.view.progress.bar_times if live.view else 0
        await wait_until(lambda: live.view is not None and live.view.progress.bar_times > bars + 8)
        assert live.manager.state.submitted == submitted
        assert live.manager.state.rejections > rejected
        titles = [alert.title for alert in live.alerts.history if alert.source == "dashboard"]
        assert titles == ["kill switch: halt all symbols"]
        answer = await client.post(
            "api/trading-state",
            json={"action": "resume"},
            headers={**_bearer(ADMIN), **CSRF},
        )
        assert answer.json()["state"] == "active"
        await wait_until(lambda: live.manager.state.submitted > submitted)
    journal = SqliteJournal(tmp_path / "journal.sqlite")
    try:
        changes = [
            record.entry
            for record in journal.replay()
            if isinstance(record.entry, TradingStateChange)
        ]
    finally:
        journal.close()
    assert [(c.symbol, c.state) for c in changes] == [
        (None, TradingState.HALTED),
        (None, TradingState.ACTIVE),
    ]
    assert changes[0].reason == "dashboard: test halt"


@pytest.mark.asyncio
async def test_halt_can_cancel_the_working_orders_too(tmp_path: Path) -> None:
    async with (
        _running(tmp_path, strategy=RestingLimits()) as (live, url),
        httpx.AsyncClient(base_url=url) as client,
    ):
        await wait_until(lambda: len(live.manager.state.open_orders()) >= 3)
        answer = await client.post(
            "api/trading-state",
            json={"action": "halt", "symbol": "SPX", "cancel_open": True},
            headers={**_bearer(ADMIN), **CSRF},
        )
        assert answer.status_code == 200
        cancelled = answer.json()["cancelled"]
        assert cancelled >= 3
        await wait_until(lambda: not live.manager.state.open_orders())
        assert await live.broker.open_orders() == []
        statuses = [order.status for order in live.manager.state.orders.values()]
        assert statuses.count(OrderStatus.CANCELLED) == cancelled == len(statuses)


@pytest.mark.asyncio
async def test_every_route_checks_the_token_and_the_role(tmp_path: Path) -> None:
    async with _running(tmp_path) as (_, url), httpx.AsyncClient(base_url=url) as client:
        for path in ("", "api/snapshot", "api/events", "static/dashboard.js"):
            assert (await client.get(path)).status_code == 401, path
            wrong = await client.get(path, headers=_bearer("wrong"))
            assert wrong.status_code == 401, path
        viewer = await client.get("api/snapshot", headers=_bearer(VIEWER))
        assert viewer.status_code == 200
        assert viewer.json()["role"] == "viewer"
        refused = await client.post(
            "api/trading-state", json={"action": "halt"}, headers={**_bearer(VIEWER), **CSRF}
        )
        assert refused.status_code == 403
        no_header = await client.post(
            "api/trading-state", json={"action": "halt"}, headers=_bearer(ADMIN)
        )
        assert no_header.status_code == 403
        for body in ({"action": "halt", "symbol": "AAPL"}, {"action": "explode"}, {"x": 1}):
            bad = await client.post(
                "api/trading-state", json=body, headers={**_bearer(ADMIN), **CSRF}
            )
            assert bad.status_code == 422, body
        state = (await client.get("api/snapshot", headers=_bearer(ADMIN))).json()["risk"]
        assert state["global"] == "active"


@pytest.mark.asyncio
async def test_login_opens_a_cookie_session_that_holds_no_token(tmp_path: Path) -> None:
    async with _running(tmp_path) as (_, url), httpx.AsyncClient(base_url=url) as client:
        wrong = await client.post("login", data={"token": "wrong"})
        assert wrong.status_code == 401
        assert "Wrong token" in wrong.text
        answer = await client.post("login", data={"token": ADMIN})
        assert answer.status_code == 303
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert ADMIN not in cookie
        page = await client.get("")
        assert page.status_code == 200
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert (await client.get("api/snapshot")).json()["role"] == "admin"
        await client.post("logout")
        assert (await client.get("api/snapshot")).status_code == 401


@pytest.mark.asyncio
async def test_event_stream_pushes_fresh_snapshots(tmp_path: Path) -> None:
    async with (
        _running(tmp_path) as (live, url),
        httpx.AsyncClient(base_url=url, timeout=10) as client,
        client.stream("GET", "api/events", headers=_bearer(VIEWER)) as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        snapshots = []
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                snapshots.append(json.loads(line.removeprefix("data: ")))
            if len(snapshots) == 3:
                break
        assert [snapshot["role"] for snapshot in snapshots] == ["viewer"] * 3
        counts = [snapshot["counters"]["bar_times"] for snapshot in snapshots]
        assert counts == sorted(counts)
        assert counts[-1] > counts[0]
        last = snapshots[-1]
        assert len(last["equity"]) == min(counts[-1], 2_000)
        assert last["run_id"] == live.config.run_id


@pytest.mark.asyncio
async def test_snapshot_values_agree_with_the_broker(tmp_path: Path) -> None:
    async with _running(tmp_path, pause=0.0) as (live, url):
        await wait_until(lambda: live.view is not None and live.view.fill_count >= 10)
        async with httpx.AsyncClient(base_url=url) as client:
            snapshot = (await client.get("api/snapshot", headers=_bearer(ADMIN))).json()
    account = snapshot["account"]
    held = sum(p["market_value"] or 0.0 for p in snapshot["positions"])
    assert account["equity"] == pytest.approx(account["cash"] + held)
    assert account["pnl"] == pytest.approx(account["equity"] - account["start_equity"])
    trades = [fill["trade_id"] for fill in snapshot["fills"]]
    assert len(trades) == len(set(trades)) == min(snapshot["counters"]["fills"], 50)
    broker_trades = {str(fill.trade_id) for fill in await live.broker.fills()}
    assert set(trades) <= broker_trades
    health = {row["component"]: row for row in snapshot["health"]}
    assert set(health) == {"feed", "broker", "journal", "reconciler"}
    assert health["reconciler"]["state"] == "ok"
    assert health["reconciler"]["detail"].startswith("1 run, last ")


@pytest.mark.asyncio
async def test_tokens_never_reach_logs_or_reprs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with _running(tmp_path) as (live, url), httpx.AsyncClient(base_url=url) as client:
        await client.get("", params={"token": ADMIN})
        await client.get("", params={"token": VIEWER + "x"})
        await client.post("login", data={"token": VIEWER})
        await client.get("api/snapshot", headers=_bearer(ADMIN + "x"))
        await client.post(
            "api/trading-state", json={"action": "halt"}, headers={**_bearer(ADMIN), **CSRF}
        )
        texts = [repr(live.config), repr(live.dashboard), str(live.config.dashboard)]
        texts.append(repr(live.view.snapshot() if live.view else None))
    client_side = ("httpx", "httpcore")  # the test's own client logs the URLs it asked for
    server_side = [r for r in caplog.records if not r.name.startswith(client_side)]
    assert any(r.name.startswith("quantstrata") for r in server_side)
    texts.extend(record.getMessage() for record in server_side)
    for text in texts:
        assert ADMIN not in text
        assert VIEWER not in text


@pytest.mark.asyncio
async def test_stopping_the_runtime_ends_open_event_streams(tmp_path: Path) -> None:
    lines: list[str] = []
    async with _running(tmp_path) as (live, url):
        client = httpx.AsyncClient(base_url=url, timeout=10)
        request = client.build_request("GET", "api/events", headers=_bearer(ADMIN))
        stream = await client.send(request, stream=True)

        async def read() -> None:
            async for line in stream.aiter_lines():
                lines.append(line)  # noqa: PERF401 - seen while the stream is still open

        reading = asyncio.create_task(read())
        await wait_until(lambda: any(line.startswith("data: ") for line in lines))
    assert live.view is not None
    assert live.view.progress.status == "stopped"
    await asyncio.wait_for(reading, timeout=10)  # the server closed the stream
    await stream.aclose()
    await client.aclose()


@pytest.mark.asyncio
async def test_a_taken_port_is_a_clear_config_error(tmp_path: Path) -> None:
    (tmp_path / "first").mkdir()
    async with _running(tmp_path / "first") as (_, url):
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        config = LiveConfig(
            symbols=("SPX",),
            journal=str(tmp_path / "second.sqlite"),
            dashboard=DashboardConfig(admin_token=Secret(ADMIN), port=port),
        )
        clock = LiveClock()
        broker = PaperBroker(clock=clock, fill_model=FillModel(), cash=1_000.0)
        feed = ReplayFeed(load_sample("SPX_1d").head(10), "1d")
        live = Live(Flipper(), feed, broker, config, clock=clock)
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            await live.run_async()
        assert live.manager.state.submitted == 0
