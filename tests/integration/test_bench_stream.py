"""The stream bench suite still runs: ``python -m bench stream --size tiny`` (no speed asserted)."""

from __future__ import annotations

from pathlib import Path

from bench.stream_suite import SUITE
from tests.kit.bench_runs import run_bench, suite_record


def test_stream_suite_runs_at_tiny_size(tmp_path: Path) -> None:
    arguments = ["bench", "stream", "--size", "tiny", "--repeat", "1", "--output-dir"]
    stdout = run_bench([*arguments, str(tmp_path)], tmp_path)
    assert "of raw throughput" in stdout
    suite_record(SUITE, tmp_path)
