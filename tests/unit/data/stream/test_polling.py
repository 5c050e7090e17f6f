from __future__ import annotations

from quantstrata.data.stream import LatestTracker


def test_the_first_poll_sets_the_start_and_later_polls_name_what_closed():
    tracker = LatestTracker()
    assert tracker.observe("A", 120_000) is None
    assert tracker.observe("A", 120_000) is None
    assert tracker.observe("A", 300_000) == (120_000, 300_000)
    assert tracker.observe("A", 240_000) is None  # an older answer changes nothing
    assert tracker.observe("B", 60_000) is None
