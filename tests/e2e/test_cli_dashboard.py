"""``quantstrata live --dashboard`` in a fresh process: tokens from the environment, the page
served while the paper run trades, the address printed and no token ever printed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

_ADMIN = "cli-dashboard-admin-41f0"
_VIEWER = "cli-dashboard-viewer-a7c3"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _command(tmp_path: Path, port: int) -> list[str]:
    return [
        sys.executable, "-c", "from quantstrata.cli.app import main; raise SystemExit(main())",
        "live", "quantstrata.strategy.examples:SmaCrossover", "--data", "SPX",
        "--venue", "paper", "--pause", "0.02", "--journal", str(tmp_path / "j.sqlite"),
        "--param", "fast=3", "--param", "slow=8", "--dashboard", "--dashboard-port", str(port),
    ]  # fmt: skip


def test_live_serves_the_dashboard_with_tokens_from_the_environment(tmp_path: Path) -> None:
    port = _free_port()
    environment = {
        **os.environ,
        "QUANTSTRATA_DASHBOARD_TOKEN": _ADMIN,
        "QUANTSTRATA_DASHBOARD_VIEWER_TOKEN": _VIEWER,
        "COLUMNS": "200",
    }
    process = subprocess.Popen(
        _command(tmp_path, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=environment,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        snapshot = None
        while snapshot is None and time.monotonic() < deadline:
            try:
                answer = httpx.get(
                    url + "api/snapshot", headers={"Authorization": f"Bearer {_VIEWER}"}
                )
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            snapshot = answer.json()
        assert snapshot is not None
        assert snapshot["role"] == "viewer"
        assert snapshot["broker"] == "paper"
        assert httpx.get(url + "api/snapshot").status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    text = output.decode()
    assert process.returncode == 0, text
    assert "stop requested" in text  # the runtime, not the web server, took the signal
    assert f"dashboard: {url}" in text
    assert _ADMIN not in text
    assert _VIEWER not in text


def test_live_without_the_token_variable_refuses_to_start(tmp_path: Path) -> None:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("QUANTSTRATA_DASH")
    }
    finished = subprocess.run(
        _command(tmp_path, _free_port()),
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert finished.returncode != 0
    assert "QUANTSTRATA_DASHBOARD_TOKEN" in finished.stdout + finished.stderr
