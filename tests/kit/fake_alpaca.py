"""A fake Alpaca (Trading API v2, market data v2 and both streams) for the real ``alpaca-py``.

API, in short (every method is thread-safe)::

    with FakeAlpaca(load_sample("SPX_1d").head(60), published=20) as fake:
        trading = TradingClient(fake.key_id, fake.secret, paper=True, url_override=fake.url)
        stream = TradingStream(fake.key_id, fake.secret, url_override=fake.ws_url)
        history = StockHistoricalDataClient(fake.key_id, fake.secret, url_override=fake.data_url)
        bars = StockDataStream(fake.key_id, fake.secret, url_override=fake.data_ws_url)
        ...
        fake.publish_next_bar()     # fill working orders on the next bar time, then stream it
        fake.orders(), fake.positions(), fake.events, fake.requests

- Bars: a canonical bar frame (``ts`` = open time, UTC) replayed by bar time. ``published``
  bar times are out at the start (warm-up history over REST); :meth:`publish_next_bar`
  matches the working orders against the next bar time with the shared fill model (the
  simulated venue's :class:`~quantstrata.venue.book.VenueBook`), publishes the
  ``trade_updates`` it caused, then the bars (``T: "b"``). An order placed after bar *t* fills
  on bar *t + 1*, so a broker + feed run gets the backtest's fills. :meth:`start_replay` does
  it in a thread: in lockstep (each next bar only after :meth:`ack` of the last one, or
  ``POST /fake/ack {"ts": iso}`` from another process) or every ``pause`` seconds.
  :meth:`publish_updated_bar` sends the last bar again as an updated bar (``T: "u"``).
- REST: ``/v2/account``, ``/v2/orders`` (POST, GET list, DELETE all), ``/v2/orders/{id}``
  (GET, PATCH replace, DELETE), ``/v2/orders:by_client_order_id``, ``/v2/positions[/{sym}]``,
  ``/v2/account/activities[/FILL]``, ``/v2/clock``, ``/v2/calendar`` (the bars' dates),
  ``/v2/assets/{sym}`` and ``/v2/stocks/bars`` (``page_token`` paging, at most
  ``page_size`` bars a page). ``APCA-API-KEY-ID``/``APCA-API-SECRET-KEY`` are checked: 401
  ``{"code": 40110000}`` otherwise. Orders: :mod:`tests.kit.fake_alpaca_account`; account,
  positions, activities: :mod:`tests.kit.fake_alpaca_portfolio`; routes and faults:
  :mod:`tests.kit.fake_alpaca_routes`; streams: :mod:`tests.kit.fake_alpaca_stream`. SDK
  helpers (clients, streams in threads): :mod:`tests.kit.alpaca_sdk`.
- Faults, each for the next calls: :meth:`rate_limit` (429 + ``Retry-After``),
  :meth:`fail_next` (5xx), :meth:`stall_creates` (the order is accepted, the answer comes
  after the client's timeout), :meth:`refuse_next_create` (a typed 403/422 refusal);
  switches: :meth:`drop_streams`, :meth:`stall_streams` (connected, silent),
  ``duplicate_events``, ``reorder_events`` (each batch of events reversed),
  ``fill_before_new`` (an order's ``new`` only after its first fill).
- Records: :attr:`requests` (method, path, query, JSON body, status; never a header, so never
  a key), :attr:`events` (the ``trade_updates`` data sent, in order). The fake logs nothing.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import msgpack
import polars as pl

from quantstrata.model.bar import BAR_COLUMNS, Bar
from quantstrata.model.codec import iso
from quantstrata.model.identifiers import Symbol
from quantstrata.model.interval import Interval
from quantstrata.venue.config import VenueConfig
from tests.kit.fake_alpaca_account import AlpacaAccount, AlpacaError, Update
from tests.kit.fake_alpaca_routes import route
from tests.kit.fake_alpaca_stream import DATA, TRADING, AlpacaStreams

__all__ = ["DATA", "TRADING", "FakeAlpaca", "Request"]

_NEW_YORK = ZoneInfo("America/New_York")
_UNITS = {"m": "Min", "h": "Hour", "d": "Day", "w": "Week", "mo": "Month"}


@dataclass(frozen=True, slots=True)
class Request:
    """One REST request as the fake saw it (no headers: the key is never recorded)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # the answer's extra headers


class FakeAlpaca:
    """The server: REST and both WebSocket streams on ``127.0.0.1``, replaying ``bars``."""

    def __init__(
        self,
        bars: pl.DataFrame,
        *,
        interval: str = "1d",
        published: int = 0,
        config: VenueConfig | None = None,
        key_id: str = "PKFAKE0KEY0ID0000001",
        secret: str = "fake-secret-0123456789abcdefghijklmnop",
        page_size: int = 10_000,
    ) -> None:
        """Index the bars; publish the first ``published`` bar times silently (warm-up)."""
        self.interval = Interval.parse(interval)
        self.timeframe = f"{self.interval.count}{_UNITS[str(self.interval.unit)]}"
        self.bars = bars.select(BAR_COLUMNS).sort("ts", "symbol")
        self.symbols = sorted(self.bars["symbol"].unique().to_list())
        self.times: list[datetime] = []
        self.snapshots: list[dict[Symbol, Bar]] = []
        for frame in self.bars.partition_by("ts", maintain_order=True):
            now = [Bar(*row) for row in frame.iter_rows()]
            self.times.append(now[0].ts)
            self.snapshots.append({bar.symbol: bar for bar in now})
        length = self.interval.duration if self.interval.is_fixed else timedelta(0)
        config = config or VenueConfig()
        if config.calendar is None:  # Alpaca trades US equities: DAY orders end at XNYS closes
            config = config.model_copy(update={"calendar": "XNYS"})
        self.account = AlpacaAccount(config, self.symbols, length)
        self.key_id = key_id
        self.secret = secret
        self.page_size = page_size
        self.position = -1
        self.market_open = True
        self.requests: list[Request] = []
        self.events: list[dict[str, Any]] = []
        self.stalled: list[str] = []
        self.duplicate_events = False
        self.reorder_events = False
        self.fill_before_new = False
        self._held_new: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._acked = threading.Condition(self._lock)
        self._ack: datetime | None = None
        self._faults: dict[str, list[Any]] = {
            "429": [],
            "5xx": [],
            "5xx-bars": [],
            "stall": [],
            "refuse": [],
        }
        self._stop = threading.Event()
        self._replay: threading.Thread | None = None
        self.streams = AlpacaStreams(self.check_key)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        for _ in range(published):
            self._advance(publish=False)

    def __repr__(self) -> str:
        """Show where it serves and how far it replayed (never the key)."""
        return f"FakeAlpaca(url={self.url!r}, bars={self.position + 1}/{len(self.times)})"

    # -- lifecycle and addresses ---------------------------------------------------------------

    def __enter__(self) -> FakeAlpaca:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Serve REST and the streams in background threads."""
        self._thread.start()
        self.streams.start()

    def stop(self) -> None:
        """Stop the replay thread, close every connection and stop serving."""
        self._stop.set()
        with self._acked:
            self._acked.notify_all()
        if self._replay is not None:
            self._replay.join(timeout=5)
        self.streams.stop()
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        """The trading REST base URL (``TradingClient(url_override=...)``)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def data_url(self) -> str:
        """The market-data REST base URL (``StockHistoricalDataClient(url_override=...)``)."""
        return self.url

    @property
    def ws_url(self) -> str:
        """The trading stream URL (``TradingStream(url_override=...)``)."""
        return f"ws://127.0.0.1:{self.streams.port}/stream"

    @property
    def data_ws_url(self) -> str:
        """The IEX bar stream URL (``StockDataStream(url_override=...)``)."""
        return self.data_ws_url_for("iex")

    def data_ws_url_for(self, feed: str) -> str:
        """The bar stream URL of ``feed`` (``iex`` or ``sip``)."""
        return f"ws://127.0.0.1:{self.streams.port}/v2/{feed}"

    def check_key(self, key_id: str, secret: str) -> bool:
        """Return whether ``key_id`` and ``secret`` are this account's."""
        return key_id == self.key_id and secret == self.secret

    # -- replay --------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """The fake's time: the open time of the last published bar (the first before any)."""
        return self.times[max(self.position, 0)]

    @property
    def finished(self) -> bool:
        """Whether every bar time has been published."""
        return self.position + 1 >= len(self.times)

    def publish_next_bar(self) -> datetime | None:
        """Fill working orders on the next bar time, stream the updates then the bars."""
        return self._advance(publish=True)

    def _advance(self, *, publish: bool) -> datetime | None:
        with self._lock:
            if self.finished:
                return None
            index = self.position + 1
            updates = self.account.on_bars(self.snapshots[index], self.times[index])
            self.position = index
            self.deliver(updates)
            bars = [self.stream_bar(bar) for _, bar in sorted(self.snapshots[index].items())]
        if publish:
            self.streams.publish_bars(bars)
        return self.times[index]

    def publish_updated_bar(self, **changes: float) -> int:
        """Send the last published bars again as updated bars (``T: "u"``), with ``changes``."""
        with self._lock:
            snapshot = self.snapshots[self.position]
            bars = [
                {**self.stream_bar(bar), **changes, "T": "u"} for _, bar in sorted(snapshot.items())
            ]
        return self.streams.publish_bars(bars, channel="updatedBars")

    def ack(self, ts: datetime) -> None:
        """Note that the client handled the bars of ``ts`` (lockstep replay goes on)."""
        with self._acked:
            if self._ack is None or ts > self._ack:
                self._ack = ts
            self._acked.notify_all()

    def start_replay(
        self, *, lockstep: bool = True, pause: float = 0.0, ack_timeout: float = 30.0
    ) -> None:
        """Publish the remaining bars in a thread once a client subscribes to bars.

        ``lockstep``: each next bar only after :meth:`ack` of the last (or ``ack_timeout``
        seconds, after which the replay stops); else one bar every ``pause`` seconds.
        """
        self._replay = threading.Thread(
            target=self._run, args=(lockstep, pause, ack_timeout), daemon=True
        )
        self._replay.start()

    def _run(self, lockstep: bool, pause: float, ack_timeout: float) -> None:
        def subscribed() -> bool:
            return self._stop.is_set() or any(self.streams.bar_subscribers(s) for s in self.symbols)

        while not self.streams.wait_for(subscribed, 0.2):
            pass
        while not self._stop.is_set() and not self.finished:
            ts = self.publish_next_bar()
            if (lockstep and not self._wait_ack(ts, ack_timeout)) or self._stop.wait(pause):
                return

    def _wait_ack(self, ts: datetime | None, timeout: float) -> bool:
        def acked() -> bool:
            return self._stop.is_set() or (
                self._ack is not None and ts is not None and self._ack >= ts
            )

        with self._acked:
            return self._acked.wait_for(acked, timeout)

    def wait_replay(self, timeout: float) -> bool:
        """Wait until the replay thread published every bar; return whether it did."""
        if self._replay is None:
            return self.finished
        self._replay.join(timeout)
        return self.finished

    # -- faults --------------------------------------------------------------------------------

    def rate_limit(self, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` REST requests with 429 and ``Retry-After``."""
        with self._lock:
            self._faults["429"].extend([retry_after] * times)

    def fail_next(self, times: int = 1, status: int = 500, *, bars_only: bool = False) -> None:
        """Answer the next ``times`` REST requests with a server error ``status``.

        ``bars_only``: only requests of the historical bars endpoint (a feed's backfill).
        """
        with self._lock:
            self._faults["5xx-bars" if bars_only else "5xx"].extend([status] * times)

    def stall_creates(self, seconds: float, times: int = 1) -> None:
        """Accept the next ``times`` orders but answer each only after ``seconds``."""
        with self._lock:
            self._faults["stall"].extend([seconds] * times)

    def refuse_next_create(
        self, status: int = 403, code: int = 40310000, message: str = "insufficient buying power"
    ) -> None:
        """Refuse the next order with Alpaca's error (insufficient buying power, PDT, ...)."""
        with self._lock:
            self._faults["refuse"].append(AlpacaError(status, code, message))

    def take_fault(self, kind: str) -> Any:
        """Return the next pending fault of ``kind`` (``None`` when none)."""
        with self._lock:
            pending = self._faults[kind]
            return pending.pop(0) if pending else None

    def drop_streams(self, kind: str | None = None) -> int:
        """Close the open stream connections (``TRADING``, ``DATA`` or both)."""
        return self.streams.drop(kind)

    def stall_streams(self, kind: str | None = None) -> int:
        """Keep the open stream connections open, silent (new connections are served)."""
        return self.streams.stall(kind)

    # -- events --------------------------------------------------------------------------------

    def deliver(self, updates: list[Update]) -> None:
        """Send ``trade_updates`` for ``updates``, shaped by the event faults."""
        with self._lock:
            batch = [self._update_json(update) for update in updates]
            ready: list[dict[str, Any]] = []
            for data in batch:
                order_id = data["order"]["id"]
                if self.fill_before_new and data["event"] == "new":
                    self._held_new[order_id] = data
                    continue
                ready.append(data)
                held = self._held_new.pop(order_id, None)
                if held is not None:
                    ready.append(held)
            if self.reorder_events:
                ready.reverse()
            for data in ready:
                for _ in range(2 if self.duplicate_events else 1):
                    self.events.append(data)
                    self.streams.publish_trade_update(data)

    def _update_json(self, update: Update) -> dict[str, Any]:
        order = self.account.order_json(update.order_id)
        statuses = {"new": "new", "fill": "filled", "partial_fill": "partially_filled"}
        order["status"] = statuses.get(update.event, order["status"])
        data: dict[str, Any] = {"event": update.event, "timestamp": iso(update.ts), "order": order}
        if update.fill is not None:
            data.update(
                execution_id=_execution_id(str(update.fill.trade_id)),
                price=repr(update.fill.price),
                qty=repr(update.fill.quantity),
                position_qty=repr(update.position_qty),
            )
        return data

    # -- inspection ----------------------------------------------------------------------------

    def orders(self) -> list[dict[str, Any]]:
        """Return every order (legs too), oldest first, as ``GET /v2/orders/{id}`` shows it."""
        with self._lock:
            return [self.account.order_json(o, nested=False) for o in self.account.orders]

    def positions(self) -> dict[str, float]:
        """Return the open positions' signed quantities by symbol."""
        with self._lock:
            return {
                str(s): p.quantity for s, p in self.account.book.positions.items() if not p.is_flat
            }

    def fills(self) -> list[tuple[str, str, float, float, datetime]]:
        """Return every fill as (client order id, side, quantity, price, bar time)."""
        with self._lock:
            account = self.account
            return [
                (account.orders[str(f.order_id)].client_order_id, f.side.name.lower(),
                 f.quantity, f.price, f.ts)
                for f in account.book.fills
            ]  # fmt: skip

    # -- market data and calendar --------------------------------------------------------------

    def stream_bar(self, bar: Bar) -> dict[str, Any]:
        """Return ``bar`` as the bar stream sends it (``t`` a msgpack timestamp)."""
        return {
            "T": "b", "S": str(bar.symbol), "o": bar.open, "h": bar.high, "l": bar.low,
            "c": bar.close, "v": bar.volume, "t": msgpack.Timestamp.from_datetime(bar.ts),
            "n": 0, "vw": bar.close,
        }  # fmt: skip

    def bars_page(self, query: dict[str, str]) -> dict[str, Any]:
        """Answer ``GET /v2/stocks/bars`` over the published bars (inclusive start and end)."""
        if query.get("timeframe", self.timeframe) != self.timeframe:
            raise AlpacaError(422, 42210000, f"the fake serves timeframe {self.timeframe} only")
        symbols = [s for s in query.get("symbols", "").split(",") if s]
        with self._lock:
            if self.position < 0:
                return {"bars": {}, "next_page_token": None}
            frame = self.bars.filter(pl.col("ts") <= self.times[self.position])
        frame = frame.filter(pl.col("symbol").is_in(symbols))
        start, end = _moment(query.get("start")), _moment(query.get("end"))
        if start is not None:
            frame = frame.filter(pl.col("ts") >= start)
        if end is not None:
            frame = frame.filter(pl.col("ts") <= end)
        descending = query.get("sort") == "desc"
        frame = frame.sort(["symbol", "ts"], descending=[False, descending])
        token = query.get("page_token")
        if token:
            symbol, moment = base64.urlsafe_b64decode(token).decode().split("|")
            at = datetime.fromisoformat(moment)
            later = pl.col("ts") <= at if descending else pl.col("ts") >= at
            frame = frame.filter(
                (pl.col("symbol") > symbol) | ((pl.col("symbol") == symbol) & later)
            )
        size = min(int(query.get("limit") or 1000), 10_000, self.page_size)
        page, rest = frame.head(size), frame.slice(size, 1)
        answer: dict[str, list[dict[str, Any]]] = {}
        for row in page.iter_rows(named=True):
            answer.setdefault(row["symbol"], []).append(_rest_bar(row))
        next_token = None
        if not rest.is_empty():
            first = rest.row(0, named=True)
            text = f"{first['symbol']}|{first['ts'].isoformat()}"
            next_token = base64.urlsafe_b64encode(text.encode()).decode()
        return {"bars": answer, "next_page_token": next_token}

    def sessions(self) -> list[date]:
        """Return the trading days: the dates of the bars (UTC)."""
        return sorted({moment.date() for moment in self.times})

    def calendar(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """Answer ``GET /v2/calendar`` (the bars' dates, 09:30–16:00)."""
        start, end = query.get("start"), query.get("end")
        return [
            {"date": day.isoformat(), "open": "09:30", "close": "16:00",
             "session_open": "0400", "session_close": "2000",
             "settlement_date": (day + timedelta(days=1)).isoformat()}
            for day in self.sessions()
            if (start or "")[:10] <= day.isoformat() <= (end or "9999")[:10]
        ]  # fmt: skip

    def clock(self) -> dict[str, Any]:
        """Answer ``GET /v2/clock``: the replay time and :attr:`market_open`."""
        now = self.now
        days = [d for d in self.sessions() if d > now.date()] or [now.date() + timedelta(days=1)]
        return {
            "timestamp": iso(now),
            "is_open": self.market_open,
            "next_open": iso(_at(days[0], 9, 30)),
            "next_close": iso(_at(now.date() if self.market_open else days[0], 16, 0)),
        }


def _at(day: date, hour: int, minute: int) -> datetime:
    """Return ``hour:minute`` New York time on ``day``, in UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=_NEW_YORK).astimezone(UTC)


def _rest_bar(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "t": row["ts"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "o": row["open"], "h": row["high"], "l": row["low"], "c": row["close"],
        "v": row["volume"], "n": 0, "vw": row["close"],
    }  # fmt: skip


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _execution_id(trade_id: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-alpaca-execution:{trade_id}"))


def _handler_class(fake: FakeAlpaca) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            authorized = fake.check_key(
                self.headers.get("APCA-API-KEY-ID", ""), self.headers.get("APCA-API-SECRET-KEY", "")
            )
            status, answer, headers, delay = route(
                fake,
                method,
                path=unquote(parts.path),
                query=query,
                body=body,
                authorized=authorized,
            )
            with fake._lock:
                fake.requests.append(Request(method, parts.path, query, body, status, headers))
            if delay:
                time.sleep(delay)  # the stalled-create fault: answer after the client gave up
            content = b"" if answer is None else json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(content)
                self.wfile.flush()
            except OSError:
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            del format, args

    return Handler
