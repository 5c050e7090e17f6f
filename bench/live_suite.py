"""The live suite: journal appends per second, SQLite and PostgreSQL, at both durabilities.

Each append is one committed transaction (write-ahead: the order manager waits for it before
calling a broker). At ``durability="machine"`` each is flushed to disk, so the rate is bounded
by the storage's flush latency; at ``"process"`` (the default) order-flow entries are committed
without a flush (SQLite ``synchronous=NORMAL``, PostgreSQL ``synchronous_commit = off``). The
quantstrata side appends real journal entries (submissions, acknowledgements, fills) through
``SqliteJournal`` / ``PostgresJournal``, encoding each to lossless JSON. The peer side inserts
the same pre-encoded JSON text with the bare driver (``sqlite3`` with the same WAL and
``synchronous`` settings, ``psycopg`` in autocommit with the same ``synchronous_commit``): the
difference is our encoding and bookkeeping.

PostgreSQL: ``QUANTSTRATA_BENCH_DSN`` (default ``postgresql://postgres@127.0.0.1:5432/test``);
each run uses its own table, dropped when the worker exits.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import Side, Size, Suite, Task

__all__ = ["SUITE"]

APPENDS = 2_000
DSN = os.environ.get("QUANTSTRATA_BENCH_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def _entries(count: int) -> list[Any]:
    from quantstrata.model.identifiers import ClientOrderId, TradeId, VenueOrderId
    from quantstrata.model.orders import (
        Accepted,
        Fill,
        FillEvent,
        Liquidity,
        OrderRequest,
        OrderSide,
        Submitted,
    )

    start = datetime(2024, 1, 1, tzinfo=UTC)
    entries: list[Any] = []
    for index in range(count):
        order_id = ClientOrderId(f"bench-{index // 3 + 1}")
        ts = start + timedelta(milliseconds=index)
        step = index % 3
        if step == 0:
            entries.append(Submitted(order_id, ts, OrderRequest.limit("BTC/USDT", 0.125, 43_210.5)))
        elif step == 1:
            entries.append(Accepted(order_id, ts, VenueOrderId(f"V{index}")))
        else:
            fill = Fill(
                order_id,
                TradeId(f"T{index}"),
                "BTC/USDT",  # type: ignore[arg-type]
                OrderSide.BUY,
                0.125,
                43_210.5,
                0.054,
                ts,
                Liquidity.MAKER,
            )
            entries.append(FillEvent(fill))
    return entries


def _rows(size: Size) -> int:
    return size.rows(APPENDS, tiny=60)


# ------------------------------------------------------------------ SQLite


_SQLITE_SYNCHRONOUS = {"process": "NORMAL", "machine": "FULL"}
_POSTGRES_COMMIT = {"process": "off", "machine": "on"}


def _sqlite_setup(durability: str) -> Any:
    def setup(size: Size, workdir: Path) -> dict[str, Any]:
        return {
            "entries": _entries(_rows(size)),
            "workdir": workdir,
            "durability": durability,
            "runs": 0,
        }

    return setup


def _sqlite_quantstrata(context: dict[str, Any]) -> int:
    from quantstrata.live.journal import SqliteJournal

    context["runs"] += 1
    path = context["workdir"] / f"journal-{context['runs']}.sqlite"
    journal = SqliteJournal(path, durability=context["durability"])
    for entry in context["entries"]:
        journal.append(entry)
    last = journal.last_sequence
    journal.close()
    return last


def _encoded(context: dict[str, Any]) -> list[tuple[str, str | None, str, str]]:
    from quantstrata.live.journal import encode_entry

    if "encoded" not in context:
        context["encoded"] = [
            (
                type(e).__name__,
                str(getattr(e, "order_id", "")) or None,
                e.ts.isoformat(),
                encode_entry(e),
            )
            for e in context["entries"]
        ]
    return context["encoded"]  # type: ignore[no-any-return]


def _sqlite_peer_setup(durability: str) -> Any:
    def setup(size: Size, workdir: Path) -> dict[str, Any]:
        context = _sqlite_setup(durability)(size, workdir)
        _encoded(context)
        return context

    return setup


def _sqlite_peer(context: dict[str, Any]) -> int:
    context["runs"] += 1
    path = context["workdir"] / f"raw-{context['runs']}.sqlite"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={_SQLITE_SYNCHRONOUS[context['durability']]}")
    connection.execute(
        "CREATE TABLE journal (sequence INTEGER PRIMARY KEY, kind TEXT NOT NULL, "
        "order_id TEXT, ts TEXT NOT NULL, body TEXT NOT NULL)"
    )
    sequence = 0
    for kind, order_id, ts, body in context["encoded"]:
        sequence += 1
        connection.execute(
            "INSERT INTO journal VALUES (?, ?, ?, ?, ?)", (sequence, kind, order_id, ts, body)
        )
    connection.close()
    return sequence


def _digest(_context: Any, result: int) -> str:
    return f"{result} records"


# ------------------------------------------------------------------ PostgreSQL


def _postgres_setup(durability: str) -> Any:
    def setup(size: Size, _workdir: Path) -> dict[str, Any]:
        import psycopg

        context: dict[str, Any] = {
            "entries": _entries(_rows(size)),
            "tables": [],
            "durability": durability,
        }
        _encoded(context)

        def drop_tables() -> None:
            with psycopg.connect(DSN, autocommit=True) as connection:
                for table in context["tables"]:
                    connection.execute(f'DROP TABLE IF EXISTS "{table}"')

        atexit.register(drop_tables)
        return context

    return setup


def _new_table(context: dict[str, Any]) -> str:
    table = f"qs_bench_journal_{uuid.uuid4().hex[:12]}"
    context["tables"].append(table)
    return table


def _postgres_quantstrata(context: dict[str, Any]) -> int:
    from quantstrata.live.journal import PostgresJournal

    journal = PostgresJournal(DSN, table=_new_table(context), durability=context["durability"])
    for entry in context["entries"]:
        journal.append(entry)
    last = journal.last_sequence
    journal.close()
    return last


def _postgres_peer(context: dict[str, Any]) -> int:
    import psycopg

    table = _new_table(context)
    sequence = 0
    with psycopg.connect(DSN, autocommit=True) as connection:
        commit = _POSTGRES_COMMIT[context["durability"]]
        connection.execute(f"SET synchronous_commit TO {commit}")
        connection.execute(
            f'CREATE TABLE "{table}" (sequence BIGINT PRIMARY KEY, kind TEXT NOT NULL, '
            "order_id TEXT, ts TIMESTAMPTZ NOT NULL, body TEXT NOT NULL)"
        )
        for kind, order_id, ts, body in context["encoded"]:
            sequence += 1
            connection.execute(
                f'INSERT INTO "{table}" VALUES (%s, %s, %s, %s, %s)',
                (sequence, kind, order_id, ts, body),
            )
    return sequence


def _journal_task(backend: str, durability: str) -> Task:
    """Return the task appending to ``backend``'s journal at ``durability``, and its peer."""
    if backend == "sqlite":
        setting = f"WAL, synchronous={_SQLITE_SYNCHRONOUS[durability]}"
        ours = Side("quantstrata", _sqlite_setup(durability), _sqlite_quantstrata, digest=_digest)
        peer = Side(
            "sqlite3 (raw inserts)", _sqlite_peer_setup(durability), _sqlite_peer, digest=_digest
        )
    else:
        setting = f"synchronous_commit {_POSTGRES_COMMIT[durability]}"
        setup = _postgres_setup(durability)
        ours = Side("quantstrata", setup, _postgres_quantstrata, digest=_digest)
        peer = Side("psycopg (raw inserts)", setup, _postgres_peer, digest=_digest)
    return Task(
        name=f"journal_{backend}_{durability}",
        description=f"appends to the {backend} journal at durability={durability} ({setting}), "
        "one committed transaction each",
        rows=_rows,
        repeat=3,
        quantstrata=ours,
        peer=peer,
    )


SUITE = Suite(
    name="live",
    description="live execution: order-journal appends per second",
    peer="bare drivers (sqlite3, psycopg)",
    tasks=(
        _journal_task("sqlite", "process"),
        _journal_task("sqlite", "machine"),
        _journal_task("postgres", "process"),
        _journal_task("postgres", "machine"),
    ),
)
