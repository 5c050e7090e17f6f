"""The live dashboard in headless Chromium while the runtime trades on the simulated venue.

The page must show fills as they happen (no reload), the kill switch must stop orders reaching
the venue (checked at the venue), reduce-only and resume must do what they say, a wrong token
must get nothing, and the read-only token must see the page but not move the switch. The
suite writes screenshots to ``build/screenshots/``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.kit.browser import PageRecord, open_page, screenshot_dir
from tests.kit.dashboard import ADMIN, VIEWER, RunningDashboard, live_dashboard

_WAIT = 20.0


@pytest.fixture
def run(tmp_path: Path) -> Iterator[RunningDashboard]:
    with live_dashboard(tmp_path) as running:
        yield running


def _until(condition: object, what: str, timeout: float = _WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not met in time: {what}")
        time.sleep(0.05)


def _bars_shown(record: PageRecord) -> int:
    return int(record.page.get_attribute("body", "data-bars") or 0)


def _wait_bars(record: PageRecord, count: int) -> None:
    start = _bars_shown(record)
    _until(lambda: _bars_shown(record) >= start + count, f"{count} more bars on the page")


def _shown_trades(record: PageRecord) -> list[str]:
    rows = record.page.locator("#fills tbody tr[data-trade-id]")
    return [rows.nth(i).get_attribute("data-trade-id") or "" for i in range(rows.count())]


def _clean(record: PageRecord, run: RunningDashboard) -> None:
    assert record.console_errors == []
    assert record.page_errors == []
    outside = [url for url in record.requests if not url.startswith(run.url)]
    assert outside == []


def test_page_shows_fills_as_they_happen(run: RunningDashboard) -> None:
    with open_page(run.url + "?token=" + ADMIN) as record:
        page = record.page
        page.wait_for_selector("#fills tbody tr[data-trade-id]", timeout=_WAIT * 1000)
        first = _shown_trades(record)
        _until(lambda: set(_shown_trades(record)) - set(first), "a new fill on the open page")
        shown = _shown_trades(record)
        assert page.url == run.url  # the token left the address bar
        at_venue = {fill["trade_id"] for fill in run.venue("/v1/fills")}
        assert set(shown) <= at_venue
        assert page.locator("#equity-line").count() == 1
        assert page.locator("#positions tbody tr").count() >= 1
        assert "SPX" in page.inner_text("#risk")
        assert page.inner_text("#role") == "admin"
        health = page.inner_text("#health")
        assert "feed SPX" in health
        assert "broker" in health
        assert "reconciler" in health
        _wait_bars(record, 5)
        page.screenshot(path=str(screenshot_dir() / "dashboard.png"), full_page=True)
    _clean(record, run)


def test_halt_stops_orders_at_the_venue_and_resume_restarts_them(run: RunningDashboard) -> None:
    with open_page(run.url + "?token=" + ADMIN) as record:
        page = record.page
        page.wait_for_selector("#fills tbody tr[data-trade-id]", timeout=_WAIT * 1000)
        page.fill("#control-reason", "browser test halt")
        page.check("#cancel-open")
        page.click("button[data-action=halt]")
        _until(lambda: page.inner_text("#global-state") == "halted", "the page shows halted")
        _until(
            lambda: "working orders cancelled" in page.inner_text("#control-result"),
            "the page reports the cancels",
        )
        _wait_bars(record, 2)  # an order already past the checks may still land
        sent = len(run.venue_orders())
        _wait_bars(record, 20)  # the strategy flips every 3 bars: it wants ~6 orders
        assert len(run.venue_orders()) == sent
        assert run.venue("/v1/orders", status="open") == []
        assert int(page.inner_text("#kpi-rejections").replace(",", "")) > 0
        assert "kill switch: halt all symbols" in page.inner_text("#alerts")
        page.screenshot(path=str(screenshot_dir() / "dashboard-halted.png"), full_page=True)
        page.click("button[data-action=resume]")
        _until(lambda: page.inner_text("#global-state") == "active", "the page shows active")
        _until(lambda: len(run.venue_orders()) > sent, "orders reach the venue again")
    _clean(record, run)


def test_reduce_only_lets_only_reducing_orders_through(run: RunningDashboard) -> None:
    with open_page(run.url + "?token=" + ADMIN) as record:
        page = record.page
        page.wait_for_selector("#fills tbody tr[data-trade-id]", timeout=_WAIT * 1000)
        page.click("#risk tr[data-symbol=SPX] button[data-symbol-action=reduce-only]")
        _until(
            lambda: "reducing" in page.inner_text("#risk tr[data-symbol=SPX]"),
            "the page shows SPX reducing",
        )
        _wait_bars(record, 2)
        before = len(run.venue_orders())
        _wait_bars(record, 20)
        later = run.venue_orders()[before:]
        assert all(order["side"] == "sell" for order in later)
        assert sum(order["side"] == "sell" for order in later) <= 1  # long -> flat, once
        _until(lambda: run.venue("/v1/account")["positions"].get("SPX", 0.0) == 0.0, "flat")
        page.click("#risk tr[data-symbol=SPX] button[data-symbol-action=resume]")
        _until(
            lambda: any(order["side"] == "buy" for order in run.venue_orders()[before:]),
            "buys reach the venue after resume",
        )
    _clean(record, run)


def test_wrong_token_gets_nothing(run: RunningDashboard) -> None:
    wrong = {"Authorization": "Bearer not-the-token"}
    base = run.url
    with httpx.Client(base_url=base, timeout=10) as client:
        for path in ("", "?token=not-the-token", "api/snapshot", "static/dashboard.js"):
            answer = client.get(base + path, headers=wrong)
            assert answer.status_code == 401, path
            assert "SPX" not in answer.text
            assert "set-cookie" not in answer.headers
        assert client.get(base + "api/snapshot").status_code == 401
        events = client.get(base + "api/events", headers=wrong)
        assert events.status_code == 401
    with httpx.Client(cookies={"quantstrata_dashboard": "forged"}, timeout=10) as forging:
        assert forging.get(base + "api/snapshot").status_code == 401
        assert forging.get(base).status_code == 401
    with httpx.Client(timeout=10) as client:
        halt = client.post(
            base + "api/trading-state",
            json={"action": "halt"},
            headers={**wrong, "X-Quantstrata-Dashboard": "1"},
        )
        assert halt.status_code == 401
    assert run.snapshot()["risk"]["global"] == "active"
    with open_page(base + "?token=not-the-token") as record:
        page = record.page
        assert "Wrong token" in page.inner_text("body")
        assert page.locator("#fills").count() == 0
        requested = {url.removeprefix(base) for url in record.requests}
        assert requested == {"?token=not-the-token"}


def test_read_only_token_sees_the_page_but_not_the_switch(run: RunningDashboard) -> None:
    with open_page(run.url + "?token=" + VIEWER) as record:
        page = record.page
        page.wait_for_selector("#fills tbody tr[data-trade-id]", timeout=_WAIT * 1000)
        assert page.inner_text("#role") == "viewer"
        assert page.is_visible("#read-only")
        assert page.is_disabled("button[data-action=halt]")
        assert page.is_disabled("#risk tr[data-symbol=SPX] button[data-symbol-action=halt]")
        status = page.evaluate(
            """() => fetch('/api/trading-state', {method: 'POST',
                 headers: {'Content-Type': 'application/json', 'X-Quantstrata-Dashboard': '1'},
                 body: JSON.stringify({action: 'halt'})}).then(r => r.status)"""
        )
        assert status == 403
        sent = len(run.venue_orders())
        _until(lambda: len(run.venue_orders()) > sent, "orders still reach the venue")
        assert page.inner_text("#global-state") == "active"
        page.screenshot(path=str(screenshot_dir() / "dashboard-viewer.png"), full_page=True)
    assert [error for error in record.console_errors if "403" not in error] == []
    record.console_errors.clear()  # the refused request above logs its 403
    _clean(record, run)
