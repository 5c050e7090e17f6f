"""The stream bench suite still runs: ``python -m bench stream --size tiny`` (no speed asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.stream_suite import SUITE

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_stream_suite_runs_at_tiny_size(tmp_path: Path) -> None:
    environment = {**os.environ, "TMPDIR": str(tmp_path), "COLUMNS": "200"}
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "stream", "--size", "tiny", "--repeat", "1",
         "--output-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "of raw throughput" in completed.stdout
    record = json.loads((tmp_path / "stream.json").read_text(encoding="utf-8"))
    assert [entry["task"] for entry in record["tasks"]] == [task.name for task in SUITE.tasks]
    assert all(entry["same_result"] for entry in record["tasks"])
