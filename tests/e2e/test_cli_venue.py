"""``quantstrata venue serve`` in a fresh process: the key from the environment, the bound
address printed, the bundled sample without a catalog, and the key never printed."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx

_KEY = "cli-venue-key-5d1e0b"


def _quantstrata() -> list[str]:
    installed = shutil.which("quantstrata", path=str(Path(sys.executable).parent))
    assert installed, "the quantstrata console script is not installed next to this Python"
    return [installed]


def test_serve_prints_the_address_and_requires_the_key(tmp_path: Path) -> None:
    environment = {**os.environ, "QUANTSTRATA_VENUE_KEY": _KEY, "COLUMNS": "200"}
    arguments = [
        *_quantstrata(),
        "venue",
        "serve",
        "--data",
        "SPX",
        "--from",
        "2018-06-01",
        "--speed",
        "lockstep",
        "--port",
        "0",
        "--cash",
        "5000",
        "--commission",
        "0.001",
        "--state",
        str(tmp_path / "venue.sqlite"),
    ]
    process = subprocess.Popen(
        arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        assert found, line
        url = found.group(1)
        refused = httpx.get(f"{url}/v1/status", timeout=10)
        status = httpx.get(f"{url}/v1/status", headers={"X-API-Key": _KEY}, timeout=10)
        balances = httpx.get(f"{url}/v1/balances", headers={"X-API-Key": _KEY}, timeout=10)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert refused.status_code == 401
    assert status.json()["symbols"] == ["SPX"]
    assert status.json()["interval"] == "1d"
    assert status.json()["next_ts"].startswith("2018-06-01")
    assert balances.json()["cash"] == 5000.0
    assert _KEY not in line + out + err
    assert process.returncode == 0, err


def test_serve_without_a_key_explains_how_to_set_one() -> None:
    environment = {k: v for k, v in os.environ.items() if k != "QUANTSTRATA_VENUE_KEY"}
    completed = subprocess.run(
        [*_quantstrata(), "venue", "serve", "--data", "SPX"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment,
    )
    assert completed.returncode == 1
    assert "QUANTSTRATA_VENUE_KEY" in completed.stderr
