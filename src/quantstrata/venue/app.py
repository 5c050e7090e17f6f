"""The venue's HTTP and WebSocket API (FastAPI), every route behind the API key.

REST under ``/v1`` (orders, fills, positions, balances, klines, status, fault admin), the
stream at ``/v1/stream`` and the OpenAPI spec at ``/openapi.json``. The key travels in the
``X-API-Key`` header (or, for the stream only, in a first ``{"op": "auth"}`` message), is
compared in constant time and is never logged or echoed. Bad input is a 4xx naming the field.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from starlette.responses import Response as StarletteResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from quantstrata.core.secrets import Secret
from quantstrata.model.codec import fill_to_json, iso, parse_time, position_to_json
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.venue._hub import BARS, CHANNELS, StreamClient
from quantstrata.venue.config import FaultConfig
from quantstrata.venue.engine import Venue
from quantstrata.venue.schemas import (
    CLIENT_ORDER_ID_PATTERN,
    AccountOut,
    BalanceOut,
    BarOut,
    DroppedOut,
    ErrorOut,
    FillOut,
    LinkedOut,
    LinkOrders,
    OrderOut,
    PositionOut,
    StatusOut,
    SubmitOrder,
)

__all__ = ["API_KEY_HEADER", "create_venue_app"]

API_KEY_HEADER = "X-API-Key"
_AUTH_TIMEOUT = 5.0
_POLICY_VIOLATION = 1008
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "missing or wrong API key"},
    422: {"model": ErrorOut, "description": "invalid input; the message names the field"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such order or symbol"}
}
_KEY_SCHEME = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)
_MISSING_KEY = f"missing or wrong API key in header {API_KEY_HEADER}"


def _same_key(given: str | None, key: Secret) -> bool:
    if not given:
        return False
    return hmac.compare_digest(given.encode(), key.reveal().encode())


def create_venue_app(venue: Venue, key: Secret) -> FastAPI:
    """Build the API around ``venue``; the replay runs while the app is served."""

    async def require_key(given: Annotated[str | None, Depends(_KEY_SCHEME)]) -> None:
        if not _same_key(given, key):
            raise HTTPException(401, _MISSING_KEY)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        replay = asyncio.create_task(venue.run(), name="venue-replay")
        try:
            yield
        finally:
            replay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await replay

    app = FastAPI(
        title="quantstrata simulated venue",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    router = APIRouter(prefix="/v1", dependencies=[Depends(require_key)], responses=_ERRORS)
    _order_routes(router, venue)
    _account_routes(router, venue)
    _admin_routes(router, venue)
    app.include_router(router)

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require_key)])
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.middleware("http")
    async def key_first(
        request: Request, call_next: Callable[[Request], Awaitable[StarletteResponse]]
    ) -> StarletteResponse:
        # FastAPI reads and validates a body (400, 422) before route dependencies run: check the
        # key before that, so a request without it learns nothing about its body
        protected = request.url.path.startswith("/v1/") or request.url.path == "/openapi.json"
        if protected and not _same_key(request.headers.get(API_KEY_HEADER), key):
            return JSONResponse({"detail": _MISSING_KEY}, status_code=401)
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _describe(error)}, status_code=422)

    @app.websocket("/v1/stream")
    async def stream(socket: WebSocket) -> None:
        await _serve_stream(socket, venue, key)

    return app


def _describe(error: RequestValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem.get("loc", ())) or "request"
        parts.append(f"{where}: {problem.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


ClientId = Annotated[str, Path(pattern=CLIENT_ORDER_ID_PATTERN, description="client order id")]


def _order_routes(router: APIRouter, venue: Venue) -> None:
    @router.post(
        "/orders",
        status_code=201,
        response_model=OrderOut,
        responses={200: {"model": OrderOut, "description": "already known: the same order"}},
    )
    async def submit(body: SubmitOrder, response: Response) -> dict[str, Any]:
        """Submit an order; resubmitting a client order id returns that order (200)."""
        outcome = await venue.submit(ClientOrderId(body.client_order_id), body.to_request())
        if not outcome.created:
            response.status_code = 200
        return venue.order_json(outcome.order)

    @router.post("/orders/link", response_model=LinkedOut)
    async def link(body: LinkOrders) -> dict[str, bool]:
        """Link two working orders one-cancels-other (``bracket``: a bracket's exits).

        ``linked`` is false when either is not working alone (or, for a bracket's exits, they
        are not a stop-loss and a take-profit).
        """
        first, second = ClientOrderId(body.first), ClientOrderId(body.second)
        return {"linked": await venue.link(first, second, bracket=body.bracket)}

    @router.delete(
        "/orders/{client_order_id}",
        response_model=OrderOut,
        responses={**_NOT_FOUND, 409: {"model": ErrorOut, "description": "nothing to cancel"}},
    )
    async def cancel(client_order_id: ClientId) -> dict[str, Any]:
        """Cancel a working order; 409 when it already finished (filled, cancelled …)."""
        order_id = ClientOrderId(client_order_id)
        if order_id not in venue.book.orders:
            raise HTTPException(404, f"no order with client_order_id {client_order_id}")
        outcome = await venue.cancel(order_id)
        if not outcome.cancelled:
            raise HTTPException(409, outcome.reason)
        return venue.order_json(outcome.order)

    @router.get("/orders/{client_order_id}", response_model=OrderOut, responses=_NOT_FOUND)
    async def order_by_client_id(client_order_id: ClientId) -> dict[str, Any]:
        """Return one order by client order id."""
        order = venue.book.orders.get(ClientOrderId(client_order_id))
        if order is None:
            raise HTTPException(404, f"no order with client_order_id {client_order_id}")
        return venue.order_json(order)

    @router.get(
        "/orders/by-venue-id/{venue_order_id}", response_model=OrderOut, responses=_NOT_FOUND
    )
    async def order_by_venue_id(
        venue_order_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
    ) -> dict[str, Any]:
        """Return one order by the venue's order id."""
        orders = venue.book.orders.values()
        order = next((o for o in orders if o.venue_order_id == venue_order_id), None)
        if order is None:
            raise HTTPException(404, f"no order with venue_order_id {venue_order_id}")
        return venue.order_json(order)

    @router.get("/orders", response_model=list[OrderOut])
    async def orders(
        status: Annotated[str, Query(pattern="^(open|all)$")] = "open",
    ) -> list[dict[str, Any]]:
        """List the open (working) orders, oldest first; ``status=all`` lists every order."""
        chosen = venue.book.open_orders() if status == "open" else list(venue.book.orders.values())
        return [venue.order_json(order) for order in chosen]


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _account_routes(router: APIRouter, venue: Venue) -> None:
    @router.get("/fills", response_model=list[FillOut])
    async def fills(since: datetime | None = None) -> list[dict[str, Any]]:
        """List fills with ``ts >= since`` (all without it), oldest first (naive means UTC)."""
        lower = _as_utc(since)
        chosen = [f for f in venue.book.fills if lower is None or f.ts >= lower]
        return [fill_to_json(fill) for fill in chosen]

    @router.get("/positions", response_model=list[PositionOut])
    async def positions() -> list[dict[str, Any]]:
        """List the positions of every symbol traded, by symbol."""
        book = venue.book
        return [position_to_json(book.positions[symbol]) for symbol in sorted(book.positions)]

    @router.get("/balances", response_model=BalanceOut)
    async def balances() -> dict[str, Any]:
        """Return cash and equity at the venue's time."""
        return {"cash": venue.book.cash, "equity": venue.book.equity(), "as_of": iso(venue.now)}

    @router.get("/account", response_model=AccountOut)
    async def account() -> dict[str, Any]:
        """Return cash, equity and signed quantities by symbol in one read."""
        book = venue.book
        held = {str(symbol): position.quantity for symbol, position in book.positions.items()}
        return {
            "cash": book.cash,
            "equity": book.equity(),
            "positions": held,
            "as_of": iso(venue.now),
            "balances": book.exchange.balances,
        }

    @router.get("/klines", response_model=list[BarOut], responses=_NOT_FOUND)
    async def klines(
        symbol: Annotated[str | None, Query(max_length=64)] = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=1_000_000)] = 1_000,
    ) -> list[dict[str, Any]]:
        """Return bars replayed so far with ``start <= ts < end``: the last ``limit`` per symbol."""
        if symbol is not None and symbol not in venue.symbols:
            raise HTTPException(404, f"unknown symbol {symbol!r}; the venue has {venue.symbols}")
        frame = venue.klines(symbol, _as_utc(start), _as_utc(end), limit)
        return [{**row, "ts": iso(row["ts"])} for row in frame.iter_rows(named=True)]

    @router.get("/status", response_model=StatusOut)
    async def status() -> dict[str, Any]:
        """Return the replay's settings and progress."""
        return venue.status()


def _admin_routes(router: APIRouter, venue: Venue) -> None:
    @router.get("/admin/faults", response_model=FaultConfig)
    async def faults() -> FaultConfig:
        """Return the injected faults in force."""
        return venue.faults

    @router.put("/admin/faults", response_model=FaultConfig)
    async def set_faults(body: FaultConfig) -> FaultConfig:
        """Replace the injected faults (fields left out are off)."""
        venue.set_faults(body)
        return venue.faults

    @router.post("/admin/drop-streams", response_model=DroppedOut)
    async def drop_streams() -> dict[str, int]:
        """Close every WebSocket connection now, as a network failure would."""
        return {"dropped": await venue.hub.drop_all()}


async def _serve_stream(socket: WebSocket, venue: Venue, key: Secret) -> None:
    header = socket.headers.get(API_KEY_HEADER)
    if header is not None and not _same_key(header, key):
        await socket.close(code=_POLICY_VIOLATION, reason="wrong API key")
        return
    await socket.accept()
    if header is None and not await _authenticate(socket, key):
        await socket.close(code=_POLICY_VIOLATION, reason="missing or wrong API key")
        return
    client = venue.hub.add(socket)
    writer = asyncio.create_task(_write(socket, client))
    client.queue.put_nowait({"type": "ready", **venue.status()})
    try:
        while True:
            text = await socket.receive_text()
            await _handle(text, client, venue)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        await venue.hub.remove(client)
        client.queue.put_nowait(None)
        await writer


async def _authenticate(socket: WebSocket, key: Secret) -> bool:
    try:
        text = await asyncio.wait_for(socket.receive_text(), _AUTH_TIMEOUT)
        message = json.loads(text)
    except (TimeoutError, ValueError, WebSocketDisconnect, RuntimeError):
        return False
    if not isinstance(message, dict) or message.get("op") != "auth":
        return False
    given = message.get("key")
    return isinstance(given, str) and _same_key(given, key)


async def _write(socket: WebSocket, client: StreamClient) -> None:
    while True:
        message = await client.queue.get()
        if message is None:
            return
        try:
            await socket.send_json(message)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return


async def _handle(text: str, client: StreamClient, venue: Venue) -> None:
    """Act on one client message; a malformed one is counted and answered, never fatal."""
    try:
        problem = await _act(json.loads(text), client, venue)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        problem = str(error)
    if problem:
        client.malformed += 1
        client.queue.put_nowait({"type": "error", "message": f"malformed message: {problem}"})


async def _act(message: dict[str, Any], client: StreamClient, venue: Venue) -> str:
    operation = message["op"]
    if operation == "subscribe":
        channels = set(message.get("channels") or CHANNELS)
        if not channels <= CHANNELS:
            return f"unknown channels {sorted(channels - CHANNELS)}"
        await venue.hub.subscribe(client, channels)
        if BARS in channels and venue.position >= 0:
            client.queue.put_nowait(venue.bars_message())
        if BARS in channels and venue.finished:
            client.queue.put_nowait(venue.end_message())
    elif operation == "ack":
        await venue.hub.acknowledge(client, parse_time(str(message["ts"])))
    elif operation == "ping":
        client.queue.put_nowait({"type": "pong"})
    else:
        return f"unknown op {operation!r}"
    return ""
