"""Behaviour of Backtest: accounting invariants, target netting, limits, costs, look-ahead."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.analytics import periods_per_year
from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
from quantstrata.core.clock import SimulatedClock
from quantstrata.core.errors import ConfigError, DataError
from quantstrata.data.samples import load_sample
from quantstrata.execution import CommissionConfig, FillConfig, FillPolicy, SlippageConfig
from quantstrata.model.instrument import AssetClass, Instrument
from quantstrata.strategy import LookAheadError
from tests.kit.backtest import (
    START,
    FixedTargets,
    Idle,
    PeekingStrategy,
    constant_targets,
    flat_bars,
    make_bars,
    random_bars,
)

FREE = BacktestConfig(check_lookahead=False)


def _targets(bars: pl.DataFrame, values: dict[int, float], symbol: str = "AAA") -> FixedTargets:
    rows = bars.filter(pl.col("symbol") == symbol).select("ts", "symbol")
    picked = rows.with_row_index("row").filter(pl.col("row").is_in(list(values)))
    frame = picked.select(
        "ts",
        "symbol",
        pl.col("row").replace_strict(values, return_dtype=pl.Float64).alias("target"),
    )
    return FixedTargets(frame)


def _replay_account(result: BacktestResult, cash: float) -> tuple[list[float], list[float]]:
    """Recompute cash and equity per bar from the fills alone, in plain Python."""
    bars = result.bars
    fills = result.fills.to_dicts()
    held: dict[str, float] = {}
    last_close: dict[str, float] = {}
    cash_path, equity_path = [], []
    for ts in result.equity["ts"].to_list():
        for fill in (f for f in fills if f["ts"] == ts):
            sign = 1.0 if fill["side"] == "buy" else -1.0
            held[fill["symbol"]] = held.get(fill["symbol"], 0.0) + sign * fill["quantity"]
            cash -= sign * fill["quantity"] * fill["price"] + fill["commission"]
        for row in bars.filter(pl.col("ts") == ts).iter_rows(named=True):
            last_close[row["symbol"]] = row["close"]
        value = sum(q * last_close[s] for s, q in held.items() if q != 0.0)
        cash_path.append(cash)
        equity_path.append(cash + value)
    return cash_path, equity_path


@settings(max_examples=60, deadline=None)
@given(
    bars=random_bars(symbols=("AAA", "BBB")),
    level=st.sampled_from([-1.0, -0.5, 0.3, 1.0]),
    policy=st.sampled_from(list(FillPolicy)),
    rate=st.sampled_from([0.0, 0.001]),
)
def test_cash_plus_positions_is_equity_at_every_bar(
    bars: pl.DataFrame, level: float, policy: FillPolicy, rate: float
) -> None:
    flip = bars.select(
        "ts",
        "symbol",
        pl.when(pl.int_range(pl.len()).over("symbol") % 3 == 0)
        .then(level)
        .otherwise(-level / 2)
        .alias("target"),
    )
    config = BacktestConfig(
        check_lookahead=False,
        fill=FillConfig(policy=policy),
        commission=CommissionConfig(rate=rate),
        max_leverage=2.0,
    )
    result = Backtest(bars, FixedTargets(flip), config).run()
    equity = result.equity
    assert np.allclose(
        equity["equity"], equity["cash"] + equity["positions_value"], rtol=1e-9, atol=0.0
    )
    cash_path, equity_path = _replay_account(result, config.cash)
    assert np.allclose(equity["cash"], cash_path, rtol=1e-9, atol=1e-6)
    assert np.allclose(equity["equity"], equity_path, rtol=1e-9, atol=0.0)


@settings(max_examples=60, deadline=None)
@given(bars=random_bars(symbols=("AAA", "BBB")), policy=st.sampled_from(list(FillPolicy)))
def test_fills_lie_within_their_bar_range(bars: pl.DataFrame, policy: FillPolicy) -> None:
    flip = bars.select(
        "ts",
        "symbol",
        pl.when(pl.int_range(pl.len()).over("symbol") % 2 == 0)
        .then(1.0)
        .otherwise(-0.5)
        .alias("target"),
    )
    config = BacktestConfig(check_lookahead=False, fill=FillConfig(policy=policy), max_leverage=3.0)
    fills = Backtest(bars, FixedTargets(flip), config).run().fills
    joined = fills.join(bars, on=["ts", "symbol"], how="left")
    assert joined["low"].null_count() == 0
    assert ((joined["price"] >= joined["low"]) & (joined["price"] <= joined["high"])).all()


@settings(max_examples=40, deadline=None)
@given(bars=random_bars(symbols=("AAA", "BBB")))
def test_a_strategy_that_never_trades_keeps_its_cash(bars: pl.DataFrame) -> None:
    for strategy in (
        Idle(),
        FixedTargets(bars.select("ts", "symbol").clear().with_columns(pl.lit(1.0).alias("target"))),
    ):
        result = Backtest(bars, strategy, FREE).run()
        assert result.fills.is_empty()
        assert result.orders.is_empty()
        assert (result.equity["equity"] == 100_000.0).all()
        assert result.final_equity == 100_000.0


@settings(max_examples=60, deadline=None)
@given(bars=random_bars())
def test_buy_and_hold_earns_the_price_return(bars: pl.DataFrame) -> None:
    result = Backtest(bars, constant_targets(bars, 1.0), FREE).run()
    units = 100_000.0 / bars["close"][0]  # sized at the deciding close, bought at the next open
    expected = 100_000.0 - units * bars["open"][1] + units * bars["close"][-1]
    assert math.isclose(result.final_equity, expected, rel_tol=1e-12)
    assert result.fills.height == 1


@settings(max_examples=30, deadline=None)
@given(bars=random_bars())
def test_buy_and_hold_sized_at_the_fill_earns_the_price_return(bars: pl.DataFrame) -> None:
    config = BacktestConfig(check_lookahead=False, size_at="fill")
    result = Backtest(bars, constant_targets(bars, 1.0), config).run()
    expected = 100_000.0 * bars["close"][-1] / bars["open"][1]
    assert math.isclose(result.final_equity, expected, rel_tol=1e-12)
    assert result.fills.height == 1


def test_target_is_netted_against_the_position() -> None:
    bars = flat_bars([100.0, 100.0, 200.0, 200.0, 200.0])
    result = Backtest(bars, _targets(bars, {0: 1.0, 2: 0.25}), FREE).run()
    fills = result.fills
    assert fills["side"].to_list() == ["buy", "sell"]
    # 1000 units bought at 100; equity at 200 is 200 000, a quarter is 250 units: sell 750.
    assert fills["quantity"].to_list() == pytest.approx([1_000.0, 750.0], rel=1e-12)
    assert fills["ts"].to_list() == [bars["ts"][1], bars["ts"][3]]
    assert result.positions["quantity"][-1] == pytest.approx(250.0)


def test_repeating_a_target_does_not_trade_again() -> None:
    bars = flat_bars([100.0, 110.0, 120.0, 130.0])
    result = Backtest(bars, constant_targets(bars, 0.5), FREE).run()
    assert result.fills.height == 1


def test_leverage_cap_reduces_the_order_and_records_it() -> None:
    bars = flat_bars([50.0, 50.0, 50.0])
    capped = Backtest(bars, _targets(bars, {0: 2.0}), FREE).run()
    assert capped.fills["quantity"].to_list() == pytest.approx([2_000.0])
    assert "leverage cap" in capped.orders["tag"][0]
    levered = BacktestConfig(check_lookahead=False, max_leverage=2.0)
    full = Backtest(bars, _targets(bars, {0: 2.0}), levered).run()
    assert full.fills["quantity"].to_list() == pytest.approx([4_000.0])
    assert full.orders["tag"][0] == "target"
    assert full.equity["gross_exposure"][-1] == pytest.approx(2.0)


def test_short_targets_need_allow_short() -> None:
    bars = flat_bars([100.0, 100.0, 80.0])
    short = Backtest(bars, _targets(bars, {0: -1.0}), FREE).run()
    assert short.fills["side"].to_list() == ["sell"]
    assert short.positions["quantity"][-1] == pytest.approx(-1_000.0)
    assert short.final_equity == pytest.approx(120_000.0)
    no_short = BacktestConfig(check_lookahead=False, allow_short=False)
    flat = Backtest(bars, _targets(bars, {0: -1.0}), no_short).run()
    assert flat.fills.is_empty()
    assert flat.final_equity == 100_000.0


def test_percent_commission_and_slippage_are_charged_exactly() -> None:
    bars = make_bars(
        [(100.0, 101.0, 99.0, 100.0), (100.0, 102.0, 98.0, 101.0), (101.0, 101.0, 101.0, 101.0)]
    )
    config = BacktestConfig(
        check_lookahead=False,
        commission=CommissionConfig(rate=0.001),
        slippage=SlippageConfig(fixed_basis_points=10.0),
    )
    result = Backtest(bars, _targets(bars, {0: 0.5}), config).run()
    fill = result.fills.row(0, named=True)
    units = 0.5 * 100_000.0 / 100.0  # sized at the fill bar's open, before slippage
    price = 100.0 * (1.0 + 10.0 * 1e-4)
    assert fill["quantity"] == pytest.approx(units, rel=1e-15)
    assert fill["price"] == pytest.approx(price, rel=1e-15)
    assert fill["commission"] == pytest.approx(0.001 * units * price, rel=1e-12)
    expected_cash = 100_000.0 - units * price - 0.001 * units * price
    assert result.equity["cash"][-1] == pytest.approx(expected_cash, rel=1e-12)
    assert result.final_equity == pytest.approx(expected_cash + units * 101.0, rel=1e-12)


def test_symbols_share_one_cash_account() -> None:
    first = flat_bars([100.0, 100.0, 100.0, 120.0])
    second = flat_bars([50.0, 50.0, 60.0], symbol="BBB")
    bars = pl.concat([first, second]).sort("ts", "symbol")
    targets = bars.filter(pl.col("ts") == START).select("ts", "symbol", pl.lit(0.5).alias("target"))
    result = Backtest(bars, FixedTargets(targets), FREE).run()
    assert sorted(result.fills["symbol"].to_list()) == ["AAA", "BBB"]
    assert result.equity["cash"][-1] == pytest.approx(0.0, abs=1e-6)
    # AAA 500 units × 120 and BBB 1000 units × 60 (its last close; no bar on the last day).
    assert result.final_equity == pytest.approx(500 * 120.0 + 1_000 * 60.0)
    assert result.positions.filter(pl.col("symbol") == "BBB").height == 3


def test_symbol_without_a_bar_neither_trades_nor_revalues() -> None:
    first = flat_bars([100.0, 100.0, 100.0, 100.0])
    second = pl.concat(
        [flat_bars([50.0], symbol="BBB"), flat_bars([70.0], symbol="BBB", start_day=3)]
    )
    bars = pl.concat([first, second]).sort("ts", "symbol")
    targets = (
        bars.filter(pl.col("symbol") == "BBB")
        .head(1)
        .select("ts", "symbol", pl.lit(0.5).alias("target"))
    )
    result = Backtest(bars, FixedTargets(targets), FREE).run()
    fill = result.fills.row(0, named=True)
    assert fill["ts"] == bars["ts"].max()  # BBB's next bar is the fourth day
    assert fill["price"] == 70.0
    assert result.equity["equity"].to_list() == pytest.approx([100_000.0] * 4)


def test_whole_lots_round_toward_zero() -> None:
    bars = flat_bars([30.0, 30.0, 30.0])
    instrument = Instrument("AAA", AssetClass.EQUITY, "USD", lot_size=10.0)
    config = BacktestConfig(
        check_lookahead=False, fractional=False, instruments={"AAA": instrument}
    )
    result = Backtest(bars, _targets(bars, {0: 1.0}), config).run()
    assert result.fills["quantity"].to_list() == [3_330.0]


def test_lookahead_is_an_error() -> None:
    bars = flat_bars([float(100 + (i * 7) % 13) for i in range(60)])
    with pytest.raises(LookAheadError):
        Backtest(bars, PeekingStrategy()).run()
    Backtest(bars, PeekingStrategy(), FREE).run()


def test_started_at_comes_from_the_clock() -> None:
    bars = flat_bars([100.0, 100.0])
    clock = SimulatedClock(START.replace(year=2030))
    result = Backtest(bars, Idle(), clock=clock).run()
    assert result.record.started_at == clock.now()
    assert result.record.bars == 2
    assert result.record.symbols == ("AAA",)
    assert len(result.record.data_fingerprint) == 64


def test_bad_input_is_a_typed_error() -> None:
    bars = flat_bars([100.0, 100.0])
    with pytest.raises(DataError):
        Backtest(pl.concat([bars, bars]), Idle()).run()
    with pytest.raises(ConfigError):
        Backtest(bars, object()).run()  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        BacktestConfig.build(cash=-1.0)


def test_a_rotation_sells_before_it_buys() -> None:
    bars = pl.concat([flat_bars([100.0] * 4), flat_bars([50.0] * 4, symbol="BBB")]).sort(
        "ts", "symbol"
    )
    day = bars["ts"].unique().sort()
    targets = pl.DataFrame(
        {
            "ts": [day[0], day[1], day[1]],
            "symbol": ["BBB", "BBB", "AAA"],
            "target": [1.0, 0.0, 1.0],
        },
        schema_overrides={"ts": pl.Datetime("ns", "UTC")},
    )
    # Sized at the fill, the sale executes first and its cash funds the purchase.
    config = BacktestConfig(check_lookahead=False, size_at="fill")
    result = Backtest(bars, FixedTargets(targets), config).run()
    fills = result.fills.filter(pl.col("ts") == day[2])
    assert fills["symbol"].to_list() == ["BBB", "AAA"]
    assert fills["quantity"].to_list() == pytest.approx([2_000.0, 1_000.0])
    assert result.orders["tag"].to_list() == ["target"] * 3
    # Sized at the decision, the sale is sent first.
    decided = Backtest(bars, FixedTargets(targets), FREE).run().orders
    rotation = decided.filter(pl.col("created_ts") == day[1])
    assert rotation["symbol"].to_list() == ["BBB", "AAA"]
    assert rotation["side"].to_list() == ["sell", "buy"]
    assert rotation["filled_quantity"].to_list() == pytest.approx([2_000.0, 1_000.0])


def test_a_short_daily_range_over_a_holiday_is_annualised_on_its_calendar() -> None:
    bars = load_sample("SPX_1d").filter(
        pl.col("ts").is_between(
            datetime(2018, 12, 20, tzinfo=UTC), datetime(2018, 12, 27, 1, tzinfo=UTC)
        )
    )  # 20, 21, 24, 26, 27 December: Christmas and a weekend inside five sessions

    result = Backtest(bars, Idle(), BacktestConfig(calendar="XNYS")).run()

    assert result.metrics.periods_per_year == periods_per_year("1d", "XNYS")


def test_the_run_record_carries_the_data_range_beside_the_clock_time() -> None:
    bars = flat_bars([10.0, 11.0, 12.0])
    started = datetime(2030, 5, 6, 7, 8, tzinfo=UTC)

    record = Backtest(bars, Idle(), FREE, clock=SimulatedClock(started)).run().record

    assert record.started_at == started
    assert (record.first_bar, record.last_bar) == (bars["ts"][0], bars["ts"][-1])
