"""Event-loop order rules: DAY orders expire at the session close; max_leverage caps orders."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
from quantstrata.model.bar import BAR_SCHEMA
from quantstrata.model.instrument import AssetClass, Instrument
from quantstrata.model.orders import OrderRequest, OrderStatus, TimeInForce
from tests.kit.backtest import ScriptedOrders, make_bars


def _bars(times: list[datetime], lows: list[float]) -> pl.DataFrame:
    """Bars at ``times`` opening and closing at 100 with the given lows."""
    return pl.DataFrame(
        {
            "ts": times,
            "symbol": "AAA",
            "open": 100.0,
            "high": 101.0,
            "low": lows,
            "close": 100.0,
            "volume": 1_000.0,
        },
        schema=BAR_SCHEMA,
    )


def _utc(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=UTC)


# 2024-11-29, the day after Thanksgiving: the NYSE closes early, at 13:00 New York (18:00 UTC).
# Bars go on after the close (extended hours) on the same UTC date; the limit at 95 is reached
# only by the 18:30 bar.
EARLY_CLOSE = _bars(
    [_utc(29, 17), _utc(29, 17, 30), _utc(29, 18, 30), _utc(2, 14, 30, month=12)],
    [99.0, 99.0, 94.0, 94.0],
)
# 2024-11-27, a full session closing at 21:00 UTC: the 20:30 bar is still in the session.
FULL_DAY = _bars([_utc(27, 19, 30), _utc(27, 20), _utc(27, 20, 30)], [99.0, 99.0, 94.0])


def _limit(time_in_force: TimeInForce) -> OrderRequest:
    return OrderRequest.limit("AAA", 10.0, 95.0, time_in_force=time_in_force)


def _run(bars: pl.DataFrame, script: dict[int, list[Any]], config: BacktestConfig) -> Any:
    strategy = ScriptedOrders(script)
    return strategy, Backtest(bars, strategy, config).run()


XNYS_BY_CONFIG = BacktestConfig(calendar="XNYS")
XNYS_BY_INSTRUMENT = BacktestConfig(
    instruments={"AAA": Instrument("AAA", AssetClass.EQUITY, "USD", calendar="XNYS")}  # type: ignore[arg-type]
)


@pytest.mark.parametrize(
    "config", [XNYS_BY_CONFIG, XNYS_BY_INSTRUMENT], ids=["config", "instrument"]
)
def test_day_order_expires_at_an_early_close_not_at_the_utc_date_change(
    config: BacktestConfig,
) -> None:
    strategy, result = _run(EARLY_CLOSE, {0: [_limit(TimeInForce.DAY)]}, config)
    assert result.fills.is_empty()
    assert result.orders["status"].to_list() == ["expired"]
    expired = strategy.order_updates[-1]
    assert expired.status is OrderStatus.EXPIRED
    # seen by the first bar after the close, stamped with the early close (18:00 UTC) itself
    assert expired.updated_at == _utc(29, 18)


def test_the_same_day_order_fills_on_a_24_7_market_and_gtc_waits_for_its_price() -> None:
    _, around_the_clock = _run(EARLY_CLOSE, {0: [_limit(TimeInForce.DAY)]}, BacktestConfig())
    assert around_the_clock.fills["ts"].to_list() == [EARLY_CLOSE["ts"][2]]
    _, good_till_cancelled = _run(EARLY_CLOSE, {0: [_limit(TimeInForce.GTC)]}, XNYS_BY_CONFIG)
    assert good_till_cancelled.fills["price"].to_list() == [95.0]


def test_day_order_placed_in_a_full_session_works_until_its_close() -> None:
    _, result = _run(FULL_DAY, {0: [_limit(TimeInForce.DAY)]}, XNYS_BY_CONFIG)
    assert result.fills["ts"].to_list() == [FULL_DAY["ts"][2]]
    assert result.orders["status"].to_list() == ["filled"]


def test_day_order_on_a_24_7_market_expires_at_midnight_utc() -> None:
    bars = _bars([_utc(27, 22), _utc(27, 23), _utc(28, 0), _utc(28, 1)], [99.0, 99.0, 94.0, 94.0])
    _, result = _run(bars, {0: [_limit(TimeInForce.DAY)]}, BacktestConfig())
    assert result.orders["status"].to_list() == ["expired"]


# -- max_leverage on submitted orders -------------------------------------------------------

BARS = make_bars(
    [
        (100.0, 101.0, 99.0, 100.0),
        (100.5, 103.0, 100.0, 102.0),
        (102.0, 104.0, 101.0, 103.0),
        (103.0, 104.0, 102.0, 103.0),
    ]
)


def _orders(result: BacktestResult) -> list[tuple[Any, ...]]:
    return result.orders.select("status", "filled_quantity", "tag").rows()


def test_an_order_beyond_max_leverage_is_reduced_to_the_cap_and_tagged() -> None:
    strategy, result = _run(BARS, {0: [OrderRequest.market("AAA", 1_500.0)]}, BacktestConfig())
    allowed = 100_000.0 / 100.5  # equity at the fill price, all of it in the position
    assert result.fills["quantity"].to_list() == pytest.approx([allowed])
    ((status, filled, tag),) = _orders(result)
    assert status == "cancelled"
    assert filled == pytest.approx(allowed)
    assert tag.startswith("leverage cap reduced 1500 to 995.024875")
    assert strategy.order_updates[-1].reason == tag
    gross = result.equity["gross_exposure"].to_list()
    assert max(gross) <= 1.0 + 1e-9


def test_whole_lots_round_the_capped_order_down() -> None:
    _, result = _run(
        BARS, {0: [OrderRequest.market("AAA", 1_500.0)]}, BacktestConfig(fractional=False)
    )
    assert result.fills["quantity"].to_list() == [995.0]


def test_an_order_with_no_room_is_cancelled_with_the_reason_and_reductions_pass() -> None:
    script = {
        0: [OrderRequest.market("AAA", 800.0)],
        1: [OrderRequest.market("AAA", 200.0, tag="more")],
        2: [OrderRequest.market("AAA", -300.0)],
    }
    _, result = _run(BARS, script, BacktestConfig(max_leverage=0.8))
    first, second, third = _orders(result)
    capped = 80_000.0 / 100.5
    assert first[:2] == ("cancelled", pytest.approx(capped))
    # The price rose from 100.5 to 102: the position is now beyond 0.8 x equity, no room left.
    assert second == ("cancelled", 0.0, "more; leverage cap: no room at max_leverage 0.8")
    assert third[:2] == ("filled", 300.0)
    assert result.fills["quantity"].to_list() == pytest.approx([capped, 300.0])


def test_orders_within_max_leverage_are_untouched() -> None:
    _, result = _run(
        BARS, {0: [OrderRequest.market("AAA", 1_500.0)]}, BacktestConfig(max_leverage=2.0)
    )
    assert result.fills["quantity"].to_list() == [1_500.0]
    assert _orders(result) == [("filled", 1_500.0, None)]
