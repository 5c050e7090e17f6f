"""The scaled sweep of ``make bench`` (1,000 combinations on 1M bars), run here at a reduced size.

The bench's checks are the issue's: local worker processes give the serial frame exactly, and the
top candidate re-run alone gives its row's metrics.
"""

from __future__ import annotations

import pytest

from bench.sweep_scale import grid, main, run_sweep


@pytest.mark.parametrize("combinations", [1, 7, 60, 1_000])
def test_the_grid_has_exactly_the_asked_combinations_all_fast_below_slow(
    combinations: int,
) -> None:
    space = grid(combinations)

    pairs = [(fast, slow) for fast in space["fast"] for slow in space["slow"]]
    assert len(pairs) == combinations
    assert all(fast < slow for fast, slow in pairs)


def test_a_reduced_sweep_runs_in_parallel_exactly_as_serially() -> None:
    report = run_sweep(bars=1_500, combinations=60, workers=2)

    assert report.combinations == 60
    assert report.same_frame
    assert report.rerun_matches
    assert 2 <= report.best["fast"] < report.best["slow"]


def test_the_command_prints_the_checks_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--bars", "800", "--combinations", "12", "--workers", "2"]) == 0

    printed = capsys.readouterr().out
    assert "12 SMA combinations on 800 bars" in printed
    assert "parallel frame equals the serial frame exactly: True" in printed
