"""One client connection of the fake TWS: the handshake, then each request and its answers.

The account lives in :class:`~tests.kit.fake_tws.FakeTws`; a :class:`Session` reads the
client's messages (:mod:`tests.kit.tws_protocol`), answers the requests that only read, and
hands orders and cancels to the fake. Every method runs on the fake's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import polars as pl

from quantstrata.model.bar import BAR_COLUMNS, BAR_SCHEMA, Bar
from quantstrata.model.identifiers import Symbol
from quantstrata.model.interval import Interval
from quantstrata.process.resample import resample
from tests.kit.tws_protocol import SERVER_VERSION, Decoder, In, Out, PlaceOrder, frame

if TYPE_CHECKING:
    from tests.kit.fake_tws import FakeTws

__all__ = ["Session"]

_SIZE_UNITS = {"secs": "s", "min": "m", "mins": "m", "hour": "h", "hours": "h", "day": "d"}
_UNITS = {"S": 1, "D": 86_400, "W": 7 * 86_400, "M": 31 * 86_400, "Y": 366 * 86_400}


class Session:
    """A client connected to the fake; ``client_id`` is known once it starts the API."""

    def __init__(
        self, tws: FakeTws, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.tws = tws
        self.reader = reader
        self.writer = writer
        self.client_id = -1
        self.ready = False
        self.realtime: dict[int, str] = {}  # request id -> symbol
        self._decoder = Decoder()
        self._greeted = False
        self._handlers: dict[int, Callable[[list[str]], None]] = {
            Out.START_API: self._start_api,
            Out.PLACE_ORDER: lambda f: self.tws.place(self, PlaceOrder.parse(f)),
            Out.CANCEL_ORDER: lambda f: self.tws.cancel(self, int(f[2])),
            Out.REQ_OPEN_ORDERS: lambda f: self._open_orders(self.client_id),
            Out.REQ_ALL_OPEN_ORDERS: lambda f: self._open_orders(None),
            Out.REQ_COMPLETED_ORDERS: self._completed_orders,
            Out.REQ_EXECUTIONS: self._executions,
            Out.REQ_IDS: lambda f: self._next_id(),
            Out.REQ_CONTRACT_DATA: self._contract_details,
            Out.REQ_POSITIONS: self._positions,
            Out.REQ_ACCOUNT_UPDATES: self._account_updates,
            Out.REQ_ACCOUNT_UPDATES_MULTI: self._account_updates_multi,
            Out.REQ_CURRENT_TIME: lambda f: self.send(
                [In.CURRENT_TIME, 1, int(self.tws.now.timestamp())]
            ),
            Out.REQ_HISTORICAL_DATA: self._historical,
            Out.REQ_REAL_TIME_BARS: self._subscribe,
            Out.CANCEL_REAL_TIME_BARS: lambda f: self.realtime.pop(int(f[2]), None),
        }

    # -- transport ------------------------------------------------------------------------------

    async def serve(self) -> None:
        """Read messages until the client leaves or the fake drops the connection."""
        while True:
            try:
                data = await self.reader.read(65536)
            except (ConnectionError, OSError):
                return
            if not data:
                return
            for fields in self._decoder.feed(data):
                if not self._greeted:
                    self._greeted = True
                    moment = self.tws.now.strftime("%Y%m%d %H:%M:%S")
                    self.send([SERVER_VERSION, f"{moment} UTC"])
                    continue
                self.tws.received.append(fields)
                handler = self._handlers.get(int(fields[0]))
                if handler is not None:
                    handler(fields)

    def send(self, fields: list[object]) -> None:
        """Write one message to the client (dropped when the socket is closing)."""
        if not self.writer.is_closing():
            self.writer.write(frame(fields))

    def error(self, request_id: int, code: int, text: str) -> None:
        """Send IB's error message ``code`` (version 2, no advanced-reject JSON)."""
        self.send([In.ERR_MSG, 2, request_id, code, text, ""])

    def close(self) -> None:
        """Drop the connection."""
        self.ready = False
        with contextlib.suppress(Exception):
            self.writer.close()

    # -- requests -------------------------------------------------------------------------------

    def _start_api(self, fields: list[str]) -> None:
        client_id = int(fields[2])
        if any(s.ready and s.client_id == client_id for s in self.tws.sessions if s is not self):
            self.error(-1, 326, "Unable to connect as the client id is already in use.")
            self.close()
            return
        self.client_id = client_id
        self.ready = True
        self._next_id()
        self.send([In.MANAGED_ACCTS, 1, "DU1234567"])

    def _next_id(self) -> None:
        self.send([In.NEXT_VALID_ID, 1, self.tws.next_ids.get(self.client_id, 1)])

    def _open_orders(self, client_id: int | None) -> None:
        for order in self.tws.open_orders(client_id):
            self.send(order.view().open_order())
            self.send(order.status_message())
        self.send([In.OPEN_ORDER_END, 1])

    def _completed_orders(self, fields: list[str]) -> None:
        for order in self.tws.completed_orders():
            self.send(order.view().completed_order(order.filled))
        self.send([In.COMPLETED_ORDERS_END])

    def _executions(self, fields: list[str]) -> None:
        request_id = int(fields[2])
        since = self.tws.at(fields[5]) if fields[5] else None
        symbol = fields[6]
        for execution in self.tws.executions:
            if since is not None and execution.fill.ts < since:
                continue
            if symbol and execution.order.contract.symbol != symbol:
                continue
            self.send(execution.message(request_id))
            if execution not in self.tws.held_commissions:
                self.send(execution.commission_message())
        self.send([In.EXECUTION_DATA_END, 1, request_id])

    def _contract_details(self, fields: list[str]) -> None:
        request_id, con_id, symbol = int(fields[2]), int(fields[3] or 0), fields[4]
        found = [
            contract
            for contract in self.tws.contracts.values()
            if (con_id and contract.con_id == con_id) or (not con_id and contract.symbol == symbol)
        ]
        if not found:
            self.error(request_id, 200, "No security definition has been found for the request")
            return
        for contract in found:
            self.send(contract.details(request_id))
        self.send([In.CONTRACT_DATA_END, 1, request_id])

    def _positions(self, fields: list[str]) -> None:
        for symbol, position in sorted(self.tws.book.positions.items()):
            contract = self.tws.contracts[symbol]
            self.send(
                [
                    In.POSITION_DATA,
                    3,
                    "DU1234567",
                    *contract.short(),
                    position.quantity,
                    position.average_price,
                ]
            )
        self.send([In.POSITION_END, 1])

    def _account_updates(self, fields: list[str]) -> None:
        if fields[2] != "1":
            return
        account = fields[3] or "DU1234567"
        for key, value, currency in self.tws.account_values():
            self.send([In.ACCT_VALUE, 2, key, value, currency, account])
        for symbol, position in sorted(self.tws.book.positions.items()):
            contract = self.tws.contracts[symbol]
            bar = self.tws.book.latest.get(symbol)
            mark = bar.close if bar is not None else position.average_price
            short = contract.short()
            short[7] = contract.primary_exchange
            quantity = position.quantity
            value = quantity * mark
            cost = quantity * position.average_price
            self.send(
                [
                    In.PORTFOLIO_VALUE,
                    8,
                    *short,
                    quantity,
                    mark,
                    value,
                    position.average_price,
                    value - cost,
                    0.0,
                    account,
                ]
            )
        self.send([In.ACCT_UPDATE_TIME, 1, self.tws.now.strftime("%H:%M")])
        self.send([In.ACCT_DOWNLOAD_END, 1, account])

    def _account_updates_multi(self, fields: list[str]) -> None:
        request_id, account, model = int(fields[2]), fields[3], fields[4]
        for key, value, currency in self.tws.account_values():
            self.send(
                [In.ACCOUNT_UPDATE_MULTI, 1, request_id, account, model, key, value, currency]
            )
        self.send([In.ACCOUNT_UPDATE_MULTI_END, 1, request_id])

    def _historical(self, fields: list[str]) -> None:
        """Answer ``REQ_HISTORICAL_DATA`` with the published bars in the asked window."""
        request_id, symbol = int(fields[1]), fields[3]
        if self.tws.pacing_violations > 0:
            self.tws.pacing_violations -= 1
            text = "Historical Market Data Service error message:"
            text += "Historical data request pacing violation"
            self.error(request_id, 162, text)
            return
        end_text, duration = fields[15], fields[17]
        end = self.tws.at(end_text) if end_text else datetime.max.replace(tzinfo=UTC)
        match = re.fullmatch(r"(\d+) ([SDWMY])", duration.strip())
        if match is None:
            self.error(request_id, 321, f"Error validating request: invalid duration {duration!r}")
            return
        start = (
            end - timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
            if end_text
            else None
        )
        bars = [
            bar
            for bar in self._sized(self.tws.published_bars(symbol), fields[16])
            if bar.ts <= end and (start is None or bar.ts >= start)
        ]
        daily = (
            self.tws.interval.duration >= timedelta(days=1) if self.tws.interval.is_fixed else True
        )
        message: list[object] = [In.HISTORICAL_DATA, request_id, "", "", len(bars)]
        for bar in bars:
            stamp = bar.ts.strftime("%Y%m%d") if daily else str(int(bar.ts.timestamp()))
            wap = (bar.high + bar.low + bar.close) / 3
            message += [stamp, bar.open, bar.high, bar.low, bar.close, bar.volume, wap, 1]
        self.send(message)

    def _sized(self, bars: list[Bar], size: str) -> list[Bar]:
        """Return ``bars`` at IB's bar size ``size`` (aggregated with the shared resampler)."""
        count, unit = size.split()
        wanted = Interval.parse(f"{count}{_SIZE_UNITS[unit]}")
        if wanted == self.tws.interval or not bars:
            return bars
        frame = pl.DataFrame([bar.as_row for bar in bars], schema=BAR_SCHEMA, orient="row")
        sized = resample(frame, wanted, source_interval=self.tws.interval)
        return [Bar(**row) for row in sized.select(BAR_COLUMNS).iter_rows(named=True)]

    def _subscribe(self, fields: list[str]) -> None:
        self.realtime[int(fields[2])] = fields[4]
        self.tws.subscribed.set()

    def publish_bars(self, bars: Mapping[Symbol, Bar]) -> None:
        """Send each subscribed symbol's bar as a real-time bar.

        The fake has no intrabar data: a bar of the replayed interval is sent as the 5-second
        bar of its interval's last slot (``ts + interval - 5 s``) carrying the bar's prices and
        volume, so a client building the interval from 5-second bars gets the bar itself.
        """
        for request_id, symbol in sorted(self.realtime.items()):
            bar = bars.get(Symbol(symbol))
            if bar is None:
                continue
            wap = (bar.high + bar.low + bar.close) / 3
            stamp = int(bar.ts.timestamp()) + self.tws.interval.seconds - 5
            self.send(
                [
                    In.REAL_TIME_BARS,
                    3,
                    request_id,
                    stamp,
                    bar.open,
                    bar.high,
                    bar.low,
                    bar.close,
                    bar.volume,
                    wap,
                    1,
                ]
            )
