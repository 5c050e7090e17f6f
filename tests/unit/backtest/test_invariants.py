"""Accounting and order invariants of both engines across random strategies.

Signal strategies are random target grids (fractions of equity or units, NaN for no decision);
event strategies are random mixes of market, limit, stop, stop-limit and trailing-stop orders,
brackets, one-cancels-other groups, cancels and targets with GTC, DAY and IOC, on random
multi-symbol bars that share one cash account.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
from quantstrata.backtest._ledger import Ledger
from quantstrata.backtest.config import SizeAt
from quantstrata.execution import FillConfig
from quantstrata.model.instrument import AssetClass, Instrument
from quantstrata.model.orders import OrderRequest
from quantstrata.strategy import EventStrategy
from quantstrata.strategy.context import StrategyContext
from quantstrata.strategy.event import BarSnapshot
from tests.kit.backtest import (
    FixedTargets,
    Idle,
    flat_bars,
    make_bars,
    random_bars,
    trading_configs,
)
from tests.kit.random_strategies import (
    EventTargets,
    ObservedEventTargets,
    RandomOrders,
    UnitTargets,
    decided_both_ways,
    expected_carry,
    plans,
    replay_account,
    target_grid,
)

SYMBOLS = ("AAA", "BBB", "CCC")

configs = trading_configs(SYMBOLS)


def _check_accounting(result: BacktestResult, config: BacktestConfig) -> None:
    """Cash + Σ position × close is equity at every bar, and both follow from the fills."""
    equity = result.equity
    marked = result.positions.group_by("ts", maintain_order=True).agg(pl.col("value").sum())
    assert np.allclose(
        equity["equity"], equity["cash"] + equity["positions_value"], rtol=1e-12, atol=1e-9
    )
    carry = expected_carry(result, config.borrow_rate, config.financing_rate)
    assert np.allclose(equity["carry_cost"], carry, rtol=1e-9, atol=1e-9)
    assert (equity["carry_cost"] >= 0.0).all()
    cash_path, held = replay_account(result, config.cash)
    carried = cash_path - np.cumsum(equity["carry_cost"].to_numpy())
    assert np.allclose(equity["cash"], carried, rtol=1e-9, atol=1e-6)
    assert np.allclose(result.positions["quantity"], held, rtol=1e-9, atol=1e-9)
    assert np.allclose(
        result.positions["value"], result.positions["quantity"] * result.positions["price"]
    )
    # A symbol without a bar at a time keeps its last value, so sum per time only where all do.
    full = marked.join(equity.select("ts", "positions_value"), on="ts")
    counts = result.positions.group_by("ts").len()
    complete = full.join(counts, on="ts").filter(pl.col("len") == len(result.record.symbols))
    assert np.allclose(complete["value"], complete["positions_value"], rtol=1e-12, atol=1e-6)


def _check_fill_prices(result: BacktestResult, config: BacktestConfig) -> None:
    """Every fill lies in its bar's range (widened by slippage); limits and stops are honoured."""
    slip = config.slippage.fixed_basis_points * 1e-4
    joined = result.fills.join(result.bars, on=["ts", "symbol"], how="left").join(
        result.orders.select("order_id", "order_type", "limit_price", "stop_price"),
        on="order_id",
        how="left",
    )
    assert joined["low"].null_count() == 0
    buy = joined["side"] == "buy"
    maker = joined["liquidity"] == "maker"
    low = joined["low"] * np.where(buy | maker, 1.0, 1.0 - slip)
    high = joined["high"] * np.where(buy & ~maker, 1.0 + slip, 1.0)
    tolerance = 1e-9 * joined["price"]
    assert (joined["price"] >= low - tolerance).all()
    assert (joined["price"] <= high + tolerance).all()
    if slip == 0.0:
        assert ((joined["price"] >= joined["low"]) & (joined["price"] <= joined["high"])).all()
        _check_gap_rule(joined, at_close=config.fill.policy.arrives_at_close)
    limited = joined.filter(pl.col("order_type").is_in(["limit", "stop_limit"]))
    sign = np.where(limited["side"] == "buy", 1.0, -1.0)
    assert (sign * (limited["price"] - limited["limit_price"]) <= 1e-9).all()
    # A stop's first fill is at its stop or worse. A triggered stop is a market order: what a
    # volume cap leaves of it fills at later opens, on either side of the stop.
    stopped = (
        joined.filter(pl.col("order_type") == "stop")
        .sort("ts")
        .filter(pl.col("ts") == pl.col("ts").min().over("order_id"))
    )
    sign = np.where(stopped["side"] == "buy", 1.0, -1.0)
    assert (sign * (stopped["price"] - stopped["stop_price"]) >= -1e-9).all()


def _check_gap_rule(joined: pl.DataFrame, *, at_close: bool) -> None:
    """Limits fill at the limit or a better open; stops at the stop or a worse open.

    A limit (and a bracket's take-profit) buy fills at ``min(open, limit)``: at the open only
    when the bar opened through the limit. A stop (and a stop-loss) buy at ``max(open, stop)``,
    or at the open once triggered on an earlier bar; sells mirror. An order whose first bar is
    met at its close (``next_close``, ``this_close``) may fill at that close.
    """
    buy = pl.col("side") == "buy"
    near = lambda expression: (pl.col("price") - expression).abs() <= 1e-9 * pl.col("price")  # noqa: E731
    arrival = pl.lit(at_close) & near(pl.col("close"))
    limit = pl.when(buy).then(pl.min_horizontal("open", "limit_price"))
    limit = limit.otherwise(pl.max_horizontal("open", "limit_price"))
    limits = joined.filter(pl.col("order_type") == "limit")
    assert limits.select((near(limit) | arrival).all()).item(), limits
    stop = pl.when(buy).then(pl.max_horizontal("open", "stop_price"))
    stop = stop.otherwise(pl.min_horizontal("open", "stop_price"))
    stops = joined.filter(pl.col("order_type") == "stop")
    assert stops.select((near(stop) | near(pl.col("open")) | arrival).all()).item(), stops


def _check_orders(result: BacktestResult) -> None:
    """Fills add up to each order's filled quantity, never beyond the order's quantity."""
    summed = result.fills.group_by("order_id").agg(pl.col("quantity").sum().alias("summed"))
    orders = result.orders.join(summed, on="order_id", how="left").with_columns(
        pl.col("summed").fill_null(0.0)
    )
    assert np.allclose(orders["summed"], orders["filled_quantity"], rtol=1e-12, atol=1e-12)
    assert (orders["filled_quantity"] <= orders["quantity"] * (1.0 + 1e-12)).all()
    assert set(result.fills["order_id"]) <= set(orders["order_id"])
    assert result.fills["trade_id"].is_unique().all()


@settings(max_examples=40, deadline=None)
@given(
    bars=random_bars(symbols=SYMBOLS),
    config=configs,
    units=st.booleans(),
    data=st.data(),
)
def test_signal_accounting_holds_for_random_target_grids(
    bars: pl.DataFrame, config: BacktestConfig, units: bool, data: st.DataObject
) -> None:
    grid = data.draw(target_grid(bars, units=units))
    strategy = UnitTargets(grid) if units else FixedTargets(grid)
    result = Backtest(bars, strategy, config).run()
    _check_accounting(result, config)
    _check_fill_prices(result, config)
    _check_orders(result)
    if config.size_at is SizeAt.FILL:  # a target order's rest is cancelled at its fill bar
        assert (result.orders["status"].is_in(["filled", "cancelled"])).all()
    # Sized at the decision, a market order works on, as live, until it fills (a volume cap may
    # leave it partly filled at the end; one sent at the last close is still pending).
    if not config.allow_short:
        assert (result.positions["quantity"] >= -1e-9).all()


@settings(max_examples=40, deadline=None)
@given(bars=random_bars(symbols=SYMBOLS), config=configs, data=st.data())
def test_signal_and_event_targets_give_the_same_run(
    bars: pl.DataFrame, config: BacktestConfig, data: st.DataObject
) -> None:
    # Uneven volumes, some below one lot at the cap, so a capped fill is rarely whole lots.
    rng = np.random.default_rng(data.draw(st.integers(min_value=0, max_value=2**32 - 1)))
    thin = rng.uniform(size=bars.height) < 0.2
    height = bars.height
    volumes = np.where(thin, rng.uniform(0.0, 20.0, height), rng.uniform(20.0, 3_000.0, height))
    bars = bars.with_columns(pl.Series("volume", volumes, dtype=bars.schema["volume"]))
    grid = data.draw(target_grid(bars))
    # Sized at the fill, a signal strategy runs in the compiled loop: compare it with the event
    # loop (sized at the decision, both replay their targets through the event loop).
    config = config.model_copy(update={"size_at": SizeAt.FILL})
    signal = Backtest(bars, FixedTargets(grid), config).run()
    event = Backtest(bars, EventTargets(grid), config).run()
    columns = ["ts", "symbol", "side", "quantity", "price", "commission"]
    assert signal.fills.select(columns).equals(event.fills.select(columns))
    assert signal.equity.equals(event.equity)
    # The event book averages fill prices through Order.apply: equal up to rounding.
    averages = ["order_id", "average_fill_price"]
    assert signal.orders.drop(averages).equals(event.orders.drop(averages))
    assert np.allclose(
        signal.orders["average_fill_price"].fill_null(np.nan),
        event.orders["average_fill_price"].fill_null(np.nan),
        rtol=1e-14,
        equal_nan=True,
    )
    # Observed orders make the event loop fill targets with the fill model (FillModel.step),
    # which rounds each fill to lots under round_lots: the same fills, up to float rounding.
    observed = Backtest(bars, ObservedEventTargets(grid), config).run()
    assert observed.fills.select(columns[:3]).equals(signal.fills.select(columns[:3]))
    for column in columns[3:]:
        assert np.allclose(observed.fills[column], signal.fills[column], rtol=1e-12, atol=1e-9)
    assert np.allclose(observed.equity["equity"], signal.equity["equity"], rtol=1e-12)
    assert observed.orders["status"].equals(signal.orders["status"])


def _replay_fell_short(ledger: Ledger) -> bool:
    """Whether some target order did not fill completely on the first bar it met."""
    fills = ledger.fills.group_by("order_id").len()
    orders = ledger.orders.join(fills, on="order_id", how="left")
    whole = pl.col("filled_quantity").is_in([0.0]) | (
        pl.col("filled_quantity") == pl.col("quantity")
    )
    settled = pl.col("status").is_in(["filled", "pending"]) & whole
    return bool(orders.select((~settled | (pl.col("len") > 1)).any()).item())


@settings(max_examples=60, deadline=None)
@given(
    bars=random_bars(symbols=SYMBOLS),
    config=configs,
    cap=st.sampled_from([(None, False), (None, True), (0.05, False), (0.3, True)]),
    units=st.booleans(),
    data=st.data(),
)
def test_compiled_decisions_give_the_event_loops_run(
    bars: pl.DataFrame,
    config: BacktestConfig,
    cap: tuple[float | None, bool],
    units: bool,
    data: st.DataObject,
) -> None:
    """Targets sized at the decision: the compiled loop and the event-loop replay agree exactly.

    Same order ids, statuses, quantities, tags, fills, cash and positions bit for bit; when the
    compiled loop gives up, the replay has an order that did not fill on its first bar.
    """
    fill = config.fill.model_copy(update={"volume_cap": cap[0], "round_lots": cap[1]})
    config = config.model_copy(update={"size_at": SizeAt.DECISION, "fill": fill})
    frame = data.draw(target_grid(bars, units=units))
    compiled, replay = decided_both_ways(bars, config, frame, units=units)
    if compiled is None:
        assert _replay_fell_short(replay)
        return
    assert not _replay_fell_short(replay)
    assert compiled.orders.equals(replay.orders), (compiled.orders, replay.orders)
    assert compiled.fills.equals(replay.fills), (compiled.fills, replay.fills)
    assert np.array_equal(compiled.cash, replay.cash)
    assert np.array_equal(compiled.positions, replay.positions)
    strategy = UnitTargets(frame) if units else FixedTargets(frame)
    result = Backtest(bars, strategy, config).run()  # the engine's default path: the same run
    assert result.fills.equals(replay.fills)
    assert result.orders.equals(replay.orders)


@settings(max_examples=60, deadline=None)
@given(bars=random_bars(symbols=SYMBOLS), config=configs, plan=plans)
def test_event_orders_keep_their_invariants(
    bars: pl.DataFrame, config: BacktestConfig, plan: list[list[object]]
) -> None:
    strategy = RandomOrders(plan)  # type: ignore[arg-type]
    result = Backtest(bars, strategy, config).run()
    _check_accounting(result, config)
    _check_fill_prices(result, config)
    _check_orders(result)
    journal = strategy.journal
    for order_id, updates in journal.updates.items():
        statuses = [order.status for order in updates]
        first_terminal = next((i for i, s in enumerate(statuses) if s.is_terminal), None)
        assert first_terminal is None or first_terminal == len(statuses) - 1, (order_id, statuses)
    final = dict(zip(result.orders["order_id"], result.orders["status"], strict=True))
    for order_id, updates in journal.updates.items():
        assert final[order_id] == updates[-1].status.value
    orders = result.orders
    for tag in journal.oco_groups:
        # The engine appends notes to a tag ("oco6; leverage cap: ..."): match its first part.
        group = orders.filter(pl.col("tag").str.split(";").list.first() == tag)
        assert group.height == 2
        assert (group["filled_quantity"] > 0.0).sum() <= 1, group
    exits = orders.filter(pl.col("tag").is_null())
    assert exits.height % 2 == 0
    for first in range(0, exits.height, 2):
        pair = exits.slice(first, 2)
        assert (pair["filled_quantity"] > 0.0).sum() <= 1, pair
    assert journal.reduce_only_breaches == []
    if not config.allow_short:
        assert (result.positions["quantity"] >= -1e-9).all()


@settings(max_examples=30, deadline=None)
@given(bars=random_bars(symbols=SYMBOLS), config=configs)
def test_a_strategy_that_never_trades_ends_with_its_cash(
    bars: pl.DataFrame, config: BacktestConfig
) -> None:
    empty = bars.select("ts", "symbol").with_columns(pl.lit(None, dtype=pl.Float64).alias("target"))
    for strategy in (Idle(), FixedTargets(empty), UnitTargets(empty), RandomOrders([[]])):
        result = Backtest(bars, strategy, config).run()
        assert result.fills.is_empty()
        assert result.final_equity == config.cash
        assert (result.equity["cash"] == config.cash).all()
        assert (result.positions["quantity"] == 0.0).all()
        assert (result.equity["carry_cost"] == 0.0).all()


def test_a_rounding_error_remainder_sends_no_order() -> None:
    """Regression: a target capped to its rounding error made a phantom order in the kernel."""
    bars = pl.concat([flat_bars([162.96] * 4), flat_bars([193.1] * 4, symbol="BBB")])
    bars = bars.sort("ts", "symbol")
    targets = bars.select("ts", "symbol").with_columns(
        pl.Series("target", [1.0, 0.25, None, None, 0.5, None, None, None])
    )
    config = BacktestConfig(check_lookahead=False, size_at="fill")  # the compiled loop's sizing
    for strategy in (FixedTargets(targets), EventTargets(targets)):
        result = Backtest(bars, strategy, config).run()
        assert result.orders["symbol"].to_list() == ["AAA", "AAA"]
        assert (result.orders["filled_quantity"] > 0.0).all()


def test_fill_round_lots_sizes_targets_in_whole_lots_in_both_engines() -> None:
    """Regression: only the event loop rounded, leaving a cancelled rest and retries."""
    bars = flat_bars([30.0, 30.0, 30.0, 30.0])
    targets = bars.select("ts", "symbol").with_columns(pl.Series("target", [1.0, None, None, None]))
    config = BacktestConfig(
        check_lookahead=False,
        fill=FillConfig(round_lots=True),
        instruments={"AAA": Instrument("AAA", AssetClass.EQUITY, "USD", lot_size=10.0)},
        size_at="fill",  # the compiled loop's sizing
    )
    for strategy in (FixedTargets(targets), EventTargets(targets)):
        result = Backtest(bars, strategy, config).run()
        assert result.orders["quantity"].to_list() == [3_330.0]
        assert result.orders["status"].to_list() == ["filled"]


class _BuyThenStop(EventStrategy):
    """Buy 10 on the first bar, then rest a sell stop for them at 98.5."""

    def warmup_bars(self) -> int:
        return 0

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        if context.position("AAA") == 0.0 and not context.open_orders():
            context.submit(OrderRequest.market("AAA", 10.0))
        elif context.position("AAA") > 0.0 and not context.open_orders():
            context.submit(OrderRequest.stop("AAA", -10.0, 98.5))


def test_a_volume_capped_triggered_stop_fills_its_rest_at_the_next_open() -> None:
    """Regression (found by Hypothesis): the check wanted every fill of a stop at or past it."""
    bars = pl.concat(
        [
            make_bars([(100.0, 101.0, 99.0, 100.0)] * 2, volume=200.0),
            make_bars([(98.0, 99.0, 97.0, 98.5)], volume=100.0, start_day=2),
            make_bars([(104.0, 105.0, 103.0, 104.0)] * 2, volume=200.0, start_day=3),
        ]
    )
    config = BacktestConfig(check_lookahead=False, fill=FillConfig(volume_cap=0.05))

    result = Backtest(bars, _BuyThenStop(), config).run()

    stop = result.orders.filter(pl.col("order_type") == "stop")["order_id"][0]
    fills = result.fills.filter(pl.col("order_id") == stop)
    assert fills["price"].to_list() == [98.0, 104.0]  # the gap open, then the next open
    assert fills["quantity"].to_list() == [5.0, 5.0]  # 5 % of each bar's volume
    _check_fill_prices(result, config)
