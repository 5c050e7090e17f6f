"""The latency bench still runs: ``python -m bench.live_latency`` at a tiny size (no speed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_latency_bench_reports_every_journal_and_the_stages(tmp_path: Path) -> None:
    environment = {**os.environ, "TMPDIR": str(tmp_path), "COLUMNS": "200"}
    completed = subprocess.run(
        [sys.executable, "-m", "bench.live_latency", "--bars", "80", "--profile"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    output = completed.stdout
    kinds = ("sqlite", "sqlite-machine", "postgresql", "postgresql-machine")
    for kind in kinds:
        assert f"where an order's window goes, {kind} (in-process" in output
    for stage in ("journal append", "risk checks", "target sizing", "strategy runner"):
        assert output.count(stage) == len(kinds), stage
