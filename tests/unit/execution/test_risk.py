"""Pre-trade risk checks: every failed check is named with its value and limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quantstrata.core.errors import ConfigError, QuantstrataError
from quantstrata.execution.risk import (
    RiskAccount,
    RiskConfig,
    RiskEngine,
    RiskViolation,
    SymbolLimits,
    TradingState,
)
from quantstrata.model.orders import OrderRequest, OrderSide, OrderType

NOW = datetime(2024, 5, 1, 14, 0, tzinfo=UTC)
RICH = RiskAccount(cash=1_000_000.0)


def _violation(
    engine: RiskEngine,
    request: OrderRequest,
    account: RiskAccount = RICH,
    last: float | None = 100.0,
) -> RiskViolation:
    with pytest.raises(RiskViolation) as caught:
        engine.check(request, account, last, NOW)
    return caught.value


def test_a_passing_order_raises_nothing() -> None:
    engine = RiskEngine(RiskConfig(max_order_notional=10_000, max_position_units=50))
    engine.check(OrderRequest.market("AAA", 10), RICH, 100.0, NOW)


def test_every_failed_check_is_named_not_only_the_first() -> None:
    engine = RiskEngine(
        RiskConfig(
            symbols=frozenset({"BBB"}),
            max_order_notional=1_000,
            max_position_units=5,
            max_position_notional=2_000,
            min_cash_reserve=500,
            max_leverage=1.0,
            price_band=0.05,
        )
    )
    violation = _violation(engine, OrderRequest.limit("AAA", 20, 120.0), RiskAccount(cash=1_000.0))
    assert set(violation.checks) == {
        "symbol",
        "max_order_notional",
        "max_position_units",
        "max_position_notional",
        "min_cash_reserve",
        "max_leverage",
        "price_band",
    }
    assert isinstance(violation, QuantstrataError)
    by_check = {failure.check: failure for failure in violation.failures}
    assert by_check["max_order_notional"].value == 2_400.0
    assert by_check["max_order_notional"].limit == 1_000
    assert by_check["max_position_units"].value == 20.0
    assert "price_band" in str(violation)
    assert "2400.0" in str(violation)


def test_per_symbol_limits_override_the_defaults() -> None:
    config = RiskConfig(
        max_position_units=100, symbol_limits={"AAA": SymbolLimits(max_position_units=2)}
    )
    engine = RiskEngine(config)
    assert _violation(engine, OrderRequest.market("AAA", 3)).checks == ("max_position_units",)
    engine.check(OrderRequest.market("BBB", 3), RICH, 100.0, NOW)


def test_reducing_orders_pass_position_cash_and_leverage_limits() -> None:
    engine = RiskEngine(RiskConfig(max_position_units=5, min_cash_reserve=10**9, max_leverage=0.1))
    account = RiskAccount(cash=0.0, positions={"AAA": 50.0})
    engine.check(OrderRequest.market("AAA", -10), account, 100.0, NOW)
    assert "max_position_units" in _violation(engine, OrderRequest.market("AAA", 1), account).checks
    flip = _violation(engine, OrderRequest.market("AAA", -60), account)
    assert "max_position_units" in flip.checks


def test_trading_states_and_the_kill_switch() -> None:
    engine = RiskEngine()
    account = RiskAccount(cash=1e6, positions={"AAA": 10.0})
    engine.set_trading_state("AAA", TradingState.REDUCING)
    assert _violation(engine, OrderRequest.market("AAA", 1), account).checks == ("trading_state",)
    engine.check(OrderRequest.market("AAA", -5), account, 100.0, NOW)
    engine.check(OrderRequest.market("BBB", 5), account, 100.0, NOW)
    engine.kill()
    assert engine.trading_state("BBB") is TradingState.HALTED
    assert _violation(engine, OrderRequest.market("AAA", -5), account).checks == ("trading_state",)
    engine.set_trading_state(None, TradingState.ACTIVE)
    engine.set_trading_state("AAA", TradingState.ACTIVE)
    engine.check(OrderRequest.market("AAA", 1), account, 100.0, NOW)
    assert engine.symbol_states == {}


def test_daily_loss_limit_allows_only_reducing_orders() -> None:
    engine = RiskEngine(RiskConfig(max_daily_loss=1_000))
    losing = RiskAccount(cash=1e6, positions={"AAA": 10.0}, daily_pnl=-1_000.0)
    violation = _violation(engine, OrderRequest.market("AAA", 1), losing)
    assert violation.checks == ("max_daily_loss",)
    assert violation.failures[0].value == 1_000.0
    engine.check(OrderRequest.market("AAA", -10), losing, 100.0, NOW)


def test_order_rate_throttle_counts_only_accepted_orders_in_the_window() -> None:
    engine = RiskEngine(
        RiskConfig(max_orders_per_window=2, rate_window_seconds=10, max_order_notional=1e4)
    )
    engine.check(OrderRequest.market("AAA", 1), RICH, 100.0, NOW)
    with pytest.raises(RiskViolation):
        engine.check(OrderRequest.market("AAA", 1_000), RICH, 100.0, NOW)
    engine.check(OrderRequest.market("AAA", 1), RICH, 100.0, NOW + timedelta(seconds=1))
    violation = _violation(engine, OrderRequest.market("AAA", 1))
    assert violation.checks == ("order_rate",)
    engine.check(OrderRequest.market("AAA", 1), RICH, 100.0, NOW + timedelta(seconds=10))


def test_market_orders_need_a_usable_last_price() -> None:
    engine = RiskEngine(RiskConfig(max_order_notional=1e6))
    for last in (None, float("nan"), float("inf"), 0.0, -5.0):
        assert _violation(engine, OrderRequest.market("AAA", 1), last=last).checks == (
            "last_price",
        )
    engine.check(OrderRequest.limit("AAA", 1, 99.0), RICH, None, NOW)


def test_price_band_catches_fat_fingers_on_both_sides() -> None:
    engine = RiskEngine(RiskConfig(price_band=0.1))
    engine.check(OrderRequest.limit("AAA", 1, 109.0), RICH, 100.0, NOW)
    assert _violation(engine, OrderRequest.limit("AAA", 1, 10.0)).checks == ("price_band",)
    assert _violation(engine, OrderRequest.stop("AAA", -1, 1_000.0)).checks == ("price_band",)


def test_price_band_catches_a_trailing_stop_trailing_too_far() -> None:
    # Found by the fuzz (test_invalid_orders_never_reach_the_broker): a trail of 1e300 puts the
    # stop 1e298 times the price away, and no limit or stop price was there to catch it.
    engine = RiskEngine(RiskConfig(price_band=0.1))
    engine.check(_trailing(OrderSide.SELL, trail_amount=9.0), RICH, 100.0, NOW)
    engine.check(_trailing(OrderSide.SELL, trail_percent=0.1), RICH, 100.0, NOW)
    engine.check(_trailing(OrderSide.BUY, trail_amount=1e-300), RICH, 100.0, NOW)
    far = _trailing(OrderSide.SELL, trail_amount=1e300)
    assert _violation(engine, far).checks == ("price_band",)
    wide = _trailing(OrderSide.BUY, trail_percent=0.5)
    assert _violation(engine, wide).checks == ("price_band",)


def _trailing(side: OrderSide, **trail: float) -> OrderRequest:
    return OrderRequest("AAA", side, 1.0, OrderType.TRAILING_STOP, **trail)


def test_bad_inputs_to_the_engine_are_config_errors() -> None:
    engine = RiskEngine()
    with pytest.raises(ConfigError, match="timezone"):
        engine.check(OrderRequest.market("AAA", 1), RICH, 1.0, datetime(2024, 1, 1))
    with pytest.raises(ConfigError, match="OrderRequest"):
        engine.check("buy", RICH, 1.0, NOW)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_order_notional"):
        RiskConfig.build(max_order_notional=-1)
    with pytest.raises(ConfigError, match="surprise"):
        RiskConfig.build(surprise=1)
