"""The benchmark still runs: ``python -m bench data --size tiny`` finishes and reports every task.

A smoke test that the bench does not rot as the code under it changes; it asserts nothing about
speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.data_suite import SUITE

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_data_suite_runs_at_tiny_size(tmp_path: Path) -> None:
    environment = {**os.environ, "TMPDIR": str(tmp_path), "COLUMNS": "200"}

    completed = subprocess.run(
        [sys.executable, "-m", "bench", "data", "--size", "tiny", "--output-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    for task in SUITE.tasks:
        assert task.name in completed.stdout
    assert "FAILED" not in completed.stdout
    record = json.loads((tmp_path / "data.json").read_text(encoding="utf-8"))
    assert [entry["task"] for entry in record["tasks"]] == [task.name for task in SUITE.tasks]
    assert all(entry["same_result"] for entry in record["tasks"])
