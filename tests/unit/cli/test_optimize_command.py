"""``quantstrata optimize``: grid options, walk-forward option, results and report."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from quantstrata.backtest import BacktestConfig
from quantstrata.backtest.optimize import OptimizeConfig, optimize
from quantstrata.cli.app import main
from quantstrata.cli.optimize import parse_grid, parse_walk_forward
from quantstrata.core.errors import ConfigError
from quantstrata.data.samples import load_sample, sample_info
from quantstrata.strategy.examples import SmaCrossover

STRATEGY = "quantstrata.strategy.examples:SmaCrossover"
YEARS = ["--from", "2012-01-01", "--to", "2016-01-01"]


def test_grid_and_walk_forward_options_are_parsed() -> None:
    assert parse_grid(["fast=5:15:5", "slow=20,40"]) == {"fast": [5, 10, 15], "slow": [20, 40]}
    assert parse_walk_forward("500:100:anchored").anchored
    assert parse_walk_forward("500:100").out_of_sample == 100
    with pytest.raises(ConfigError, match="--grid"):
        parse_grid(["fast"])
    with pytest.raises(ConfigError, match="--walk-forward"):
        parse_walk_forward("500")


def test_optimize_writes_results_equal_to_the_api_and_a_heatmap_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, output = tmp_path / "report.html", tmp_path / "results.csv"

    code = main(
        [
            "optimize",
            STRATEGY,
            "--data",
            "SPX_1d",
            *YEARS,
            "--grid",
            "fast=5:15:5",
            "--grid",
            "slow=20,40",
            "--backend",
            "serial",
            "--report",
            str(report),
            "--output",
            str(output),
        ]
    )

    assert code == 0, capsys.readouterr().err
    bars = load_sample("SPX_1d").filter(pl.col("ts").dt.year().is_between(2012, 2015))
    expected = optimize(
        bars,
        SmaCrossover,
        {"fast": [5, 10, 15], "slow": [20, 40]},
        OptimizeConfig(backend="serial"),
        backtest=BacktestConfig(check_lookahead=False, calendar=sample_info("SPX_1d").calendar),
    )
    written = pl.read_csv(output)
    assert written["fast"].to_list() == expected.frame["fast"].to_list()
    assert written["objective"].to_list() == pytest.approx(expected.frame["objective"].to_list())
    assert 'data-plotly-figure="heatmap-1"' in report.read_text(encoding="utf-8")
    assert "best by sharpe" in capsys.readouterr().out


@pytest.mark.parametrize("size_at", ["decision", "fill"])
def test_size_at_reaches_every_backtest_of_the_sweep(
    size_at: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "results.csv"
    grid = ["--grid", "fast=5,10", "--grid", "slow=20"]
    code = main(
        ["optimize", STRATEGY, "--data", "SPX_1d", "--from", "2015-01-01", "--to", "2016-01-01",
         *grid, "--backend", "serial", "--size-at", size_at, "--output", str(output)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    bars = load_sample("SPX_1d").filter(pl.col("ts").dt.year() == 2015)
    calendar = sample_info("SPX_1d").calendar
    expected = optimize(
        bars,
        SmaCrossover,
        {"fast": [5, 10], "slow": [20]},
        OptimizeConfig(backend="serial"),
        backtest=BacktestConfig(check_lookahead=False, calendar=calendar, size_at=size_at),
    )
    written = pl.read_csv(output)
    assert written["objective"].to_list() == pytest.approx(expected.frame["objective"].to_list())
    assert written["total_return"].to_list() == pytest.approx(
        expected.frame["total_return"].to_list()
    )


def test_walk_forward_option_prints_the_windows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "optimize",
            STRATEGY,
            "--data",
            "SPX_1d",
            *YEARS,
            "--grid",
            "fast=5,10",
            "--grid",
            "slow=20,40",
            "--backend",
            "serial",
            "--walk-forward",
            "500:250",
        ]
    )

    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "walk-forward windows" in printed
    assert "stitched out-of-sample equity" in printed


def test_pbo_option_prints_the_sweeps_overfitting_statistics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["optimize", STRATEGY, "--data", "SPX_1d", *YEARS, "--backend", "serial"]
    grid = ["--grid", "fast=5:15:5", "--grid", "slow=20,40"]

    code = main([*arguments, *grid, "--pbo", "4", "--report", str(tmp_path / "report.html")])

    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    bars = load_sample("SPX_1d").filter(pl.col("ts").dt.year().is_between(2012, 2015))
    expected = optimize(
        bars,
        SmaCrossover,
        {"fast": [5, 10, 15], "slow": [20, 40]},
        OptimizeConfig(backend="serial"),
        backtest=BacktestConfig(check_lookahead=False, calendar=sample_info("SPX_1d").calendar),
    )
    pbo = expected.overfitting(bars, partitions=4).pbo
    assert f"probability of backtest overfitting: {pbo:.2f} over 6 splits" in printed
    assert "deflated Sharpe ratio of the best:" in printed


def test_unknown_grid_parameter_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["optimize", STRATEGY, "--grid", "speed=1,2", "--backend", "serial"])

    assert code == 1
    assert "no parameter 'speed'" in capsys.readouterr().err


def test_walk_forward_writes_its_report_and_the_pbo_of_the_sweep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "walk.html"

    code = main(
        ["optimize", STRATEGY, "--data", "SPX_1d", *YEARS, "--grid", "fast=5:15:5",
         "--grid", "slow=20,40", "--backend", "serial", "--walk-forward", "500:250",
         "--pbo", "4", "--report", str(report)]
    )  # fmt: skip

    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    bars = load_sample("SPX_1d").filter(pl.col("ts").dt.year().is_between(2012, 2015))
    sweep = optimize(
        bars,
        SmaCrossover,
        {"fast": [5, 10, 15], "slow": [20, 40]},
        OptimizeConfig(backend="serial"),
        backtest=BacktestConfig(check_lookahead=False, calendar=sample_info("SPX_1d").calendar),
    )
    pbo = sweep.overfitting(bars, partitions=4).pbo
    assert f"probability of backtest overfitting: {pbo:.2f} over 6 splits" in printed
    page = report.read_text(encoding="utf-8")
    assert f"Walk-forward report: {SmaCrossover.__module__}.SmaCrossover" in page
    assert 'data-plotly-figure="walk-forward-equity"' in page
    assert f"report written to {report.resolve()}" in printed
