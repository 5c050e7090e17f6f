"""The venue's state in one SQLite file, so a restarted venue continues where it stopped.

Orders (with their working state and, for a DAY order, the session close that ends it), the
links between working orders (one-cancels-other pairs, a bracket's exits), fills, positions,
cash and the replay position are written in one transaction after every change,
before the change is published: a client never sees a fill the file does not hold.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

from quantstrata.core.errors import ConfigError
from quantstrata.exchange.engine import WorkingEntry
from quantstrata.model.codec import (
    fill_from_json,
    fill_to_json,
    iso,
    order_from_json,
    order_to_json,
    parse_time,
    position_to_json,
)
from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId
from quantstrata.model.orders import Order
from quantstrata.model.position import Position
from quantstrata.venue._codec import working_from_json, working_to_json
from quantstrata.venue.book import VenueBook

__all__ = ["VenueStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    client_order_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    body TEXT NOT NULL,
    working TEXT,
    session TEXT
);
CREATE TABLE IF NOT EXISTS fills (position INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (symbol TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS links (
    first TEXT PRIMARY KEY, second TEXT NOT NULL, bracket INTEGER NOT NULL
);
"""


class VenueStore:
    """Read and write one venue's state file (``path``; ``None`` keeps it in memory)."""

    def __init__(self, path: Path | None) -> None:
        """Open (and create) the file; WAL journaling keeps writes cheap and safe."""
        self.path = path
        target = ":memory:" if path is None else str(path)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the file; safe to call twice."""
        self._connection.close()

    def check_dataset(self, symbols: list[str], interval: str) -> None:
        """Remember what is replayed; refuse to continue a state file from other data."""
        wanted = json.dumps({"symbols": sorted(symbols), "interval": interval})
        row = self._connection.execute("SELECT value FROM meta WHERE key = 'dataset'").fetchone()
        if row is None:
            self._connection.execute("INSERT INTO meta VALUES ('dataset', ?)", (wanted,))
        elif row[0] != wanted:
            raise ConfigError(
                f"state file {self.path} belongs to a venue replaying {row[0]}, not {wanted}; "
                "use another --state file"
            )

    def load(self, book: VenueBook) -> datetime | None:
        """Restore ``book`` from the file; return the time of the last published bar."""
        connection = self._connection
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        if "cash" not in meta:
            return None
        fills = [
            fill_from_json(json.loads(body))
            for (body,) in connection.execute("SELECT body FROM fills ORDER BY position")
        ]
        trade_ids: dict[str, set[TradeId]] = {}
        for fill in fills:
            trade_ids.setdefault(fill.order_id, set()).add(fill.trade_id)
        orders: list[Order] = []
        working: list[WorkingEntry] = []
        rows = connection.execute("SELECT body, working, session FROM orders ORDER BY position")
        for body, state, expires in rows.fetchall():
            values = json.loads(body)
            held = frozenset(trade_ids.get(values["client_order_id"], ()))
            order = order_from_json(values, held)
            orders.append(order)
            if state is not None:
                closes = None if expires is None else parse_time(expires)
                working.append(
                    WorkingEntry(order.order_id, working_from_json(json.loads(state)), closes)
                )
        positions = []
        for symbol, body in connection.execute("SELECT symbol, body FROM positions"):
            values = json.loads(body)
            del values["symbol"]
            positions.append(Position(Symbol(symbol), **values))
        links = [
            (ClientOrderId(first), ClientOrderId(second), bool(bracket))
            for first, second, bracket in connection.execute("SELECT * FROM links")
        ]
        cash, number = float(meta["cash"]), int(meta["next_number"])
        balances = json.loads(meta.get("balances", "{}"))
        book.restore(cash, number, orders, fills, positions, working, links, balances)
        cursor = meta.get("cursor")
        return None if cursor is None else parse_time(cursor)

    def commit(self, book: VenueBook, cursor: datetime | None) -> None:
        """Write what changed in ``book`` since the last commit, and the replay position."""
        changes = book.changes
        working = {entry.order_id: entry for entry in book.exchange.working_entries()}
        connection = self._connection
        connection.execute("BEGIN")
        try:
            for order_id in changes.orders:
                order = book.orders[order_id]
                entry = working.get(order_id)
                connection.execute(
                    "INSERT INTO orders VALUES (?, "
                    "COALESCE((SELECT position FROM orders WHERE client_order_id = ?), "
                    "(SELECT COUNT(*) FROM orders)), ?, ?, ?) "
                    "ON CONFLICT(client_order_id) DO UPDATE SET body = excluded.body, "
                    "working = excluded.working, session = excluded.session",
                    (
                        order_id,
                        order_id,
                        json.dumps(order_to_json(order)),
                        None if entry is None else json.dumps(working_to_json(entry.state)),
                        None if entry is None or entry.expires is None else iso(entry.expires),
                    ),
                )
            start = len(book.fills) - len(changes.fills)
            for offset, fill in enumerate(changes.fills):
                connection.execute(
                    "INSERT INTO fills VALUES (?, ?)",
                    (start + offset, json.dumps(fill_to_json(fill))),
                )
            for symbol in {fill.symbol for fill in changes.fills}:
                body = json.dumps(position_to_json(book.position(symbol)))
                connection.execute(
                    "INSERT OR REPLACE INTO positions VALUES (?, ?)", (str(symbol), body)
                )
            if changes.links or changes.orders:
                connection.execute("DELETE FROM links")
                connection.executemany("INSERT INTO links VALUES (?, ?, ?)", book.links)
            meta = {
                "cash": repr(book.cash),
                "next_number": str(book.next_number),
                "balances": json.dumps(book.exchange.balances),
            }
            if cursor is not None:
                meta["cursor"] = iso(cursor)
            connection.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        changes.orders.clear()
        changes.fills.clear()
        changes.links = False
