"""The one promise at the command line: ``quantstrata backtest``, ``quantstrata live --venue
sim`` and ``quantstrata live --venue paper`` print the same final equity for every example
strategy, with default settings.

The backtest's default sizes a target at the deciding close, as live trading must (it cannot
know the next open). Every script in ``examples/`` is found by globbing, so a new example is
covered. Each runs with its default parameters on the three bundled daily samples (a
single-symbol strategy trades each of them, a rotation or a pipeline ranks them), over the
last bar times its warm-up plus ``TRADED`` leave: few bars, so the test stays quick. The venue
is a real server on loopback (port 0) replaying the same bars in lockstep with the default
venue settings. The commands run through the console script's entry point, in this process.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from quantstrata.cli._bar_source import load_bars
from quantstrata.cli._strategy_source import build_strategy, load_strategy_class
from quantstrata.cli.app import main
from quantstrata.cli.venue import KEY_VARIABLE
from tests.kit.venue import KEY_TEXT, venue_in_thread

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))
SAMPLES = ("SPX", "IXIC", "GOOG")
TRADED = 100
"""Bar times traded after the warm-up."""

_BACKTEST = re.compile(r"final equity (-?[\d,]+\.\d\d)\b")
_LIVE = re.compile(r"^\W*equity\W+(-?[\d,]+\.\d\d)\b", re.MULTILINE)


def _window(example: Path) -> tuple[list[str], pl.DataFrame]:
    """Return the ``--from``/``--to`` options and the bars of the example's window.

    The window is the last bar times every sample has, as many as the example's warm-up plus
    ``TRADED``.
    """
    strategy = build_strategy(load_strategy_class(str(example)), [])
    bars = load_bars(list(SAMPLES), interval=None, catalog=None, start=None, end=None).bars
    shared = bars.group_by("ts").len().filter(pl.col("len") == len(SAMPLES))["ts"].sort()
    first, last = shared[-(strategy.warmup_bars() + TRADED)], shared[-1]
    options = ["--from", f"{first:%Y-%m-%d}", "--to", f"{last + timedelta(days=1):%Y-%m-%d}"]
    return options, bars.filter(pl.col("ts").is_between(first, last))


def _printed(
    arguments: list[str], pattern: re.Pattern[str], capsys: pytest.CaptureFixture[str]
) -> str:
    code = main(arguments)
    out, err = capsys.readouterr()
    assert code == 0, err
    found = pattern.search(out)
    assert found, out
    return found.group(1)


def _data(option: str) -> list[str]:
    return [item for sample in SAMPLES for item in (option, sample)]


def test_the_glob_finds_the_example_scripts() -> None:
    assert "sma_cross.py" in {path.name for path in EXAMPLES}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_backtest_live_sim_and_live_paper_print_the_same_final_equity(
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, bars = _window(example)
    script = str(example)
    backtest = _printed(["backtest", script, *_data("--data"), *window], _BACKTEST, capsys)
    journal = ["--journal", str(tmp_path / "paper.sqlite")]
    paper_run = ["live", script, *_data("--data"), *window, "--venue", "paper", *journal]
    paper = _printed(paper_run, _LIVE, capsys)
    monkeypatch.setenv(KEY_VARIABLE, KEY_TEXT)
    with venue_in_thread(bars, speed="lockstep") as server:
        venue = ["--venue", "sim", "--venue-url", server.url, *_data("--symbol")]
        journal = ["--journal", str(tmp_path / "sim.sqlite")]
        sim = _printed(["live", script, *venue, *journal], _LIVE, capsys)
    assert (sim, paper) == (backtest, backtest), (
        f"{example.name}: backtest {backtest}, live sim {sim}, live paper {paper}"
    )
