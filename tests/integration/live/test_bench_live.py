"""The live bench suite still runs: ``python -m bench live --size tiny`` reports every task."""

from __future__ import annotations

from pathlib import Path

from bench.live_suite import SUITE
from tests.kit.bench_runs import run_bench, suite_record


def test_live_suite_runs_at_tiny_size(tmp_path: Path) -> None:
    run_bench(["bench", "live", "--size", "tiny", "--output-dir", str(tmp_path)], tmp_path)
    suite_record(SUITE, tmp_path)
