"""The REST routes of the fake Alpaca: key check, faults, then Alpaca's endpoints.

:func:`route` answers one request with ``(status, JSON body or None, extra headers, delay)``;
the HTTP handler in :mod:`tests.kit.fake_alpaca` sends it (after ``delay`` seconds: the
stalled-create fault). Paths and shapes follow Alpaca's Trading API v2 and market data v2 as
``alpaca-py`` calls them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.kit import fake_alpaca_portfolio as portfolio
from tests.kit.fake_alpaca_account import AlpacaError, asset_id

if TYPE_CHECKING:
    from tests.kit.fake_alpaca import FakeAlpaca

__all__ = ["route"]

Answer = tuple[int, Any, dict[str, str], float]


def route(
    fake: FakeAlpaca,
    method: str,
    *,
    path: str,
    query: dict[str, str],
    body: Any,
    authorized: bool,
) -> Answer:
    """Answer one REST request."""
    if path == "/fake/ack" and method == "POST":
        from quantstrata.model.codec import parse_time

        fake.ack(parse_time(str((body or {}).get("ts"))))
        return 204, None, {}, 0.0
    if not authorized:
        return 401, {"code": 40110000, "message": "request is not authorized"}, {}, 0.0
    retry_after = fake.take_fault("429")
    if retry_after is not None:
        answer = {"code": 42910000, "message": "rate limit exceeded"}
        return 429, answer, {"Retry-After": str(retry_after)}, 0.0
    failure = fake.take_fault("5xx")
    if failure is None and path == "/v2/stocks/bars":
        failure = fake.take_fault("5xx-bars")
    if failure is not None:
        return failure, {"code": 50010000, "message": "internal server error occurred"}, {}, 0.0
    try:
        return _answer(fake, method, path, query, body)
    except AlpacaError as error:
        return error.status, {"code": error.code, "message": error.message}, {}, 0.0


def _answer(fake: FakeAlpaca, method: str, path: str, query: dict[str, str], body: Any) -> Answer:
    account = fake.account
    if path == "/v2/orders" and method == "POST":
        return _create(fake, body or {})
    if path.startswith("/v2/orders/") and method in ("PATCH", "DELETE"):
        order_id = path.removeprefix("/v2/orders/")
        with fake._lock:
            if method == "DELETE":
                fake.deliver(account.cancel(order_id))
                return 204, None, {}, 0.0
            order, updates = account.replace(order_id, body or {})
            fake.deliver(updates)
        return 200, order, {}, 0.0
    if path == "/v2/orders" and method == "DELETE":
        with fake._lock:
            answers, updates = account.cancel_all()
            fake.deliver(updates)
        return 207, answers, {}, 0.0
    if method != "GET":
        return 405, {"code": 40510000, "message": "method not allowed"}, {}, 0.0
    return 200, _read(fake, path, query), {}, 0.0


def _create(fake: FakeAlpaca, body: dict[str, Any]) -> Answer:
    refusal = fake.take_fault("refuse")
    if refusal is not None:
        raise refusal
    with fake._lock:
        order, updates = fake.account.submit(body)
        fake.deliver(updates)
    delay = fake.take_fault("stall") or 0.0
    if delay:
        fake.stalled.append(order["client_order_id"])
    return 200, order, {}, float(delay)


def _read(fake: FakeAlpaca, path: str, query: dict[str, str]) -> Any:
    account = fake.account
    if path == "/v2/account":
        return portfolio.account_json(account)
    if path == "/v2/orders":
        return account.list_orders(query)
    if path == "/v2/orders:by_client_order_id":
        return account.get_by_client_id(query.get("client_order_id", ""))
    if path.startswith("/v2/orders/"):
        return account.get(path.removeprefix("/v2/orders/"))
    if path == "/v2/positions":
        return portfolio.positions_json(account)
    if path.startswith("/v2/positions/"):
        return portfolio.position_json(account, path.removeprefix("/v2/positions/"))
    if path in ("/v2/account/activities", "/v2/account/activities/FILL"):
        types = query.get("activity_types", "FILL")
        return portfolio.fill_activities(account, query) if "FILL" in types.split(",") else []
    if path == "/v2/clock":
        return fake.clock()
    if path == "/v2/calendar":
        return fake.calendar(query)
    if path.startswith("/v2/assets/"):
        return _asset(fake, path.removeprefix("/v2/assets/"))
    if path == "/v2/stocks/bars":
        return fake.bars_page(query)
    raise AlpacaError(404, 40410000, f"endpoint not found: {path}")


def _asset(fake: FakeAlpaca, symbol: str) -> dict[str, Any]:
    if symbol not in fake.symbols:
        raise AlpacaError(404, 40410000, "asset not found")
    return {
        "id": asset_id(symbol),
        "class": "us_equity",
        "exchange": "NYSE",
        "symbol": symbol,
        "name": symbol,
        "status": "active",
        "tradable": True,
        "marginable": True,
        "shortable": fake.account.book.config.allow_short,
        "easy_to_borrow": True,
        "fractionable": True,
    }
