"""The indicator bench suites still run, and every peer computes the same numbers as quantstrata.

Runs each task's two sides in this process at tiny size (no subprocesses, no timing) and compares
their digests, so a drift between quantstrata, TA-Lib and the pandas re-implementations of
TA-Lib's definitions shows up here rather than as a ``DIFFERS`` in a benchmark table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.harness import Size
from bench.indicators_suite import PANDAS_SUITE, PANDAS_TA_SUITE, STREAMING_SUITE, SUITE

TASKS = [(suite, task) for suite in (SUITE, PANDAS_SUITE, STREAMING_SUITE) for task in suite.tasks]


def _run(side, tmp_path: Path):
    context = side.setup(Size.TINY, tmp_path)
    result = side.run(context)
    return side.digest(context, result)


@pytest.mark.parametrize(
    ("suite", "task"), TASKS, ids=[f"{suite.name}-{task.name}" for suite, task in TASKS]
)
def test_both_sides_compute_the_same_numbers(suite, task, tmp_path: Path) -> None:
    assert _run(task.quantstrata, tmp_path) == _run(task.peer, tmp_path)


def test_a_missing_pandas_ta_is_reported_with_its_reason(tmp_path: Path) -> None:
    side = PANDAS_TA_SUITE.tasks[0].peer
    try:
        import pandas_ta  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="pandas-ta unavailable"):
            side.setup(Size.TINY, tmp_path)
    else:
        side.run(side.setup(Size.TINY, tmp_path))
