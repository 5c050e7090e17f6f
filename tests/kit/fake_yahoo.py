"""A fake Yahoo Finance serving recorded chart payloads, so yfinance's own code parses them.

Standard-library ``ThreadingHTTPServer`` on ``127.0.0.1`` port 0. :meth:`FakeYahoo.session`
returns quantstrata's :func:`~quantstrata.data.sources.yfinance_history.redirected_session`
for this server: every ``https://*.yahoo.com`` request lands here instead (the original host
travels in ``X-Original-Host``), so ``yfinance`` runs unchanged: the cookie (``fc.yahoo.com``),
the crumb (``/v1/test/getcrumb``) and the chart API (``/v8/finance/chart/<symbol>``). Chart
answers come from the recorded payloads in ``tests/kit/sample_sources/yahoo`` (daily for
``1d``/``1wk``/``1mo``, 5-minute otherwise), cut to ``[period1, period2)`` as Yahoo does.
Nothing reaches the internet.
"""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from yfinance.data import YfData

from quantstrata.data.sources.yfinance_history import redirected_session

__all__ = ["PAYLOADS", "FakeYahoo", "load_payload"]

PAYLOADS = Path(__file__).parent / "sample_sources" / "yahoo"
CRUMB = "fakeCrumb42"
_DAILY = frozenset({"1d", "5d", "1wk", "1mo", "3mo"})


def load_payload(name: str) -> dict[str, Any]:
    """Return a recorded chart payload (``GOOG_1d`` or ``GOOG_5m``)."""
    loaded: dict[str, Any] = json.loads((PAYLOADS / f"{name}_chart.json").read_text())
    return loaded


class FakeYahoo:
    """The server; use :meth:`session` as yfinance's session."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._payloads = {"daily": load_payload("GOOG_1d"), "intraday": load_payload("GOOG_5m")}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeYahoo:
        # yfinance memoises answers for past ranges per process (keyed by Yahoo's URL, not the
        # server that answered): forget them, so this server sees every request made to it.
        YfData.cache_get.cache_clear()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def session(self) -> requests.Session:
        """Return a ``requests`` session whose every request lands on this server."""
        session: requests.Session = redirected_session(self.url)
        return session

    @property
    def url(self) -> str:
        """Return the server's base URL (``--base-url`` of ``data fetch --provider yfinance``)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def chart_requests(self) -> list[dict[str, str]]:
        """Return the query parameters of every chart request, in order."""
        return [query for _, path, query in self.requests if path.startswith("/v8/finance/chart/")]

    def answer(self, host: str, path: str, query: dict[str, str]) -> tuple[int, str, str]:
        """Return status, content type and body for one request."""
        self.requests.append((host, path, query))
        if host.startswith("fc."):
            return 404, "text/html", "<html>not found</html>"
        if path == "/v1/test/getcrumb":
            return 200, "text/plain", CRUMB
        if path.startswith("/v8/finance/chart/"):
            kind = "daily" if query.get("interval", "1d") in _DAILY else "intraday"
            return 200, "application/json", json.dumps(self._chart(kind, query))
        return 404, "application/json", json.dumps({"finance": {"error": "not found"}})

    def _chart(self, kind: str, query: dict[str, str]) -> dict[str, Any]:
        payload = copy.deepcopy(self._payloads[kind])
        if "period1" not in query:
            return payload
        first, last = int(query["period1"]), int(query.get("period2", "9999999999"))
        result = payload["chart"]["result"][0]
        keep = [i for i, ts in enumerate(result["timestamp"]) if first <= ts < last]
        result["timestamp"] = [result["timestamp"][i] for i in keep]
        for group in result["indicators"].values():
            for series in group:
                for name, values in series.items():
                    series[name] = [values[i] for i in keep]
        return payload

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                host = self.headers.get("X-Original-Host", "")
                status, kind, body = fake.answer(host, parts.path, query)
                content = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                del format, args

        return Handler
