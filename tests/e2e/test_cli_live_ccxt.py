"""``quantstrata live --venue ccxt``: the command trades through real ccxt on a fake Binance.

The fake serves Binance's REST and kline WebSocket on loopback; the command runs as its own
process with the keys in its environment, streams the bars the test publishes, trades on them,
and stops cleanly on SIGINT. Its journal must then hold exactly the exchange's trades, its
position the exchange's balance, and no key may appear in its output.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from quantstrata.live.journal import SqliteJournal
from quantstrata.live.state import LiveState
from tests.kit.fake_binance import FakeBinance

KEY = "cli-binance-key-5d1e"
SECRET = "cli-binance-secret-90aa"
SYMBOL = "BTC/USDT"
BARS = 8

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
            quantity = 0.5 if self.bar % 2 == 0 else -0.5
            context.submit(OrderRequest.market("BTC/USDT", quantity))
            self.bar += 1
    """
)


def _spawn(
    server: FakeBinance, strategy: Path, journal: Path, log: Path
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-c", "from quantstrata.cli.app import main; raise SystemExit(main())",
        "live", f"{strategy}:Alternate", "--venue", "ccxt", "--exchange", "binance",
        "--exchange-url", server.url, "--exchange-ws-url", server.stream.url,
        "--exchange-option", "fetchCurrencies=false", "--exchange-option", "fetchMargins=false",
        "--symbol", SYMBOL, "--interval", "1m", "--journal", str(journal), "--run-id", "cli",
        # the fake exchange replays 2023 bars: every one is "late" by the wall clock
        "--max-bar-delay", "off",
    ]  # fmt: skip
    environment = {
        **os.environ,
        "QUANTSTRATA_EXCHANGE_API_KEY": KEY,
        "QUANTSTRATA_EXCHANGE_SECRET": SECRET,
    }
    with log.open("wb") as output:
        return subprocess.Popen(command, env=environment, stdout=output, stderr=output)


def _until(condition: object, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while not condition():  # type: ignore[operator]
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(log.read_text(errors="replace")[-3000:])
        time.sleep(0.05)


@pytest.mark.slow
def test_live_on_a_ccxt_exchange_trades_and_stops_on_sigint(tmp_path: Path) -> None:
    strategy, journal, log = tmp_path / "alternate.py", tmp_path / "j.sqlite", tmp_path / "log"
    strategy.write_text(_STRATEGY, encoding="utf-8")
    with FakeBinance(bars=40, api_key=KEY) as server:
        process = _spawn(server, strategy, journal, log)
        _until(lambda: server.stream.subscribed("btcusdt@kline_1m"), process, log)
        for index in range(BARS + 1):  # a bar is closed when the next one starts
            bar = server.tape.bar(0, server.tape.start_ms + index * server.tape.interval_ms)
            assert bar is not None
            server.account.set_price("BTCUSDT", float(bar.close))
            sent = len(server.account.client_ids())
            server.publish(index)
            if index:
                _until(lambda sent=sent: len(server.account.client_ids()) > sent, process, log)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0, log.read_text(errors="replace")[-3000:]
        trades = {f"BTCUSDT-{trade['id']}" for trade in server.account.trades}
        balance = server.account.balances.get("BTC", 0.0)
        client_ids = server.account.client_ids()
    output = log.read_text(errors="replace")
    assert "stopped: stop requested; the journal is closed" in output, output[-2000:]
    assert KEY not in output
    assert SECRET not in output
    store = SqliteJournal(journal)
    try:
        state = LiveState.fold(store.replay())
    finally:
        store.close()
    assert len(client_ids) == BARS == len(set(client_ids))
    assert {str(order_id) for order_id in state.orders} == set(client_ids)
    assert {t for order in state.orders.values() for t in order.trade_ids} == trades
    held = state.positions.get(SYMBOL)  # type: ignore[call-overload]
    assert (0.0 if held is None else held.quantity) == pytest.approx(balance)
