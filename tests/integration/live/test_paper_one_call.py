"""``Live.paper``: one call gives the backtest's fills, resumes a journal, never re-trades."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from quantstrata.core.errors import ConfigError
from quantstrata.data.samples import load_sample
from quantstrata.live import Live, LiveConfig
from quantstrata.live.journal import JournalError
from quantstrata.strategy.examples import SmaCrossover
from tests.kit.live_checks import backtest_fills, fills_frame

RATE = 0.001
START = datetime(2018, 1, 1, tzinfo=UTC)
MIDDLE = datetime(2018, 4, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def bars() -> pl.DataFrame:
    frame = load_sample("SPX_1d")
    return frame.filter(
        pl.col("ts").is_between(
            datetime(2017, 6, 1, tzinfo=UTC), datetime(2018, 7, 1, tzinfo=UTC), closed="left"
        )
    )


def _strategy() -> SmaCrossover:
    return SmaCrossover(fast=10, slow=30)


def test_one_call_gives_the_decision_sized_backtests_fills(bars: pl.DataFrame) -> None:
    summary = Live.paper(_strategy(), bars, commission=RATE)
    expected = backtest_fills(bars, _strategy(), RATE)
    assert fills_frame(summary.fills).equals(expected)
    assert summary.bar_times == bars.height


def test_a_resumed_run_equals_one_run(bars: pl.DataFrame, tmp_path: Path) -> None:
    whole = Live.paper(_strategy(), bars, commission=RATE, start=START)
    journal = tmp_path / "paper.sqlite"
    early = bars.filter(pl.col("ts") < MIDDLE)
    first = Live.paper(_strategy(), early, commission=RATE, start=START, journal=journal)
    second = Live.paper(_strategy(), bars, commission=RATE, start=START, journal=journal)
    assert second.resumed_after == early["ts"].max()
    assert first.bar_times + second.bar_times == whole.bar_times
    assert fills_frame(first.fills + second.fills).equals(fills_frame(whole.fills))
    assert second.equity == pytest.approx(whole.equity, rel=1e-12)
    again = Live.paper(_strategy(), bars, commission=RATE, start=START, journal=journal)
    assert again.bar_times == 0
    assert again.fills == ()
    assert again.equity == pytest.approx(whole.equity, rel=1e-12)


def test_cash_must_be_positive_and_start_inside_the_bars(bars: pl.DataFrame) -> None:
    with pytest.raises(ConfigError, match="cash"):
        Live.paper(_strategy(), bars, cash=-5000.0)
    with pytest.raises(ConfigError, match=r"start 2030-01-01 is after the last bar \(2018-06-29\)"):
        Live.paper(_strategy(), bars, start=datetime(2030, 1, 1, tzinfo=UTC))


def test_a_dsn_password_shows_in_no_repr_dump_or_error(bars: pl.DataFrame) -> None:
    dsn = "postgresql://postgres:hunter2secret@127.0.0.1:1/test?connect_timeout=1"
    config = LiveConfig(symbols=("SPX",), journal=dsn)
    shown = [repr(config), str(config), str(config.model_dump()), config.model_dump_json()]
    assert all("hunter2secret" not in text for text in shown)
    assert "postgresql://postgres:***@127.0.0.1:1/test" in config.model_dump_json()
    with pytest.raises(JournalError) as caught:
        Live.paper(_strategy(), bars, config=config)
    assert "hunter2secret" not in str(caught.value) + repr(caught.value)
