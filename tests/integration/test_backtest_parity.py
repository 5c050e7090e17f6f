"""The first parity test: one strategy, two styles, the same fills and equity.

``SmaCrossover`` (vectorised targets, compiled loop) and ``EventSmaCrossover`` (streaming
averages, bar-by-bar callbacks) are the same strategy; through the shared fill model they must
trade identically on real data, with targets sized at the fill (the signal style in the compiled
loop) and at the decision (the default; its targets replayed through the event loop).
"""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.data.samples import load_sample
from quantstrata.data.synthetic import generate_bars
from quantstrata.execution import CommissionConfig, FillConfig, FillPolicy, SlippageConfig
from quantstrata.strategy.examples import EventSmaCrossover, SmaCrossover

_COMPARED = ["ts", "symbol", "side", "quantity", "price", "commission", "liquidity"]


@pytest.mark.parametrize("sample", ["SPX_1d", "GOOG_1d"])
@pytest.mark.parametrize(
    "config",
    [
        BacktestConfig(),
        BacktestConfig(size_at="fill"),
        BacktestConfig(
            fill=FillConfig(policy=FillPolicy.NEXT_CLOSE),
            commission=CommissionConfig(rate=0.0005, minimum=1.0),
            slippage=SlippageConfig(fixed_basis_points=2.0),
            size_at="fill",
        ),
    ],
    ids=["defaults", "at-fill", "at-fill-costs-next-close"],
)
@pytest.mark.parametrize("allow_short", [False, True])
def test_signal_and_event_styles_trade_identically(
    sample: str, config: BacktestConfig, allow_short: bool
) -> None:
    bars = load_sample(sample)
    signal = Backtest(bars, SmaCrossover(fast=10, slow=30, allow_short=allow_short), config).run()
    event = Backtest(
        bars, EventSmaCrossover(fast=10, slow=30, allow_short=allow_short), config
    ).run()
    assert signal.fills.height > 20
    assert_frame_equal(
        signal.fills.select(_COMPARED),
        event.fills.select(_COMPARED),
        check_exact=False,
        rel_tol=1e-9,
    )
    assert_frame_equal(signal.trades, event.trades, check_exact=False, rel_tol=1e-9, abs_tol=1e-6)
    assert event.final_equity == pytest.approx(signal.final_equity, rel=1e-9)
    assert_frame_equal(signal.equity, event.equity, check_exact=False, rel_tol=1e-9, abs_tol=1e-6)
    created = pl.col("created_ts")
    assert signal.orders.select(created).equals(event.orders.select(created))


def test_parity_with_shared_cash_volume_caps_and_whole_lots() -> None:
    bars = generate_bars(symbols=["AAA", "BBB"], bars=400, interval="1h", gap_volatility=0.002)
    bars = bars.filter(~((pl.col("symbol") == "BBB") & (pl.int_range(pl.len()) % 7 == 0)))
    config = BacktestConfig(
        fill=FillConfig(volume_cap=0.05),
        fractional=False,
        max_leverage=1.5,
        commission=CommissionConfig(per_order=1.0),
        size_at="fill",  # the compiled loop: a capped target order's rest is cancelled
    )
    signal = Backtest(bars, SmaCrossover(fast=5, slow=20, allow_short=True), config).run()
    event = Backtest(bars, EventSmaCrossover(fast=5, slow=20, allow_short=True), config).run()
    assert signal.orders.filter(pl.col("status") == "cancelled").height > 0  # volume cap bit
    assert set(signal.fills["symbol"]) == {"AAA", "BBB"}
    assert_frame_equal(
        signal.fills.select(_COMPARED),
        event.fills.select(_COMPARED),
        check_exact=False,
        rel_tol=1e-9,
    )
    assert_frame_equal(signal.equity, event.equity, check_exact=False, rel_tol=1e-9, abs_tol=1e-6)
