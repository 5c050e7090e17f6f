"""The dashboard's HTTP API (FastAPI): the page, a JSON snapshot, a live event stream, controls.

- ``GET /`` the page (``?token=…`` once opens a session and redirects); without a valid token
  or session a 401 login form and no data.
- ``GET /static/<file>`` the page's script and style sheet (same check).
- ``GET /api/snapshot`` the runtime's state as JSON; ``GET /api/events`` the same pushed as
  server-sent events every ``push_interval`` seconds.
- ``POST /api/trading-state`` the kill switch (admin only; viewers get 403): halt,
  reduce-only or resume, for one symbol or all, applied by the runtime on its event loop.

Every answer forbids framing, sniffing and caching; the page's content security policy allows
nothing outside this server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from importlib import resources
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import StreamingResponse

from quantstrata.live.dashboard._auth import COOKIE, Role, Sessions
from quantstrata.live.dashboard._login import login_page
from quantstrata.live.dashboard.config import DashboardConfig
from quantstrata.live.dashboard.controls import ControlAction, ControlError, ControlQueue
from quantstrata.live.dashboard.view import RuntimeView

__all__ = ["CSRF_HEADER", "create_dashboard_app"]

CSRF_HEADER = "X-Quantstrata-Dashboard"
_STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
_KEEPALIVE_EVERY = 20
_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class ControlIn(BaseModel):
    """A kill-switch request from the page.

    The action, the symbol (``null``: all), why, and whether to cancel the working orders in
    scope too.
    """

    model_config = ConfigDict(extra="forbid")

    action: ControlAction
    symbol: str | None = Field(default=None, min_length=1, max_length=64)
    reason: str = Field(default="", max_length=200)
    cancel_open: bool = False


def create_dashboard_app(
    view: RuntimeView,
    controls: ControlQueue,
    config: DashboardConfig,
    closing: asyncio.Event,
) -> FastAPI:
    """Build the dashboard around ``view`` (reads) and ``controls`` (the kill switch)."""
    sessions = Sessions(config)
    files = _static_files()
    app = FastAPI(
        title="quantstrata live dashboard", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.sessions = sessions

    @app.middleware("http")
    async def secure(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.update(_HEADERS)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        parts = [
            f"{'.'.join(str(p) for p in problem.get('loc', ()))}: {problem.get('msg')}"
            for problem in error.errors()
        ]
        return JSONResponse({"detail": "invalid request: " + "; ".join(parts)}, 422)

    _page_routes(app, sessions, files)
    _api_routes(app, view, controls, config, closing)
    return app


def _page_routes(app: FastAPI, sessions: Sessions, files: dict[str, str]) -> None:
    @app.get("/", response_class=HTMLResponse)
    async def page(request: Request, token: str | None = None) -> Response:
        if token is not None:
            return _login(sessions, token)
        if sessions.role_of(request) is None:
            return login_page(failed=False)
        return HTMLResponse(files["index.html"], headers={"Content-Security-Policy": _PAGE_POLICY})

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        return _login(sessions, (form.get("token") or [""])[0])

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        sessions.close(request.cookies.get(COOKIE))
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/static/{name}")
    async def static(name: str, _: Annotated[Role, Depends(_caller)]) -> Response:
        if name not in _STATIC:
            raise HTTPException(404, f"no static file {name!r}")
        return Response(files[name], media_type=_STATIC[name])


def _api_routes(
    app: FastAPI,
    view: RuntimeView,
    controls: ControlQueue,
    config: DashboardConfig,
    closing: asyncio.Event,
) -> None:
    @app.get("/api/snapshot")
    async def snapshot(role: Annotated[Role, Depends(_caller)]) -> dict[str, Any]:
        return {**view.snapshot(), "role": role.value}

    @app.get("/api/events")
    async def events(request: Request, role: Annotated[Role, Depends(_caller)]) -> Response:
        stream = _events(view, role, config.push_interval, closing, request)
        return StreamingResponse(stream, media_type="text/event-stream")

    @app.post("/api/trading-state")
    async def trading_state(
        body: ControlIn, request: Request, role: Annotated[Role, Depends(_caller)]
    ) -> dict[str, Any]:
        if role is not Role.ADMIN:
            raise HTTPException(403, "this token is read-only; the kill switch needs the admin")
        if request.headers.get(CSRF_HEADER) != "1":
            raise HTTPException(403, f"missing header {CSRF_HEADER}: 1")
        if body.symbol is not None and body.symbol not in view.symbols:
            raise HTTPException(422, f"symbol: {body.symbol!r} is not traded in this run")
        reason = body.reason.strip() or "from the dashboard"
        try:
            outcome = await controls.ask(
                body.action, body.symbol, reason, cancel_open=body.cancel_open
            )
        except ControlError as error:
            raise HTTPException(503, str(error)) from None
        return {
            "action": body.action.value,
            "symbol": body.symbol,
            "state": outcome.state.value,
            "cancelled": outcome.cancelled,
        }


def _caller(request: Request) -> Role:
    """Return the caller's role; refuse (401) a missing or wrong token or session."""
    sessions: Sessions = request.app.state.sessions
    role = sessions.role_of(request)
    if role is None:
        raise HTTPException(401, "missing or wrong dashboard token", {"WWW-Authenticate": "Bearer"})
    return role


def _login(sessions: Sessions, token: str) -> Response:
    role = sessions.role_of_token(token)
    if role is None:
        return login_page(failed=True)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, sessions.open(role), httponly=True, samesite="strict", path="/")
    return response


async def _events(
    view: RuntimeView,
    role: Role,
    interval: float,
    closing: asyncio.Event,
    request: Request,
) -> AsyncIterator[str]:
    """Push a snapshot whenever it changed, a comment now and then to keep the line open."""
    last = ""
    quiet = 0
    yield "retry: 1000\n\n"
    while not closing.is_set() and not await request.is_disconnected():
        text = json.dumps({**view.snapshot(), "role": role.value}, allow_nan=False)
        if text != last:
            last, quiet = text, 0
            yield f"event: snapshot\ndata: {text}\n\n"
        else:
            quiet += 1
            if quiet % _KEEPALIVE_EVERY == 0:
                yield ": keepalive\n\n"
        try:
            await asyncio.wait_for(closing.wait(), timeout=interval)
        except TimeoutError:
            continue


def _static_files() -> dict[str, str]:
    folder = resources.files("quantstrata.live.dashboard") / "static"
    return {name: (folder / name).read_text(encoding="utf-8") for name in ("index.html", *_STATIC)}
