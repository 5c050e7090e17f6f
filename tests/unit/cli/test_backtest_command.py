from __future__ import annotations

import math
import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.cli.app import main
from quantstrata.data.catalog import Catalog
from quantstrata.data.samples import load_sample
from quantstrata.strategy.examples import SmaCrossover

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
CASH = 100_000.0
YEAR_2015 = ["--from", "2015-01-01", "--to", "2016-01-01"]

ALWAYS_LONG = '''
from __future__ import annotations

import polars as pl
from pydantic import Field

from quantstrata.strategy import SignalStrategy, StrategyParameters


class AlwaysLong(SignalStrategy):
    """Hold ``weight`` of equity from the first bar on."""

    class Parameters(StrategyParameters):
        weight: float = Field(1.0, gt=0.0, le=1.0)

    parameters: Parameters

    def warmup_bars(self) -> int:
        return 0

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        return bars.select("ts", "symbol", target=pl.lit(self.parameters.weight))
'''

PEEKING = """
import polars as pl

from quantstrata.strategy import SignalStrategy


class Peeking(SignalStrategy):
    def warmup_bars(self) -> int:
        return 0

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        rising = pl.col("close").shift(-1) > pl.col("close")
        return bars.select("ts", "symbol", target=pl.when(rising).then(1.0).otherwise(0.0))
"""


def _strategy_file(tmp_path: Path, source: str, name: str = "my_strategy.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def _final_equity(output: str) -> float:
    found = re.search(r"final equity ([\d,]+\.\d\d)", output)
    assert found, output
    return float(found.group(1).replace(",", ""))


def _spx_2015() -> pl.DataFrame:
    bars = load_sample("SPX_1d")
    return bars.filter(
        (pl.col("ts") >= datetime(2015, 1, 1, tzinfo=UTC))
        & (pl.col("ts") < datetime(2016, 1, 1, tzinfo=UTC))
    )


def _run(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(arguments)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_file_strategy_on_a_sample_matches_buy_and_hold_by_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    strategy = _strategy_file(tmp_path, ALWAYS_LONG)
    report = tmp_path / "out" / "report.html"
    code, out, err = _run(
        ["backtest", str(strategy), "--data", "spx", *YEAR_2015, "--report", str(report)], capsys
    )
    assert code == 0, err
    bars = _spx_2015()
    # Decided and sized at the first close, bought at the second bar's open, held to the end.
    units = CASH / bars["close"][0]
    expected = CASH + units * (bars["close"][-1] - bars["open"][1])
    assert math.isclose(_final_equity(out), expected, abs_tol=0.006)
    assert f"{bars.height:,} bars" in out
    assert "Sharpe ratio" in out
    assert "AlwaysLong(weight=1.0)" in out
    assert str(report.resolve()) in out
    assert "Backtest report" in report.read_text(encoding="utf-8")


def test_size_at_fill_sizes_at_the_fill_price_as_computed_by_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    strategy = _strategy_file(tmp_path, ALWAYS_LONG)
    base = ["backtest", str(strategy), "--data", "SPX_1d", *YEAR_2015]
    code, out, err = _run([*base, "--size-at", "fill"], capsys)
    assert code == 0, err
    bars = _spx_2015()
    # Decided at the first close, sized and bought at the second bar's open, held to the end.
    expected = CASH / bars["open"][1] * bars["close"][-1]
    assert math.isclose(_final_equity(out), expected, abs_tol=0.006)
    code, decided, err = _run([*base, "--size-at", "decision"], capsys)
    assert code == 0, err
    code, default, err = _run(base, capsys)
    assert code == 0, err
    assert _final_equity(decided) == _final_equity(default) != _final_equity(out)


def test_size_at_names_its_choices_when_misspelt(capsys: pytest.CaptureFixture[str]):
    code, _, err = _run(
        ["backtest", "quantstrata.strategy.examples:SmaCrossover", "--size-at", "open"], capsys
    )
    assert code != 0
    assert "--size-at" in err
    assert "decision" in err
    assert "fill" in err


def test_fill_this_close_changes_the_result_as_computed_by_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    strategy = _strategy_file(tmp_path, ALWAYS_LONG)
    base = ["backtest", str(strategy), "--data", "SPX_1d", *YEAR_2015]
    code, default_out, err = _run([*base, "--report", str(tmp_path / "a.html")], capsys)
    assert code == 0, err
    code, close_out, err = _run(
        [*base, "--fill", "this_close", "--report", str(tmp_path / "b.html")], capsys
    )
    assert code == 0, err
    bars = _spx_2015()
    assert "fill policy next_open" in default_out
    assert "fill policy this_close" in close_out
    assert _final_equity(default_out) != _final_equity(close_out)
    expected = CASH / bars["close"][0] * bars["close"][-1]
    assert math.isclose(_final_equity(close_out), expected, abs_tol=0.006)


def test_module_class_strategy_with_params_matches_the_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    code, out, err = _run(
        [
            "backtest",
            "quantstrata.strategy.examples:SmaCrossover",
            "--param",
            "fast=5",
            "-p",
            "slow=20",
            "--cash",
            "50000",
            "--commission",
            "0.001",
            "--report",
            str(tmp_path / "r.html"),
        ],
        capsys,
    )
    assert code == 0, err
    assert "SmaCrossover(fast=5, slow=20, allow_short=False)" in out
    config = BacktestConfig.build(cash=50_000.0, commission={"rate": 0.001}, calendar="XNYS")
    expected = Backtest(load_sample("SPX_1d"), SmaCrossover(fast=5, slow=20), config).run()
    assert math.isclose(_final_equity(out), expected.final_equity, abs_tol=0.006)
    assert f"{expected.metrics.sharpe:.4g}" in out


def test_csv_data_is_read_with_the_importer(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    bars = _spx_2015()
    csv = tmp_path / "ACME_1d.csv"
    bars.select(
        Date=pl.col("ts").dt.strftime("%Y-%m-%d"),
        Open="open",
        High="high",
        Low="low",
        Close="close",
        Volume="volume",
    ).write_csv(csv)
    strategy = _strategy_file(tmp_path, ALWAYS_LONG)
    code, out, err = _run(
        [
            "backtest",
            str(strategy),
            "--data",
            str(csv),
            "--param",
            "weight=0.5",
            "--report",
            str(tmp_path / "r.html"),
        ],
        capsys,
    )
    assert code == 0, err
    assert "ACME" in out
    shares = 0.5 * CASH / bars["close"][0]  # sized at the deciding close
    expected = CASH - shares * bars["open"][1] + shares * bars["close"][-1]
    assert math.isclose(_final_equity(out), expected, abs_tol=0.006)


def test_catalog_symbol_and_several_data_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    root = tmp_path / "catalog"
    Catalog(root).write(_spx_2015().with_columns(symbol=pl.lit("ACME")), interval="1d")
    code, out, err = _run(
        [
            "backtest",
            "quantstrata.strategy.examples:MomentumRotation",
            "--data",
            "ACME",
            "--data",
            str(_strategy_csv(tmp_path)),
            "--catalog",
            str(root),
            "-p",
            "lookback=20",
            "-p",
            "top=1",
            "-p",
            "calendar=none",
            "--report",
            str(tmp_path / "r.html"),
        ],
        capsys,
    )
    assert code == 0, err
    assert f"catalog {root}" in out
    assert "calendar=None" in out
    assert f"{_spx_2015().height:,} bars" in out


def _strategy_csv(tmp_path: Path) -> Path:
    path = tmp_path / "OTHER.parquet"
    _spx_2015().with_columns(symbol=pl.lit("OTHER"), close=pl.col("open")).write_parquet(path)
    return path


def test_example_file_with_one_class_is_picked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(["backtest", str(EXAMPLES / "sma_cross.py"), *YEAR_2015], capsys)
    assert code == 0, err
    assert "SmaCross(fast=20, slow=50)" in out
    assert list(tmp_path.iterdir()) == []


def test_unknown_parameter_lists_the_parameter_space(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(
        ["backtest", str(EXAMPLES / "sma_cross.py"), "--param", "speed=3"], capsys
    )
    assert code == 1
    assert "error:" in err
    assert "'speed'" in err
    assert "fast (default 20, 2..500)" in err
    assert "hint:" in err
    assert not (tmp_path / "backtest-report.html").exists()
    assert out == ""


@pytest.mark.parametrize(
    ("parameters", "fragment"),
    [(["fast=abc"], "fast"), (["fast=60"], "must be less than slow"), (["fast"], "name=value")],
)
def test_bad_parameter_values_exit_1_with_a_hint(
    parameters: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
):
    arguments = ["backtest", "quantstrata.strategy.examples:SmaCrossover"]
    for parameter in parameters:
        arguments += ["--param", parameter]
    code, _, err = _run(arguments, capsys)
    assert code == 1
    assert fragment in err
    assert "hint:" in err


def test_file_with_several_strategies_needs_a_class_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    both = _strategy_file(tmp_path, ALWAYS_LONG + PEEKING.replace("import polars as pl\n", ""))
    code, _, err = _run(["backtest", str(both)], capsys)
    assert code == 1
    assert "AlwaysLong, Peeking" in err
    code, _, err = _run(
        ["backtest", f"{both}:AlwaysLong", *YEAR_2015, "--report", str(tmp_path / "r.html")],
        capsys,
    )
    assert code == 0, err
    code, _, err = _run(["backtest", f"{both}:Missing"], capsys)
    assert code == 1
    assert "no strategy class 'Missing'" in err


def test_look_ahead_is_refused_with_its_own_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    strategy = _strategy_file(tmp_path, PEEKING)
    code, _, err = _run(["backtest", str(strategy), *YEAR_2015], capsys)
    assert code == 1
    assert "that bar and earlier ones only" in err
    assert not (tmp_path / "backtest-report.html").exists()


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (
            ["quantstrata.strategy.examples:SmaCrossover", "-d", "NOPE"],
            "no sample, file or catalog symbol named",
        ),
        (["quantstrata.strategy.examples:SmaCrossover", "--data", "missing.csv"], "missing.csv"),
        (["no_such_module_here:Thing"], "no_such_module_here"),
        (["missing_strategy.py"], "does not exist"),
        (["quantstrata.strategy.examples:SmaCrossover", "--from", "2030-01-01"], "no bars"),
        (["quantstrata.strategy.examples:SmaCrossover", "-d", "SPX", "-d", "spx_1d"], "twice"),
        (
            ["quantstrata.strategy.examples:SmaCrossover", "--from", "2016-01-01", "--to", "2015"],
            "must be before",
        ),
    ],
)
def test_bad_inputs_exit_1_with_one_line_and_a_hint(
    arguments: list[str],
    fragment: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUANTSTRATA_CATALOG", str(tmp_path / "empty-catalog"))
    code, _, err = _run(["backtest", *arguments], capsys)
    assert code == 1
    assert fragment in err
    assert "hint:" in err


def test_event_and_signal_crossovers_give_the_same_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    outputs = []
    for name in ("SmaCrossover", "EventSmaCrossover"):
        code, out, err = _run(
            [
                "backtest",
                f"quantstrata.strategy.examples:{name}",
                "-d",
                "GOOG",
                "-p",
                "fast=8",
                "-p",
                "slow=21",
                "--report",
                str(tmp_path / f"{name}.html"),
            ],
            capsys,
        )
        assert code == 0, err
        assert f"{name}(fast=8, slow=21" in out
        outputs.append(out)
    assert _final_equity(outputs[0]) == _final_equity(outputs[1])
    assert "sample GOOG_1d" in outputs[0]


def test_interval_picks_the_sample_of_that_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("QUANTSTRATA_CATALOG", str(tmp_path / "empty-catalog"))
    arguments = ["backtest", "quantstrata.strategy.examples:SmaCrossover", "-d", "eurusd"]
    code, out, err = _run([*arguments, "-i", "1h", "--report", str(tmp_path / "r.html")], capsys)
    assert code == 0, err
    assert "sample EURUSD_1h" in out
    code, _, err = _run([*arguments, "-i", "1d"], capsys)
    assert code == 1
    assert "no sample, file or catalog symbol named" in err
