"""One leverage tag: a capped target order reads the same in the backtest and the live runtime."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.data.samples import load_sample
from quantstrata.live import Live
from quantstrata.live.journal import SqliteJournal
from quantstrata.model.bar import BAR_COLUMNS
from quantstrata.model.orders.events import Submitted
from tests.kit.backtest import constant_targets


def _live_tags(journal: Path) -> list[str | None]:
    store = SqliteJournal(journal)
    try:
        return [
            record.entry.request.tag
            for record in store.replay()
            if isinstance(record.entry, Submitted)
        ]
    finally:
        store.close()


def test_a_capped_target_has_the_same_tag_in_the_backtest_and_live(tmp_path: Path) -> None:
    bars = load_sample("SPX_1d").select(BAR_COLUMNS).head(40)
    journal = tmp_path / "paper.sqlite"

    Live.paper(constant_targets(bars, 1.6), bars, journal=journal)
    config = BacktestConfig(size_at="decision", check_lookahead=False)
    result = Backtest(bars, constant_targets(bars, 1.6), config).run()

    backtest_tags = result.orders.sort("created_ts").get_column("tag").to_list()
    live_tags = _live_tags(journal)
    assert any("leverage cap reduced" in str(tag) for tag in backtest_tags)
    assert live_tags == backtest_tags
    assert result.orders.filter(pl.col("tag").str.contains("leverage cap")).height >= 1
