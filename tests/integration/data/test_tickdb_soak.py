"""Chaos soak at reduced size (full size: ``python -m bench stream``)."""

from __future__ import annotations

import pytest

from tests.kit.tickdb_soak import soak


@pytest.mark.slow
def test_chaos_soak_loses_and_repeats_nothing(capsys: pytest.CaptureFixture[str]):
    report = soak(1_200, symbols=4, seconds=6.0, every=0.8)
    with capsys.disabled():
        print(f"\nchaos soak: {report.line()}")
    assert report.bars >= 1_000
    assert report.lost == 0
    assert report.duplicates == 0
    assert report.wrong_values == 0
    assert report.fatal_stops == 0
    assert report.faults >= 4
    assert report.reconnects >= 2
    assert report.delays_outside_policy == 0
    assert report.max_open_connections == 1
    assert report.rss_growth_bytes < 50_000_000
