"""Random strategies for backtest invariants: target grids and scripted mixes of orders.

A random strategy is drawn as plain data (a target grid, or a plan of actions per bar) and
interpreted at run time against the bars the strategy sees, so Hypothesis can shrink it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import polars as pl
from hypothesis import strategies as st

from quantstrata.backtest import BacktestConfig, BacktestResult
from quantstrata.backtest._align import align_bars, canonical_bars
from quantstrata.backtest._decided import run_decided
from quantstrata.backtest._event import run_event
from quantstrata.backtest._ledger import Ledger
from quantstrata.backtest._replay import TargetReplay
from quantstrata.backtest._signal import kernel_settings
from quantstrata.backtest._signal import target_grid as grid_of
from quantstrata.model.orders import (
    Bracket,
    Fill,
    OneCancelsOther,
    Order,
    OrderRequest,
    OrderSide,
    OrderType,
    TimeInForce,
)
from quantstrata.strategy import BarSnapshot, EventStrategy, StrategyContext
from quantstrata.strategy.signal import TargetUnit
from tests.kit.backtest import FixedTargets

ORDER_KINDS = (
    "market",
    "limit",
    "stop",
    "stop_limit",
    "trail_amount",
    "trail_percent",
    "bracket",
    "oco",
    "cancel",
    "target",
)


class UnitTargets(FixedTargets):
    """Fixed targets read as units of the instrument."""

    target_unit: ClassVar[TargetUnit] = TargetUnit.UNITS


class EventTargets(EventStrategy):
    """Replays a ``ts, symbol, target`` frame (fractions) through ``context.target``."""

    def __init__(self, targets: pl.DataFrame) -> None:
        super().__init__()
        self.by_time: dict[object, list[tuple[str, float]]] = {}
        for row in targets.drop_nulls("target").iter_rows(named=True):
            self.by_time.setdefault(row["ts"], []).append((row["symbol"], row["target"]))

    def warmup_bars(self) -> int:
        return 0

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        for symbol, target in self.by_time.get(bars.ts, []):
            context.target(symbol, target)


class ObservedEventTargets(EventTargets):
    """:class:`EventTargets` with an ``on_fill`` callback: its targets go through order objects.

    The event loop then fills each target order with the fill model (``FillModel.step``), not
    with the signal loop's compiled step it uses when no one observes the orders.
    """

    def __init__(self, targets: pl.DataFrame) -> None:
        super().__init__(targets)
        self.fills: list[Fill] = []

    def on_fill(self, fill: Fill, context: StrategyContext) -> None:
        self.fills.append(fill)


@st.composite
def target_grid(
    draw: st.DrawFn, bars: pl.DataFrame, *, units: bool = False, missing: float = 0.5
) -> pl.DataFrame:
    """Draw a ``ts, symbol, target`` frame over ``bars``; null (no decision) with ``missing``."""
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = np.random.default_rng(seed)
    height = bars.height
    if units:
        values = rng.choice([-400.0, -150.0, -20.0, 0.0, 35.5, 200.0, 700.0], size=height)
    else:
        values = rng.choice([-1.5, -1.0, -0.4, 0.0, 0.25, 0.5, 1.0, 2.0], size=height)
    values = np.where(rng.uniform(size=height) < missing, np.nan, values)
    target = pl.Series("target", values).fill_nan(None)
    return bars.select("ts", "symbol").with_columns(target)


@dataclass(frozen=True, slots=True)
class Action:
    """One random intent: what, on which symbol, how much and at which relative prices."""

    kind: str
    symbol: int
    quantity: float
    offset: float
    spread: float
    time_in_force: TimeInForce


actions = st.builds(
    Action,
    kind=st.sampled_from(ORDER_KINDS),
    symbol=st.integers(min_value=0, max_value=3),
    quantity=st.sampled_from([-40.0, -15.0, -3.0, 2.0, 10.0, 25.0, 60.0]),
    offset=st.sampled_from([-0.04, -0.015, -0.005, 0.0, 0.005, 0.02, 0.05]),
    spread=st.sampled_from([0.005, 0.01, 0.03, 0.08]),
    time_in_force=st.sampled_from(list(TimeInForce)),
)
plans = st.lists(st.lists(actions, max_size=4), min_size=1, max_size=40)


@dataclass
class Journal:
    """What a :class:`RandomOrders` run saw through its callbacks."""

    updates: dict[str, list[Order]] = field(default_factory=dict)
    reduce_only_breaches: list[tuple[str, float, float]] = field(default_factory=list)
    oco_groups: list[str] = field(default_factory=list)


class RandomOrders(EventStrategy):
    """Submits the actions of ``plan[bar]`` each bar: orders, groups, cancels and targets.

    Every order it builds carries a tag (``oco7`` for both members of a group), so untagged
    orders in the result are bracket exits, created in pairs with consecutive ids.
    """

    def __init__(self, plan: list[list[Action]]) -> None:
        super().__init__()
        self.plan = plan
        self.journal = Journal()
        self.index = 0
        self.count = 0

    def warmup_bars(self) -> int:
        return 0

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        symbols = bars.symbols
        for action in self.plan[self.index] if self.index < len(self.plan) else []:
            symbol = symbols[action.symbol % len(symbols)]
            self._act(action, symbol, bars[symbol].close, context)
        self.index += 1

    def on_order(self, order: Order, context: StrategyContext) -> None:
        self.journal.updates.setdefault(order.order_id, []).append(order)

    def on_fill(self, fill: Fill, context: StrategyContext) -> None:
        if not self.journal.updates[fill.order_id][-1].request.reduce_only:
            return
        after = context.position(fill.symbol)
        before = after - fill.signed_quantity
        if abs(after) > abs(before) + 1e-9 or after * before < -1e-9:
            self.journal.reduce_only_breaches.append((fill.order_id, before, after))

    def _act(self, action: Action, symbol: str, close: float, context: StrategyContext) -> None:
        self.count += 1
        if action.kind == "cancel":
            working = context.open_orders()
            if working:
                context.cancel(working[self.count % len(working)].order_id)
            return
        if action.kind == "target":
            context.target(
                symbol, math.copysign(min(abs(action.quantity) / 40.0, 1.0), action.quantity)
            )
            return
        if action.kind == "oco":
            tag = f"oco{self.count}"
            self.journal.oco_groups.append(tag)
            limit = _single("limit", symbol, action, close, tag)
            stop = _single("stop", symbol, _flip(action), close, tag)
            context.submit(OneCancelsOther(limit, stop))
            return
        if action.kind == "bracket":
            context.submit(_bracket(symbol, action, close, f"br{self.count}"))
            return
        context.submit(_single(action.kind, symbol, action, close, f"{action.kind}{self.count}"))


def _flip(action: Action) -> Action:
    return Action(
        action.kind, action.symbol, action.quantity, -action.offset, action.spread,
        action.time_in_force,
    )  # fmt: skip


def _single(kind: str, symbol: str, action: Action, close: float, tag: str) -> OrderRequest:
    side = OrderSide.BUY if action.quantity > 0 else OrderSide.SELL
    level = round(close * (1.0 + action.offset), 4)
    prices: dict[str, float] = {}
    order_type = OrderType.MARKET
    if kind == "limit":
        order_type, prices = OrderType.LIMIT, {"limit_price": level}
    elif kind == "stop":
        order_type, prices = OrderType.STOP, {"stop_price": level}
    elif kind == "stop_limit":
        limit = round(level * (1.0 + float(side) * action.spread), 4)
        order_type, prices = OrderType.STOP_LIMIT, {"stop_price": level, "limit_price": limit}
    elif kind == "trail_amount":
        order_type, prices = OrderType.TRAILING_STOP, {"trail_amount": close * action.spread}
    elif kind == "trail_percent":
        order_type, prices = OrderType.TRAILING_STOP, {"trail_percent": action.spread}
    return OrderRequest(
        symbol,  # type: ignore[arg-type]
        side,
        abs(action.quantity),
        order_type,
        time_in_force=action.time_in_force,
        tag=tag,
        **prices,
    )


def _bracket(symbol: str, action: Action, close: float, tag: str) -> Bracket:
    sign = 1.0 if action.quantity > 0 else -1.0
    if action.offset == 0.0:
        entry = OrderRequest.market(
            symbol, action.quantity, time_in_force=action.time_in_force, tag=tag
        )
        reference = close
    else:
        reference = round(close * (1.0 - sign * abs(action.offset)), 4)
        entry = OrderRequest.limit(
            symbol, action.quantity, reference, time_in_force=action.time_in_force, tag=tag
        )
    stop_loss = round(reference * (1.0 - sign * action.spread), 4)
    take_profit = round(reference * (1.0 + sign * 2.0 * action.spread), 4)
    return Bracket(entry, stop_loss=stop_loss, take_profit=take_profit)


def expected_carry(result: BacktestResult, borrow_rate: float, financing_rate: float) -> np.ndarray:
    """Recompute the carry cost of each bar in plain Polars from the book after the bar before.

    Short positions are valued at their latest close, cash below zero is borrowed, and a bar's
    interval is actual/365 years since the previous bar time.
    """
    values = (
        result.positions.pivot("symbol", index="ts", values="value")
        .sort("ts")
        .fill_null(strategy="forward")
        .fill_null(0.0)
    )
    equity = result.equity.select("ts", "cash").join(values, on="ts", how="left")
    symbols = [name for name in values.columns if name != "ts"]
    shorts = equity.select(
        pl.sum_horizontal([pl.min_horizontal(pl.col(name), pl.lit(0.0)) for name in symbols])
    ).to_series()
    borrowed = (-equity["cash"]).clip(lower_bound=0.0)
    seconds = equity["ts"].diff().dt.total_nanoseconds().fill_null(0).to_numpy() / 1e9
    years = seconds / (365.0 * 86_400.0)
    owed = borrow_rate * (-shorts.to_numpy()) + financing_rate * borrowed.to_numpy()
    return np.concatenate([[0.0], years[1:] * owed[:-1]])


def replay_account(result: BacktestResult, cash: float) -> tuple[np.ndarray, np.ndarray]:
    """Recompute cash per bar (before carry costs) and positions from the fills alone."""
    fills = result.fills.with_columns(
        (pl.when(pl.col("side") == "buy").then(1.0).otherwise(-1.0) * pl.col("quantity")).alias(
            "signed"
        )
    )
    flows = fills.group_by("ts").agg(
        (-(pl.col("signed") * pl.col("price")) - pl.col("commission")).sum().alias("flow")
    )
    cash_path = (
        result.equity.select("ts")
        .join(flows, on="ts", how="left", maintain_order="left")
        .select(pl.col("flow").fill_null(0.0).cum_sum() + cash)
        .to_series()
        .to_numpy()
    )
    per_symbol = fills.group_by("ts", "symbol").agg(pl.col("signed").sum())
    held = (
        result.positions.select("ts", "symbol")
        .join(per_symbol, on=["ts", "symbol"], how="left", maintain_order="left")
        .with_columns(pl.col("signed").fill_null(0.0).cum_sum().over("symbol"))
    )
    return cash_path, held["signed"].to_numpy()


def decided_both_ways(
    bars: pl.DataFrame, config: BacktestConfig, frame: pl.DataFrame, *, units: bool
) -> tuple[Ledger | None, Ledger]:
    """Run targets ``frame`` sized at the decision in the compiled loop and replayed by events.

    Return the compiled loop's ledger (``None`` when it gives up) and the event loop's.
    """
    strategy = UnitTargets(frame) if units else FixedTargets(frame)
    aligned = align_bars(canonical_bars(bars))
    grid = grid_of(strategy.compute_targets(bars), aligned)
    settings, costs = kernel_settings(config, aligned.symbols, units=units)
    compiled = run_decided(grid, aligned, config, settings, costs)
    return compiled, run_event(TargetReplay(strategy, grid, aligned.symbols), aligned, config)
