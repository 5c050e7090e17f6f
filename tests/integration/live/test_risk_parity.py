"""One risk engine: an order the live runtime's risk checks refuse is refused in a backtest too."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.data.samples import load_sample
from quantstrata.execution.risk import RiskConfig, RiskViolation
from quantstrata.live import Live, LiveConfig
from quantstrata.live.journal import RiskRejection, SqliteJournal
from quantstrata.model.bar import BAR_COLUMNS
from quantstrata.model.orders import OrderRequest
from tests.kit.backtest import ScriptedOrders

RISK = RiskConfig(max_order_notional=50_000.0, max_position_units=30.0)


def _script() -> ScriptedOrders:
    return ScriptedOrders(
        {
            3: [OrderRequest.market("SPX", 2.0, tag="small")],
            5: [OrderRequest.market("SPX", 40.0, tag="too big")],
            8: [OrderRequest.limit("SPX", 1.0, 10.0, tag="passes")],
        }
    )


def _live_reasons(journal: Path) -> list[str]:
    store = SqliteJournal(journal)
    try:
        return [
            RiskViolation(record.entry.request, record.entry.failures).reason
            for record in store.replay()
            if isinstance(record.entry, RiskRejection)
        ]
    finally:
        store.close()


def test_an_order_refused_live_is_rejected_in_the_backtest_with_the_same_reason(
    tmp_path: Path,
) -> None:
    bars = load_sample("SPX_1d").select(BAR_COLUMNS).head(12)
    journal = tmp_path / "paper.sqlite"
    config = LiveConfig(symbols=("SPX",), journal=str(journal), risk=RISK)

    summary = Live.paper(_script(), bars, config=config, journal=journal)
    backtest = BacktestConfig(risk=RISK, size_at="decision", check_lookahead=False)
    result = Backtest(bars, _script(), backtest).run()

    live_reasons = _live_reasons(journal)
    rejected = result.orders.filter(pl.col("status") == "rejected")
    assert summary.risk_rejections == 1
    assert len(live_reasons) == 1
    assert "max_order_notional" in live_reasons[0]
    assert "max_position_units" in live_reasons[0]
    assert rejected.get_column("tag").to_list() == [f"too big; {live_reasons[0]}"]
    assert result.orders.filter(pl.col("status") != "rejected").height == 2


def test_without_a_risk_config_the_backtest_checks_nothing() -> None:
    bars = load_sample("SPX_1d").select(BAR_COLUMNS).head(12)

    result = Backtest(bars, _script(), BacktestConfig()).run()

    assert result.orders.filter(pl.col("status") == "rejected").is_empty()
