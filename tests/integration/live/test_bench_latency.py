"""The latency bench still runs: ``python -m bench.live_latency`` at a tiny size (no speed)."""

from __future__ import annotations

from pathlib import Path

from tests.kit.bench_runs import run_bench


def test_latency_bench_reports_every_journal_and_the_stages(tmp_path: Path) -> None:
    output = run_bench(["bench.live_latency", "--bars", "80", "--profile"], tmp_path)
    kinds = ("sqlite", "sqlite-machine", "postgresql", "postgresql-machine")
    for kind in kinds:
        assert f"where an order's window goes, {kind} (in-process" in output
    for stage in ("journal append", "risk checks", "target sizing", "strategy runner"):
        assert output.count(stage) == len(kinds), stage
