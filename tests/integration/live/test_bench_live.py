"""The live bench suite still runs: ``python -m bench live --size tiny`` reports every task."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.live_suite import SUITE

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_live_suite_runs_at_tiny_size(tmp_path: Path) -> None:
    environment = {**os.environ, "TMPDIR": str(tmp_path), "COLUMNS": "200"}
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "live", "--size", "tiny", "--output-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    record = json.loads((tmp_path / "live.json").read_text(encoding="utf-8"))
    assert [entry["task"] for entry in record["tasks"]] == [task.name for task in SUITE.tasks]
    assert all(entry["same_result"] for entry in record["tasks"])
