"""Optimisation in this process: candidates, constraints, ranking, objectives, Optuna, report."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
from quantstrata.backtest.optimize import (
    OptimizeConfig,
    SearchMethod,
    SearchSpace,
    optimize,
    parse_range,
)
from quantstrata.backtest.optimize.report import heatmap_data, write_optimization_report
from quantstrata.backtest.optimize.statistics import probability_of_backtest_overfitting
from quantstrata.core.errors import ConfigError
from quantstrata.data.synthetic import generate_bars
from quantstrata.strategy.examples import SmaCrossover

CONFIG = BacktestConfig(check_lookahead=False)
SERIAL = OptimizeConfig(backend="serial")
GRID = {"fast": [5, 10, 20], "slow": [10, 30, 60]}


@pytest.fixture(scope="module")
def bars() -> pl.DataFrame:
    return generate_bars(bars=1_500, seed=5)


def test_parse_range_is_inclusive_and_keeps_integers() -> None:
    assert parse_range("5:50:5") == [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]
    assert parse_range("0.5:1.5:0.5") == [0.5, 1.0, 1.5]
    assert parse_range("3,7,true,abc") == [3, 7, True, "abc"]
    with pytest.raises(ConfigError, match="step"):
        parse_range("5:1:1")


def test_grid_skips_candidates_the_parameters_refuse() -> None:
    space = SearchSpace(SmaCrossover.Parameters, GRID)

    candidates = space.grid_candidates()

    assert candidates == [
        {"fast": 5, "slow": 10},
        {"fast": 5, "slow": 30},
        {"fast": 5, "slow": 60},
        {"fast": 10, "slow": 30},
        {"fast": 10, "slow": 60},
        {"fast": 20, "slow": 30},
        {"fast": 20, "slow": 60},
    ]


def test_extra_constraints_and_unknown_names() -> None:
    space = SearchSpace(
        SmaCrossover.Parameters,
        GRID,
        constraints=[lambda values: values["slow"] >= 3 * values["fast"]],
    )

    assert {"fast": 20, "slow": 30} not in space.grid_candidates()
    with pytest.raises(ConfigError, match="no parameter 'speed'"):
        SearchSpace(SmaCrossover.Parameters, {"speed": [1]})
    with pytest.raises(ConfigError, match="outside its bounds"):
        SearchSpace(SmaCrossover.Parameters, {"fast": [1]})


def test_random_candidates_are_distinct_admitted_and_seeded() -> None:
    space = SearchSpace(SmaCrossover.Parameters, {"fast": range(2, 40)}, sample=["slow"])

    first = space.random_candidates(25, seed=3)

    assert first == space.random_candidates(25, seed=3)
    assert first != space.random_candidates(25, seed=4)
    assert len({(item["fast"], item["slow"]) for item in first}) == 25
    assert all(item["fast"] < item["slow"] <= 1000 for item in first)


def test_grid_results_are_sorted_by_objective_and_match_a_lone_rerun(bars: pl.DataFrame) -> None:
    result = optimize(bars, SmaCrossover, GRID, SERIAL, backtest=CONFIG)

    assert result.frame.height == result.planned == 7
    objective = result.frame["objective"].to_list()
    assert objective == sorted(objective, reverse=True)
    assert result.frame["objective"].to_list() == result.frame["sharpe"].to_list()
    alone = Backtest(bars, SmaCrossover(**result.best), CONFIG).run()
    assert alone.metrics.sharpe == result.frame["sharpe"][0]
    assert alone.final_equity == result.frame["final_equity"][0]
    assert result.rerun_best(bars).metrics.total_return == result.frame["total_return"][0]


def test_drawdown_is_minimised_by_default(bars: pl.DataFrame) -> None:
    result = optimize(
        bars,
        SmaCrossover,
        GRID,
        OptimizeConfig(backend="serial", objective="max_drawdown"),
        backtest=CONFIG,
    )

    assert not result.maximize
    drawdowns = result.frame["max_drawdown"].to_list()
    assert drawdowns == sorted(drawdowns)


def final_equity_objective(result: BacktestResult) -> float:
    return result.final_equity


def test_a_callable_objective_ranks_the_candidates(bars: pl.DataFrame) -> None:
    result = optimize(
        bars, SmaCrossover, GRID, SERIAL, backtest=CONFIG, objective=final_equity_objective
    )

    assert result.objective == "final_equity_objective"
    assert result.frame["objective"].to_list() == result.frame["final_equity"].to_list()
    assert result.frame["final_equity"][0] == max(result.frame["final_equity"].to_list())


def test_unknown_metric_objective_is_refused(bars: pl.DataFrame) -> None:
    with pytest.raises(ConfigError, match="objective 'alpha'"):
        optimize(bars, SmaCrossover, GRID, OptimizeConfig(backend="serial", objective="alpha"))


def test_optuna_search_is_seeded_and_respects_constraints(bars: pl.DataFrame) -> None:
    config = OptimizeConfig(
        backend="serial", method=SearchMethod.OPTUNA, trials=12, batch=4, seed=9
    )
    grid = {"fast": list(range(2, 40, 2)), "slow": list(range(10, 100, 10))}

    first = optimize(bars, SmaCrossover, grid, config, backtest=CONFIG)
    second = optimize(bars, SmaCrossover, grid, config, backtest=CONFIG)

    assert first.frame.height == 12
    assert first.frame.equals(second.frame)
    assert (first.frame["fast"] < first.frame["slow"]).all()
    assert sorted(first.frame["trial"].to_list()) == list(range(12))


def test_heatmap_holds_the_best_objective_per_cell(bars: pl.DataFrame, tmp_path: Path) -> None:
    result = optimize(bars, SmaCrossover, GRID, SERIAL, backtest=CONFIG)

    xs, ys, grid = heatmap_data(result.frame, "fast", "slow", "objective")
    written = write_optimization_report(result, tmp_path / "optimise.html")

    assert xs == [5, 10, 20]
    assert ys == [10, 30, 60]
    assert grid[0][1] is None  # fast 10, slow 10 was never admitted
    expected = result.frame.filter((pl.col("fast") == 20) & (pl.col("slow") == 60))["objective"][0]
    assert grid[2][2] == expected
    html = written.read_text(encoding="utf-8")
    (figure_json,) = re.findall(r'data-plotly-figure="heatmap-1">(.*?)</script>', html)
    figure = json.loads(figure_json)
    assert figure["data"][0]["type"] == "heatmap"
    assert [row[2] for row in figure["data"][0]["z"]][2] == pytest.approx(expected)
    assert not math.isnan(expected)


def test_deflated_sharpe_of_a_sweep_uses_every_trial(bars: pl.DataFrame) -> None:
    result = optimize(bars, SmaCrossover, GRID, SERIAL, backtest=CONFIG)
    narrower = optimize(
        bars,
        SmaCrossover,
        {"fast": [result.best["fast"]], "slow": [result.best["slow"]]},
        SERIAL,
        backtest=CONFIG,
    )

    deflated = result.deflated_sharpe(bars)

    assert 0.0 <= deflated <= 1.0
    # one trial deflates nothing: the same best run scores higher when it was the only one
    assert narrower.deflated_sharpe(bars) > deflated


def test_the_overfitting_probability_of_a_sweep_is_cscv_over_its_candidates_returns(
    bars: pl.DataFrame,
) -> None:
    result = optimize(bars, SmaCrossover, GRID, OptimizeConfig(backend="serial"), backtest=CONFIG)

    measured = result.overfitting(bars, partitions=6)

    curves = [
        Backtest(bars, SmaCrossover(**{name: row[name] for name in result.parameters}), CONFIG)
        .run()
        .equity["equity"]
        .to_numpy()
        for row in result.frame.sort("trial").iter_rows(named=True)
    ]
    matrix = np.column_stack([curve[1:] / curve[:-1] - 1.0 for curve in curves])
    expected = probability_of_backtest_overfitting(matrix, partitions=6)
    assert measured.splits == 20  # C(6, 3)
    assert measured.pbo == expected.pbo
    assert np.array_equal(measured.logits, expected.logits)


def test_the_overfitting_probability_needs_two_candidates(bars: pl.DataFrame) -> None:
    result = optimize(
        bars, SmaCrossover, {"fast": [5], "slow": [20]}, OptimizeConfig(backend="serial")
    )

    with pytest.raises(ConfigError, match="fewer than 2"):
        result.overfitting(bars)
