"""Optimisation and walk-forward results in a notebook: HTML cards and Plotly figures."""

from __future__ import annotations

import pytest

from quantstrata.backtest.optimize import (
    OptimizationResult,
    OptimizeConfig,
    WalkForwardConfig,
    WalkForwardResult,
    optimize,
    walk_forward,
)
from quantstrata.backtest.optimize._notebook import SHOWN_CANDIDATES
from quantstrata.data import load_sample
from quantstrata.strategy.examples import SmaCrossover
from tests.kit.notebook_html import read_html

_SERIAL = OptimizeConfig.build(backend="serial")


@pytest.fixture(scope="module")
def search() -> OptimizationResult:
    bars = load_sample("SPX_1d").head(1200)
    return optimize(bars, SmaCrossover, {"fast": [5, 10, 15, 20], "slow": [40, 60, 80]}, _SERIAL)


@pytest.fixture(scope="module")
def analysis() -> WalkForwardResult:
    bars = load_sample("SPX_1d").head(1500)
    walk = WalkForwardConfig.build(in_sample=600, out_of_sample=300)
    return walk_forward(bars, SmaCrossover, {"fast": [5, 10], "slow": [40, 80]}, walk, _SERIAL)


def test_search_card_lists_the_best_candidates_in_rank_order(search: OptimizationResult) -> None:
    page = read_html(search._repr_html_())

    rows = page.tables["candidates"]
    assert rows[0][:4] == ["trial", "fast", "slow", "objective"]
    shown = search.frame.head(SHOWN_CANDIDATES)
    assert [int(row[0]) for row in rows[1:]] == shown["trial"].to_list()
    assert dict(page.tables["best"]) == {key: repr(value) for key, value in search.best.items()}
    assert f"{search.frame.height} of {search.planned} candidates" in "".join(page.text)


def test_search_plot_is_the_objective_heatmap(search: OptimizationResult) -> None:
    figure = search.plot()

    (heatmap,) = figure.data
    assert heatmap.type == "heatmap"
    assert list(heatmap.x) == ["5", "10", "15", "20"]
    assert list(heatmap.y) == ["40", "60", "80"]
    best = max(value for row in heatmap.z for value in row if value is not None)
    assert best == pytest.approx(search.frame["objective"][0])


def test_one_parameter_search_plots_the_objective_against_it() -> None:
    bars = load_sample("SPX_1d").head(600)
    result = optimize(bars, SmaCrossover, {"fast": [15, 5, 10]}, _SERIAL)

    (line,) = result.plot().data

    assert list(line.x) == [5, 10, 15]


def test_walk_forward_card_shows_the_stitched_curve_and_windows(
    analysis: WalkForwardResult,
) -> None:
    page = read_html(analysis._repr_html_())

    (points,) = page.sparklines
    assert len(points) == min(analysis.equity.height, 300)
    assert len(page.tables["windows"]) == analysis.windows.height + 1
    assert page.metrics["sharpe"] == f"{analysis.metrics.sharpe:.2f}"
    assert "trades" not in page.metrics  # undefined for a stitched curve, so left out


def test_walk_forward_plot_has_one_trace_per_window(analysis: WalkForwardResult) -> None:
    figure = analysis.plot()

    assert [trace.name for trace in figure.data] == [
        f"window {number + 1}" for number in range(analysis.windows.height)
    ]
    assert sum(len(trace.y) for trace in figure.data) == analysis.equity.height
