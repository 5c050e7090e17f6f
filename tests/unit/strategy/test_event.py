"""Event strategies: snapshots of one bar time, callbacks, and the recording test context."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from quantstrata.core.errors import DataError, UnknownSymbolError
from quantstrata.model.bar import Bar
from quantstrata.model.orders import Bracket, OneCancelsOther, OrderRequest
from quantstrata.strategy.context import StrategyContext
from quantstrata.strategy.event import BarSnapshot, EventStrategy
from tests.kit.bars import make_multi_symbol_bars
from tests.kit.strategy_context import RecordingContext, replay

T0 = datetime(2024, 1, 2, tzinfo=UTC)


def bar(symbol: str, close: float, ts: datetime = T0) -> Bar:
    return Bar(ts, symbol, close, close + 1, close - 1, close, 10.0)  # type: ignore[arg-type]


def test_snapshot_is_a_mapping_of_symbol_to_bar_sorted_by_symbol():
    snapshot = BarSnapshot(T0, (bar("BBB", 20.0), bar("AAA", 10.0)))
    assert list(snapshot) == ["AAA", "BBB"] == list(snapshot.symbols)
    assert len(snapshot) == 2
    assert snapshot["BBB"].close == 20.0
    assert "AAA" in snapshot
    assert "CCC" not in snapshot
    assert dict(snapshot.items())["AAA"].close == 10.0
    with pytest.raises(UnknownSymbolError, match="no bar for 'CCC'"):
        snapshot["CCC"]


def test_snapshot_refuses_bars_of_another_time_and_duplicate_symbols():
    later = datetime(2024, 1, 3, tzinfo=UTC)
    with pytest.raises(DataError, match="invalid bar snapshot") as caught:
        BarSnapshot(T0, (bar("AAA", 10.0), bar("BBB", 10.0, later)))
    assert caught.value.issues[0].symbol == "BBB"
    with pytest.raises(DataError, match="more than one bar"):
        BarSnapshot(T0, (bar("AAA", 10.0), bar("AAA", 11.0)))


def test_snapshot_from_frame_takes_rows_of_one_time():
    bars = make_multi_symbol_bars(3, ("AAA", "BBB"))
    first = bars.filter(pl.col("ts") == pl.col("ts").min())
    snapshot = BarSnapshot.from_frame(first)
    assert snapshot.ts == first["ts"][0]
    assert snapshot["BBB"].close == first.filter(pl.col("symbol") == "BBB")["close"].item()
    with pytest.raises(DataError, match="exactly one ts"):
        BarSnapshot.from_frame(bars)


class Recorder(EventStrategy):
    """Log every callback and exercise every context method."""

    def warmup_bars(self) -> int:
        return 0

    def on_start(self, context: StrategyContext) -> None:
        self.calls = ["start"]

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        self.calls.append(f"bar {len(context.history('AAA', 1_000))}")
        for symbol in bars:
            context.target(symbol, 0.5)
        context.log(f"equity {context.equity}")

    def on_stop(self, context: StrategyContext) -> None:
        self.calls.append("stop")


def test_on_bar_is_abstract_and_other_callbacks_default_to_nothing():
    with pytest.raises(TypeError):
        EventStrategy()  # type: ignore[abstract]
    strategy = Recorder()
    context = RecordingContext(make_multi_symbol_bars(2))
    assert strategy.on_order(None, context) is None  # type: ignore[arg-type]
    assert strategy.on_fill(None, context) is None  # type: ignore[arg-type]


def test_replay_calls_start_each_bar_time_once_then_stop_and_history_never_runs_ahead():
    bars = make_multi_symbol_bars(4, ("AAA", "BBB"))
    strategy = Recorder()
    context = replay(strategy, bars)
    assert strategy.calls == ["start", "bar 1", "bar 2", "bar 3", "bar 4", "stop"]
    assert len(context.targets) == 8
    assert context.messages == ["equity 100000.0"] * 4
    expected = bars.sort("ts", "symbol").select("ts", "symbol", target=pl.lit(0.5))
    assert context.target_frame().equals(expected)


def test_replaying_twice_gives_the_same_decisions():
    bars = make_multi_symbol_bars(5)
    strategy = Recorder()
    first = replay(strategy, bars).target_frame()
    second = replay(strategy, bars).target_frame()
    assert first.equals(second)


def test_recording_context_satisfies_the_protocol_and_records_order_intents():
    bars = make_multi_symbol_bars(3)
    context = RecordingContext(bars, positions={"AAA": 2.0})
    context.advance(BarSnapshot.from_frame(bars.filter(pl.col("ts") == pl.col("ts").min())))
    assert isinstance(context, StrategyContext)
    assert context.position("AAA") == 2.0
    assert context.position("BBB") == 0.0
    entry = OrderRequest.limit("AAA", 1.0, 99.0)
    first = context.submit(entry)
    bracket = Bracket(OrderRequest.market("BBB", 1.0), stop_loss=1.0)
    second = context.submit(bracket)
    pair = OneCancelsOther(
        OrderRequest.limit("AAA", -1.0, 120.0), OrderRequest.stop("AAA", -1.0, 90.0)
    )
    third = context.submit(pair)
    assert len({first, second, third}) == 3
    assert [order.request for order in context.open_orders("BBB")] == [bracket.entry]
    assert len(context.open_orders("AAA")) == 3
    context.cancel(first)
    assert context.cancelled == [first]
    assert next(order.order_id for order in context.open_orders("AAA")) == third
    assert [order_id for order_id, _ in context.submitted] == [first, second, third]
    assert context.history("AAA", 10).height == 1
    with pytest.raises(UnknownSymbolError):
        context.history("ZZZ", 10)
