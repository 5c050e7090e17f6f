"""``quantstrata live --venue ib`` run as a user runs it, pointed at the fake TWS.

The paper account is the default; ``--live-account`` against a Gateway logged in to a paper
account must refuse to trade (exit code 1, the reason said, no order sent), never trade it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.kit.bars import sample_bars
from tests.kit.fake_tws import FakeTws

_MAIN = "from quantstrata.cli.app import main; raise SystemExit(main())"


def test_a_live_account_asked_for_on_a_paper_gateway_is_refused(tmp_path: Path) -> None:
    with FakeTws(sample_bars(("SPX_1d",), 40), published=20) as tws:
        command = [
            sys.executable, "-c", _MAIN, "live", "quantstrata.strategy.examples:SmaCrossover",
            "--venue", "ib", "--symbol", "SPX", "--ib-port", str(tws.port), "--live-account",
            "--journal", str(tmp_path / "journal.sqlite"), "--max-bar-delay", "off",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        placed = tws.placed()
    assert done.returncode == 1
    assert "trading the LIVE account (real money)" in done.stdout
    assert "logged in to a paper account but a live one was asked for" in done.stderr
    assert placed == []
