"""The latency bench still runs: ``python -m bench.live_latency`` at a tiny size (no speed)."""

from __future__ import annotations

from pathlib import Path

from tests.kit.bench_runs import run_bench


def _orders(output: str, label: str) -> str:
    """Return the orders column of the results row whose set-up is ``label``."""
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if cells[0] == label:
            return cells[1]
    raise AssertionError(f"no row {label!r} in:\n{output}")


def test_latency_bench_reports_every_journal_and_the_stages(tmp_path: Path) -> None:
    output = run_bench(["bench.live_latency", "--bars", "80", "--profile"], tmp_path)
    kinds = ("sqlite", "sqlite-machine", "postgresql", "postgresql-machine", "alpaca")
    for kind in kinds:
        assert f"where an order's window goes, {kind} (in-process" in output
    for stage in ("journal append", "risk checks", "target sizing", "strategy runner"):
        assert output.count(stage) == len(kinds), stage
    # the fake Alpaca's row: the same bars and strategy, so every order of the venue's is timed
    assert _orders(output, "alpaca (fake), sqlite") == _orders(output, "sqlite") != "0"
