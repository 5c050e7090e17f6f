"""The crash tests' kit: ``quantstrata live`` as a process, SIGKILL, its progress, the checks.

Shared by the crash tests on the simulated venue and on the fake Alpaca: each starts the live
command as its own process on one journal, waits on a condition (never a sleep) until the
process got a random number of bars into its life, kills it with SIGKILL, restarts it, and at
the end folds the journal and compares it with the venue's books.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from quantstrata.live.journal import BarHandled, SqliteJournal, decode_entry
from quantstrata.live.state import LiveState

__all__ = [
    "KILLS_VARIABLE",
    "CrashVenue",
    "JournalWatch",
    "assert_never_beyond_all_in",
    "crash_kills",
    "fold_twice",
    "kill",
    "kill_after_send",
    "spawn_live",
    "trade_with_kills",
    "wait_for_progress",
]

KILLS_VARIABLE = "QUANTSTRATA_CRASH_KILLS"
"""How many kills a crash test plays (20 in ``make test``, 50 in ``make bench``)."""


def crash_kills(default: int = 20) -> int:
    """Return how many kills to play: ``$QUANTSTRATA_CRASH_KILLS`` or ``default``."""
    return int(os.environ.get(KILLS_VARIABLE, str(default)))


def spawn_live(
    arguments: Sequence[str], environment: Mapping[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """Start ``quantstrata live <arguments>`` with ``environment`` added, appending to ``log``."""
    command = [
        sys.executable, "-c", "from quantstrata.cli.app import main; raise SystemExit(main())",
        "live", *arguments,
    ]  # fmt: skip
    with log.open("ab") as output:
        return subprocess.Popen(
            command, env={**os.environ, **environment}, stdout=output, stderr=output
        )


def wait_for_progress(
    condition: Callable[[], bool], process: subprocess.Popen[bytes], timeout: float = 60.0
) -> bool:
    """Wait until ``condition()`` holds; False when the process ended first.

    Raises when neither happened within ``timeout`` seconds (the process made no progress).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if condition():
            return True
        time.sleep(0.005)  # a polling interval, not a synchronisation: the loop waits on state
    raise AssertionError(f"the live process made no progress in {timeout:.0f} s")


def kill(process: subprocess.Popen[bytes]) -> None:
    """Kill ``process`` with SIGKILL (no handler, no flush, no goodbye) and reap it."""
    process.send_signal(signal.SIGKILL)
    process.wait()


class JournalWatch:
    """Follow a SQLite journal another process writes: the last bar time it handled.

    Reads new rows only (by sequence) through a read-only connection per look, so the writer
    is never blocked and a journal that does not exist yet reads as nothing handled.
    """

    def __init__(self, path: Path) -> None:
        """Watch the journal at ``path`` (it may not exist yet)."""
        self.path = path
        self.sequence = 0
        self.last_bar: datetime | None = None

    def handled(self, ts: datetime) -> bool:
        """Return whether the journal records the bars of ``ts`` (or a later time) handled."""
        self._read()
        return self.last_bar is not None and self.last_bar >= ts

    def _read(self) -> None:
        if not self.path.exists():
            return
        with sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True) as raw:
            created = raw.execute("SELECT 1 FROM sqlite_master WHERE name = 'journal'").fetchone()
            rows = [] if created is None else raw.execute(
                "SELECT sequence, body FROM journal WHERE sequence > ? ORDER BY sequence",
                (self.sequence,),
            ).fetchall()  # fmt: skip
        raw.close()
        for sequence, body in rows:
            entry = decode_entry(body)
            if isinstance(entry, BarHandled):
                self.last_bar = entry.ts
            self.sequence = sequence


def fold_twice(journal: Path) -> LiveState:
    """Return the journal's state; folding it a second time must give the same state."""
    store = SqliteJournal(journal)
    try:
        state = LiveState.fold(store.replay())
        again = LiveState.fold(store.replay())
    finally:
        store.close()
    assert state == again
    return state


def assert_never_beyond_all_in(fills: Iterable[tuple[float, float, float]], cash: float) -> None:
    """Assert a long-only all-in strategy never held more than its equity buys: no decision twice.

    ``fills`` are (signed quantity, price, commission) in the venue's order; ``cash`` the
    account's starting cash. A duplicated order would push the position past the target.
    """
    position = 0.0
    for signed, price, commission in fills:
        position += signed
        cash -= signed * price + commission
        assert 0.0 <= position * price <= 1.01 * (cash + position * price)


@dataclass(frozen=True)
class CrashVenue:
    """What a crash test drives: the live process, the fake venue's replay, and its faults.

    ``spawn`` starts one life; ``publish`` sends the next bar time (``None`` when the replay
    ended); ``subscribed`` says a life listens to bars; ``kill_in_flight`` kills a life while
    an order of it is unanswered; ``settle`` runs before each life (the last one's traces gone).
    """

    spawn: Callable[[], subprocess.Popen[bytes]]
    publish: Callable[[], datetime | None]
    subscribed: Callable[[], bool]
    kill_in_flight: Callable[[subprocess.Popen[bytes], JournalWatch], None]
    settle: Callable[[], None] = lambda: None


def kill_after_send(
    publish: Callable[[], datetime | None],
    sent: Callable[[], int],
    process: subprocess.Popen[bytes],
    watch: JournalWatch,
) -> None:
    """Publish bars until one makes the process send an order (``sent`` grows); kill it then."""
    while (ts := publish()) is not None:
        before = sent()

        def ordered(before: int = before) -> bool:
            return sent() > before

        def moved_on(ts: datetime = ts) -> bool:
            return ordered() or watch.handled(ts)

        if wait_for_progress(moved_on, process) and ordered():
            break
    kill(process)


def trade_with_kills(
    venue: CrashVenue, journal: Path, log: Path, *, kills: int, life: int, bars: int
) -> int:
    """Run the live process until the replay ends, killing it ``kills`` times; return them.

    The bars go in lockstep with the journal (the next only once the last is handled). Each
    life handles a random number of bars up to ``life``; then every other kill strikes at a
    random moment of a bar's handling, the others while an order is unanswered. The last life
    stops on SIGINT and must exit 0.
    """
    watch, chance = JournalWatch(journal), random.Random(20_261_207)
    done, process = 0, None
    try:
        while True:
            venue.settle()
            process = venue.spawn()
            # a bar out before the life subscribed would be its warm-up, never traded
            assert wait_for_progress(venue.subscribed, process), log.read_text()[-3000:]
            for _ in range(chance.randint(1, life) if done < kills else bars):
                ts = venue.publish()
                if ts is None:
                    break
                handled = wait_for_progress(partial(watch.handled, ts), process)
                assert handled, log.read_text()[-3000:]
            if done == kills:
                process.send_signal(signal.SIGINT)
                assert process.wait(timeout=60) == 0, log.read_text()[-3000:]
                return done
            if done % 2:
                venue.kill_in_flight(process, watch)
            else:
                venue.publish()  # killed while it handles this one, at a random moment
                time.sleep(chance.uniform(0.0, 0.015))
                kill(process)
            done += 1
    finally:
        if process is not None and process.poll() is None:
            kill(process)
