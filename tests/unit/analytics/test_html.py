"""The notebook HTML pieces: sparklines, tables and the metrics card."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from quantstrata.analytics import compute_metrics
from quantstrata.analytics._format import format_metric
from quantstrata.analytics._html import (
    SPARKLINE_POINTS,
    frame_html,
    key_value_html,
    sparkline_indices,
    sparkline_svg,
)
from tests.kit.notebook_html import read_html


@pytest.mark.parametrize("count", [1, 2, 57, SPARKLINE_POINTS])
def test_a_short_sparkline_has_one_point_per_sample(count: int) -> None:
    values = np.cumsum(np.random.default_rng(count).normal(size=count)) + 100.0

    (points,) = read_html(sparkline_svg(values, width=200, height=40)).sparklines

    assert len(points) == count
    ys = np.array([y for _, y in points])
    if count > 1 and np.ptp(values) > 0:  # higher values are drawn higher (smaller y)
        assert np.argmin(ys) == np.argmax(values)
        assert np.argmax(ys) == np.argmin(values)


def test_a_long_sparkline_is_thinned_evenly_keeping_both_ends() -> None:
    values = np.arange(10_000, dtype=float)

    (points,) = read_html(sparkline_svg(values, width=301, height=40)).sparklines
    chosen = sparkline_indices(values.size)

    assert len(points) == chosen.size == SPARKLINE_POINTS
    assert chosen[0] == 0
    assert chosen[-1] == values.size - 1
    assert points[0][0] == pytest.approx(1.0)
    assert points[-1][0] == pytest.approx(300.0)
    assert np.all(np.diff(chosen) > 0)


def test_non_finite_values_are_skipped_and_an_empty_curve_draws_nothing() -> None:
    (points,) = read_html(sparkline_svg([1.0, float("nan"), 3.0, float("inf")])).sparklines
    empty = read_html(sparkline_svg([]))

    assert len(points) == 2
    assert empty.sparklines == []
    assert "svg" in empty.tags


def test_user_text_is_escaped_everywhere() -> None:
    hostile = '<script>alert("x")</script>'
    frame = pl.DataFrame({hostile: [hostile], "n": [1]})

    for text in (
        key_value_html([(hostile, hostile)]),
        frame_html(frame),
        sparkline_svg([1.0, 2.0], label=hostile),
    ):
        page = read_html(text)
        assert "script" not in page.tags
        assert hostile in "".join(page.text)


def test_frame_table_shows_head_and_tail_of_long_frames() -> None:
    frame = pl.DataFrame({"i": list(range(100))})

    rows = read_html(frame_html(frame, rows=3, identifier="f")).tables["f"]

    assert rows[0] == ["i"]
    assert [row[0] for row in rows[1:4]] == ["0", "1", "2"]
    assert "94 rows not shown" in rows[4][0]
    assert [row[0] for row in rows[5:]] == ["97", "98", "99"]


def test_metrics_card_shows_every_metric_as_formatted() -> None:
    ts = pl.datetime_range(
        pl.datetime(2024, 1, 1, time_zone="UTC"),
        pl.datetime(2024, 12, 31, time_zone="UTC"),
        "1d",
        eager=True,
    ).dt.cast_time_unit("ns")
    equity = 100.0 * np.cumprod(1.0 + np.random.default_rng(3).normal(0.0005, 0.01, ts.len()))
    metrics = compute_metrics(pl.DataFrame({"ts": ts, "equity": equity}))

    shown = read_html(metrics._repr_html_()).metrics

    expected = {name: format_metric(name, value) for name, value in metrics.to_dict().items()}
    assert shown == expected
    assert shown["sharpe"] == f"{metrics.sharpe:.2f}"
