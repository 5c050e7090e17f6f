"""A margin call and its liquidation, computed by hand, in the backtest (event and signal).

The scenario (every number below is worked out by hand, not read from a run):

- 10,000 cash; ``AAA`` is an equity under Reg-T (50 % initial, 25 % maintenance), traded
  around the clock (no calendar) on daily bars; commission 0.01 per share.
- Bar 0 (all prices 100): the strategy sells 100 ``AAA`` short (a market order; the signal
  twin targets -100 % of equity, the same 100 shares at the close of 100).
- Bar 1 opens at 100: the short fills, 100 @ 100, commission 1.00.
  cash = 10,000 + 10,000 − 1 = 19,999. Close 100: equity = 19,999 − 10,000 = 9,999;
  maintenance = 25 % × 100 × 100 = 2,500: no call.
- Bar 2 closes at 150: equity = 19,999 − 15,000 = 4,999; maintenance = 25 % × 15,000 = 3,750:
  no call.
- Bar 3 closes at 170: equity = 19,999 − 17,000 = 2,999; maintenance = 25 % × 17,000 = 4,250:
  equity < maintenance, **the margin call** (at bar 3's time), closing ``AAA`` (the only
  position, so the largest loser).
- Bar 4 opens at 175: the liquidation, a reduce-only market buy of 100 tagged
  "margin call liquidation", fills 100 @ 175, commission 1.00.
  cash = 19,999 − 17,500 − 1 = 2,498; flat, so equity = 2,498 from here on.
- Bar 5 closes at 160: nothing changes (equity 2,498).
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.backtest.config import SizeAt
from quantstrata.backtest.report import render_report
from quantstrata.core.errors import ConfigError
from quantstrata.exchange import LIQUIDATION_TAG
from quantstrata.execution import CommissionConfig
from quantstrata.model.instrument import Instrument
from quantstrata.model.orders import OrderRequest
from quantstrata.strategy.signal import TargetUnit
from tests.kit.backtest import (
    MARGIN_CALL_ROWS,
    START,
    FixedTargets,
    ScriptedOrders,
    constant_targets,
    make_bars,
)

BARS = make_bars(MARGIN_CALL_ROWS)
AAA = Instrument.of("AAA", "equity", calendar=None)


def _config(**settings: object) -> BacktestConfig:
    return BacktestConfig(
        cash=10_000.0,
        commission=CommissionConfig(per_unit=0.01),
        instruments={"AAA": AAA},
        **settings,  # type: ignore[arg-type]
    )


def _short() -> ScriptedOrders:
    return ScriptedOrders({0: [OrderRequest.market("AAA", -100.0)]})


def test_a_short_past_maintenance_is_called_and_liquidated_at_the_next_open() -> None:
    result = Backtest(BARS, _short(), _config()).run()

    calls = result.margin_calls
    assert calls.to_dicts() == [
        {
            "ts": START + timedelta(days=3),
            "equity": 2_999.0,
            "maintenance": 4_250.0,
            "policy": "liquidate_largest_loser",
            "symbols": ["AAA"],
        }
    ]
    fills = result.fills.select("ts", "side", "quantity", "price", "commission").to_dicts()
    assert fills == [
        {"ts": START + timedelta(days=1), "side": "sell", "quantity": 100.0, "price": 100.0,
         "commission": 1.0},
        {"ts": START + timedelta(days=4), "side": "buy", "quantity": 100.0, "price": 175.0,
         "commission": 1.0},
    ]  # fmt: skip
    liquidation = result.orders.filter(pl.col("tag") == LIQUIDATION_TAG)
    assert liquidation.select("created_ts", "side", "quantity", "status").to_dicts() == [
        {"created_ts": START + timedelta(days=3), "side": "buy", "quantity": 100.0,
         "status": "filled"},
    ]  # fmt: skip
    assert result.equity["cash"].to_list() == [
        10_000.0, 19_999.0, 19_999.0, 19_999.0, 2_498.0, 2_498.0,
    ]  # fmt: skip
    assert result.equity["equity"].to_list() == [
        10_000.0, 9_999.0, 4_999.0, 2_999.0, 2_498.0, 2_498.0,
    ]  # fmt: skip
    page = render_report(result)
    assert '<section id="margin-calls"' in page or 'id="margin-calls"' in page
    assert "<td>2,999.00</td><td>4,250.00</td><td>liquidate_largest_loser</td><td>AAA</td>" in page


def test_without_a_policy_the_short_runs_on() -> None:
    result = Backtest(BARS, _short(), _config(margin_call="none")).run()

    assert result.margin_calls.is_empty()
    assert result.fills.height == 1
    # 19,999 − 100 × 160 at the last close.
    assert result.final_equity == 3_999.0


def test_a_signal_strategy_gets_the_same_call_in_both_sizings() -> None:
    """The compiled loops make no calls: a run that met one is the event loop's, bit for bit."""
    event = Backtest(BARS, _short(), _config()).run()
    for size_at in (SizeAt.DECISION, SizeAt.FILL):
        signal = Backtest(BARS, constant_targets(BARS, -1.0), _config(size_at=size_at)).run()
        columns = ("ts", "side", "quantity", "price", "commission")
        assert signal.fills.select(columns).equals(event.fills.select(columns)), size_at
        assert signal.margin_calls.equals(event.margin_calls), size_at
        assert signal.equity["cash"].to_list() == event.equity["cash"].to_list(), size_at


def test_a_run_that_never_breaches_maintenance_stays_compiled_and_unchanged() -> None:
    calm = make_bars([(100.0, 100.0, 100.0, 100.0)] * 2 + [(100.0, 120.0, 100.0, 120.0)] * 3)
    margined = Backtest(calm, constant_targets(calm, -1.0), _config()).run()
    plain = Backtest(calm, constant_targets(calm, -1.0), _config(margin_call="none")).run()
    assert margined.margin_calls.is_empty()
    assert margined.fills.equals(plain.fills)
    assert margined.equity.equals(plain.equity)


def test_an_unknown_policy_is_rejected_naming_the_field() -> None:
    with pytest.raises(ValueError, match="margin_call"):
        _config(margin_call="liquidate_some")


class _UnitTargets(FixedTargets):
    target_unit = TargetUnit.UNITS


def test_unit_targets_sized_at_the_fill_cannot_be_called() -> None:
    strategy = _UnitTargets(BARS.select("ts", "symbol", pl.lit(-100.0).alias("target")))
    with pytest.raises(ConfigError, match="size_at='decision'"):
        Backtest(BARS, strategy, _config(size_at="fill")).run()
