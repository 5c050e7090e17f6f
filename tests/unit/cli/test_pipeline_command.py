"""``quantstrata pipeline``: the same result as the API, the last weights, the report, errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.cli.app import main
from quantstrata.cli.pipeline import synthetic_universe
from quantstrata.data.samples import load_sample
from quantstrata.strategy.examples import MomentumPipeline, ReversionPipeline

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SMALL_MOMENTUM = ["--param", "lookback=40", "--param", "skip=5", "--param", "top=4",
                  "--param", "liquid=20"]  # fmt: skip


def _run(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(arguments)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _final_equity(output: str) -> float:
    found = re.search(r"final equity ([\d,]+\.\d\d)", output)
    assert found, output
    return float(found.group(1).replace(",", ""))


@pytest.mark.parametrize("size_at", [None, "decision", "fill"])
def test_synthetic_universe_run_equals_the_api(
    size_at: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    report = tmp_path / "pipeline.html"
    chosen = [] if size_at is None else ["--size-at", size_at]
    code, out, err = _run(
        ["pipeline", str(EXAMPLES / "momentum_pipeline.py"), "--synthetic", "30", "--years", "1",
         "--seed", "3", *SMALL_MOMENTUM, *chosen, "--report", str(report)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    bars = synthetic_universe(30, 1, 3)
    strategy = MomentumPipeline(lookback=40, skip=5, top=4, liquid=20)
    config = BacktestConfig(calendar="XNYS", size_at=size_at or "decision")
    expected = Backtest(bars, strategy, config).run()
    assert _final_equity(out) == pytest.approx(expected.final_equity, abs=0.006)
    assert "Sharpe ratio" in out
    assert "weights at the last rebalance" in out
    assert "4 held" in out
    last = strategy.pipeline().rebalances(bars).filter(pl.col("ts") == pl.col("ts").max())
    for symbol in last.filter(pl.col("weight") > 0)["symbol"]:
        assert f"{symbol}" in out.split("weights at the last rebalance", 1)[1]
    assert "Backtest report" in report.read_text(encoding="utf-8")


def test_comma_separated_samples_run_the_reversion_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    report = tmp_path / "reversion.html"
    code, out, err = _run(
        ["pipeline", str(EXAMPLES / "mean_reversion_pipeline.py"), "--data", "SPX,IXIC,GOOG",
         "--from", "2011-01-01", "--to", "2013-01-01", "--cash", "100000", "--report",
         str(report)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    frames = [load_sample(name) for name in ("SPX_1d", "IXIC_1d", "GOOG_1d")]
    bars = pl.concat(frames, how="diagonal_relaxed").filter(
        (pl.col("ts") >= datetime(2011, 1, 1, tzinfo=UTC))
        & (pl.col("ts") < datetime(2013, 1, 1, tzinfo=UTC))
    )
    expected = Backtest(bars, ReversionPipeline(), BacktestConfig(calendar="XNYS")).run()
    assert _final_equity(out) == pytest.approx(expected.final_equity, abs=0.006)
    assert "ReversionPipeline(rebalance='week_end', calendar='XNYS', window=5, gross=1.0)" in out
    assert report.is_file()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([str(EXAMPLES / "sma_cross.py")], "not a PipelineStrategy"),
        ([str(EXAMPLES / "momentum_pipeline.py"), "--synthetic", "5", "--data", "SPX"],
         "either --data or --synthetic"),
        ([str(EXAMPLES / "momentum_pipeline.py"), "--synthetic", "0"], "--synthetic"),
        ([str(EXAMPLES / "momentum_pipeline.py"), "--param", "top=0"], "top"),
    ],
)  # fmt: skip
def test_bad_inputs_exit_1_with_one_line(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
):
    code, _out, err = _run(["pipeline", *arguments], capsys)
    assert code == 1
    assert message in err
    assert "hint:" in err
