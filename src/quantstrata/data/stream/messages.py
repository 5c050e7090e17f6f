"""TickDB WebSocket frames to typed events, without I/O.

Handles both trade shapes (one trade in ``data``, or a ``trades`` list), decimals as text,
error codes as int or string, and symbols pushed without their market suffix (``700`` for
``700.HK``). A frame that cannot be read raises :class:`MalformedFrame`; the caller counts and
skips it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

try:  # orjson parses several times faster; the standard library is the fallback
    from orjson import loads as _orjson_loads

    _loads: Callable[[str | bytes], Any] = _orjson_loads
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads

__all__ = [
    "Acknowledged",
    "Depth",
    "ErrorMessage",
    "Event",
    "MalformedFrame",
    "Pong",
    "Ticker",
    "Trade",
    "TradeFields",
    "decode_frame",
    "one_trade",
    "parse_frame",
    "parse_message",
]


class MalformedFrame(ValueError):  # noqa: N818 - a frame, not an error of ours
    """A frame that is not valid JSON of a known shape."""


class Trade(NamedTuple):
    """One trade; ``key`` identifies it for de-duplication (the id, else its fields).

    A named tuple rather than a frozen dataclass: it is built once per trade on the stream's hot
    path, and a tuple is several times cheaper to build.
    """

    symbol: str
    timestamp_ms: int
    price: float
    quantity: float
    key: object


@dataclass(frozen=True, slots=True)
class Ticker:
    """A last-price update."""

    symbol: str
    timestamp_ms: int
    last_price: float


@dataclass(frozen=True, slots=True)
class Depth:
    """An order-book snapshot (counted and passed on; no bars are built from it)."""

    symbol: str
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class Pong:
    """The answer to ``{"cmd":"ping"}``."""


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """A successful (un)subscribe answer; ``symbols`` empty when the server did not list them."""

    command: str
    channel: str | None
    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ErrorMessage:
    """A frame with a non-zero ``code``; ``retry_after`` in seconds when the server gave one."""

    command: str | None
    code: int
    message: str
    retry_after: float | None


Event = Trade | Ticker | Depth | Pong | Acknowledged | ErrorMessage


TradeFields = tuple[str, int, float, float, object]
"""A trade's fields in :class:`Trade` order, as a plain tuple (cheaper to build)."""


def parse_frame(text: str | bytes) -> list[Event]:
    """Return the events in one frame; raise :class:`MalformedFrame` if it cannot be read."""
    return parse_message(decode_frame(text))


def decode_frame(text: str | bytes) -> Any:
    """Return the frame's JSON value; raise :class:`MalformedFrame` if it is not JSON."""
    try:
        return _loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedFrame("frame is not JSON") from error


def parse_message(message: Any) -> list[Event]:
    """Return the events in a decoded frame; raise :class:`MalformedFrame` if it is unreadable."""
    if not isinstance(message, dict):
        raise MalformedFrame("frame is not a JSON object")
    command = message.get("cmd")
    data = message.get("data")
    try:
        if command == "trade":
            return _trades(data)
        code = _code(message.get("code", 0))
        if code != 0:
            return [_error(message, code)]
        return [_other(command, data)]
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise MalformedFrame(f"unreadable {command!r} frame") from error


def one_trade(message: Any) -> TradeFields | None:
    """Return the trade of a plain one-trade frame, else ``None`` (then use :func:`parse_message`).

    The stream's hot path. It accepts only frames :func:`parse_message` reads as exactly this
    one trade (text or integer id, or text side when there is no id) and refuses everything
    else, malformed or not, so the general path decides those.
    """
    if type(message) is not dict or message.get("cmd") != "trade":
        return None
    data = message.get("data")
    if type(data) is not dict:
        return None
    rows = data.get("trades")
    if rows is None:
        row = data
    elif type(rows) is list and len(rows) == 1:
        row = rows[0]
        if type(row) is not dict:
            return None
    else:
        return None
    symbol, timestamp = data.get("symbol"), row.get("timestamp")
    if type(symbol) is not str or type(timestamp) is not int:
        return None
    try:
        price, quantity = float(row["price"]), float(row["quantity"])
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    if not price > 0 or not quantity >= 0:
        return None
    key = row.get("id")
    if key is None:
        side = row.get("side")
        if side is not None and type(side) is not str:
            return None
        key = (timestamp, price, quantity, side)
    elif type(key) is not str and type(key) is not int:
        return None
    return symbol, timestamp, price, quantity, key


def _trades(data: Any) -> list[Event]:
    symbol = data["symbol"]
    if type(symbol) is not str:
        raise TypeError("symbol is not text")
    rows = data.get("trades")
    if rows is None:
        return [_trade(symbol, data)]
    if type(rows) is not list:
        raise TypeError("trades is not a list")
    if len(rows) == 1:  # the usual frame: one trade
        return [_trade(symbol, rows[0])]
    return [_trade(symbol, row) for row in rows]


def _trade(symbol: str, row: Mapping[str, object]) -> Trade:
    timestamp = row["timestamp"]
    if type(timestamp) is not int:
        raise TypeError("timestamp is not an integer")
    price = float(row["price"])  # type: ignore[arg-type]
    quantity = float(row["quantity"])  # type: ignore[arg-type]
    if not price > 0 or not quantity >= 0:
        raise ValueError("price or quantity out of range")
    identifier = row.get("id")
    key = identifier if identifier is not None else (timestamp, price, quantity, row.get("side"))
    hash(key)  # an unhashable id or side (a list, an object) is a malformed frame: TypeError
    return Trade(symbol, timestamp, price, quantity, key)


def _other(command: object, data: object) -> Event:
    if command == "pong":
        return Pong()
    if command in {"subscribe", "unsubscribe"}:
        channel = data.get("channel") if isinstance(data, dict) else None
        symbols = data.get("symbols") if isinstance(data, dict) else None
        return Acknowledged(
            str(command),
            str(channel) if channel is not None else None,
            tuple(str(symbol) for symbol in symbols) if isinstance(symbols, list) else (),
        )
    if command == "ticker" and isinstance(data, dict):
        return Ticker(str(data["symbol"]), int(data["timestamp"]), float(data["last_price"]))
    if command == "depth" and isinstance(data, dict):
        return Depth(str(data["symbol"]), int(data["timestamp"]))
    raise ValueError(f"unknown command {command!r}")


def _code(value: object) -> int:
    if isinstance(value, bool):
        raise TypeError("code is a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value.strip())
    raise TypeError("code is neither an integer nor text")


def _error(message: Mapping[str, object], code: int) -> ErrorMessage:
    data = message.get("data")
    retry_after: object = message.get("retry_after")
    if retry_after is None and isinstance(data, dict):
        retry_after = data.get("retry_after")
    try:
        wait = float(retry_after) if retry_after is not None else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        wait = None
    command = message.get("cmd")
    return ErrorMessage(
        str(command) if command is not None else None,
        code,
        str(message.get("message", ""))[:200],
        wait,
    )
