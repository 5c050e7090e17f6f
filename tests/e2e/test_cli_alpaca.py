"""``quantstrata data fetch --provider alpaca`` and ``quantstrata live --venue alpaca``, run as
a user runs them: their own process, keys in the environment, pointed at the fake Alpaca.

``data fetch`` must leave in the catalog exactly the fake's bars of the range (fetched a few a
page). ``live`` must say which account it trades (the paper one unless ``--live-account``),
trade on the bars the test publishes one at a time (the next only once the order of the last
reached the fake), stop with exit code 0 on SIGINT, leave a journal that agrees with the fake,
and print no key.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from quantstrata.data.catalog import Catalog
from quantstrata.data.samples import load_sample
from quantstrata.live.brokers.alpaca import AlpacaBroker
from quantstrata.live.journal import SqliteJournal
from quantstrata.live.state import LiveState
from quantstrata.model.bar import BAR_COLUMNS
from tests.integration.live.alpaca_runs import alpaca_config, credentials
from tests.kit.alpaca_sdk import trading_client
from tests.kit.fake_alpaca import FakeAlpaca
from tests.kit.live_checks import assert_consistent_with_venue

BARS = 6
_MAIN = "from quantstrata.cli.app import main; raise SystemExit(main())"
_STRATEGY = textwrap.dedent(
    """
    from quantstrata.model.orders import OrderRequest
    from quantstrata.strategy import EventStrategy


    class Alternate(EventStrategy):
        def __init__(self) -> None:
            self.bar = 0

        def warmup_bars(self) -> int:
            return 0

        def on_bar(self, bars, context) -> None:
            context.submit(OrderRequest.market("SPX", 1 if self.bar % 2 == 0 else -1))
            self.bar += 1
    """
)


def _bars(*names: str, count: int = 40) -> pl.DataFrame:
    start = datetime(2012, 1, 1, tzinfo=UTC)
    frames = [
        load_sample(name).select(BAR_COLUMNS).filter(pl.col("ts") >= start).head(count)
        for name in names
    ]
    return pl.concat(frames).sort("ts", "symbol")


def _environment(fake: FakeAlpaca) -> dict[str, str]:
    return {**os.environ, "APCA_API_KEY_ID": fake.key_id, "APCA_API_SECRET_KEY": fake.secret}


def _assert_no_key(fake: FakeAlpaca, output: str) -> None:
    assert fake.key_id not in output
    assert fake.secret not in output


def test_data_fetch_puts_exactly_the_fakes_bars_in_the_catalog(tmp_path: Path) -> None:
    bars = _bars("SPX_1d", "GOOG_1d")
    times = bars["ts"].unique().sort()
    start, end = times[2], times[-2]
    with FakeAlpaca(bars, published=len(times), page_size=5) as fake:
        command = [
            sys.executable, "-c", _MAIN, "data", "fetch", "--provider", "alpaca",
            "--symbols", ",".join(fake.symbols), "-i", "1d",
            "--from", start.isoformat(), "--to", end.isoformat(),
            "--alpaca-data-url", fake.data_url, "--catalog", str(tmp_path / "catalog"),
        ]  # fmt: skip
        finished = subprocess.run(
            command, env=_environment(fake), capture_output=True, text=True, timeout=60, check=False
        )
        pages = sum(1 for request in fake.requests if request.path == "/v2/stocks/bars")
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output[-3000:]
    expected = bars.filter((pl.col("ts") >= start) & (pl.col("ts") < end)).sort("symbol", "ts")
    stored = Catalog(tmp_path / "catalog").read(interval="1d").select(BAR_COLUMNS)
    assert_frame_equal(stored.sort("symbol", "ts"), expected, check_dtypes=False)
    assert f"{expected.height:,} rows written" in output
    assert pages > len(fake.symbols)  # paged
    _assert_no_key(fake, output)


def _spawn(fake: FakeAlpaca, tmp_path: Path, *extra: str) -> subprocess.Popen[bytes]:
    strategy = tmp_path / "alternate.py"
    strategy.write_text(_STRATEGY, encoding="utf-8")
    command = [
        sys.executable, "-c", _MAIN, "live", f"{strategy}:Alternate", "--venue", "alpaca",
        "--symbol", "SPX", "--interval", "1d",
        "--alpaca-url", fake.url, "--alpaca-stream-url", fake.ws_url,
        "--alpaca-data-url", fake.data_url, "--alpaca-data-stream-url", fake.data_ws_url,
        "--journal", str(tmp_path / "journal.sqlite"), "--run-id", "cli",
        # the fake replays 2012 bars: every one is "late" by the wall clock
        "--max-bar-delay", "off", *extra,
    ]  # fmt: skip
    with (tmp_path / "log").open("wb") as output:
        return subprocess.Popen(command, env=_environment(fake), stdout=output, stderr=output)


def _until(condition: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``condition`` (the fake's state) while the process runs; fail with its log."""
    deadline = time.monotonic() + 30
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise AssertionError(log.read_text(errors="replace")[-3000:])
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes], log: Path) -> str:
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=30)
    output = log.read_text(errors="replace")
    assert code == 0, output[-3000:]
    return output


def _account_tail(fake: FakeAlpaca) -> str:
    return f"****{trading_client(fake).get_account().account_number[-4:]}"


def test_live_trades_the_paper_account_and_stops_on_sigint(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with FakeAlpaca(_bars("SPX_1d"), published=5) as fake:
        process = _spawn(fake, tmp_path)
        _until(lambda: fake.streams.bar_subscribers("SPX") > 0, process, log)
        for _ in range(BARS):
            sent = len(fake.orders())
            fake.publish_next_bar()
            _until(lambda sent=sent: len(fake.orders()) > sent, process, log)
        output = _stop(process, log)
        orders, positions = fake.orders(), fake.positions()
        fills = asyncio.run(AlpacaBroker(alpaca_config(fake), credentials(fake)).fills())
        tail = _account_tail(fake)
    assert f"alpaca: trading the paper account {tail}" in output, output[-2000:]
    assert "stopped: stop requested; the journal is closed" in output, output[-2000:]
    _assert_no_key(fake, output)
    store = SqliteJournal(tmp_path / "journal.sqlite")
    try:
        state = LiveState.fold(store.replay())
    finally:
        store.close()
    assert len(orders) == BARS
    assert len(fills) == BARS - 1  # the last order waits for a bar that never came
    assert_consistent_with_venue(state, fills, positions, orders)


def test_the_live_account_is_traded_only_when_asked_and_said(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with FakeAlpaca(_bars("SPX_1d"), published=5) as fake:
        process = _spawn(fake, tmp_path, "--live-account")
        _until(lambda: fake.streams.bar_subscribers("SPX") > 0, process, log)
        output = _stop(process, log)
        tail = _account_tail(fake)
    assert f"alpaca: trading the LIVE account (real money) {tail}" in output, output[-2000:]
    _assert_no_key(fake, output)
