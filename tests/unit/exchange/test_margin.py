"""The margin-call rule, by hand, and the exchange's liquidation orders.

Three Reg-T (25 % maintenance) positions, valued by hand:

| symbol | quantity | average | mark | notional | maintenance | unrealized |
| ------ | -------- | ------- | ---- | -------- | ----------- | ---------- |
| AAA    | 100      | 50      | 40   | 4,000    | 1,000       | −1,000     |
| BBB    | −100     | 100     | 130  | 13,000   | 3,250       | −3,000     |
| CCC    | 10       | 10      | 20   | 200      | 50          | +100       |

Total maintenance 4,300; equity = cash + 4,000 − 13,000 + 200 = cash − 8,800.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quantstrata.core.errors import ConfigError
from quantstrata.exchange import (
    LIQUIDATION_TAG,
    ExchangeConfig,
    MarginCallPolicy,
    Prices,
    SimulatedExchange,
)
from quantstrata.exchange._margin import margin_call
from quantstrata.model.identifiers import Symbol
from quantstrata.model.instrument import Instrument
from quantstrata.model.margin import Margin
from quantstrata.model.orders import Cancelled, OrderRequest
from quantstrata.model.position import Position

T0 = datetime(2024, 3, 4, tzinfo=UTC)
INSTRUMENTS = {s: Instrument.of(s, "equity", calendar=None) for s in ("AAA", "BBB", "CCC")}
POSITIONS = [
    Position(Symbol("AAA"), 100.0, 50.0),
    Position(Symbol("BBB"), -100.0, 100.0),
    Position(Symbol("CCC"), 10.0, 10.0),
]
MARKS = [40.0, 130.0, 20.0]


def _call(cash: float, policy: MarginCallPolicy) -> tuple[float, float, tuple[str, ...]] | None:
    call = margin_call(T0, cash, POSITIONS, MARKS, INSTRUMENTS, policy=policy)
    return None if call is None else (call.equity, call.maintenance, call.symbols)


def test_equity_at_maintenance_makes_no_call() -> None:
    # cash 13,100: equity 4,300 = maintenance.
    assert _call(13_100.0, MarginCallPolicy.LIQUIDATE_LARGEST_LOSER) is None


def test_the_largest_loser_goes_first_until_equity_covers_the_rest() -> None:
    # cash 12,000: equity 3,200 < 4,300. Closing BBB (−3,000, the largest loss) leaves
    # 4,300 − 3,250 = 1,050 to maintain, which 3,200 covers: only BBB.
    assert _call(12_000.0, MarginCallPolicy.LIQUIDATE_LARGEST_LOSER) == (3_200.0, 4_300.0, ("BBB",))
    # cash 9,500: equity 700. Without BBB 1,050 is left (> 700): AAA (−1,000) next leaves 50.
    assert _call(9_500.0, MarginCallPolicy.LIQUIDATE_LARGEST_LOSER) == (
        700.0,
        4_300.0,
        ("BBB", "AAA"),
    )


def test_liquidate_all_and_none() -> None:
    assert _call(12_000.0, MarginCallPolicy.LIQUIDATE_ALL) == (
        3_200.0,
        4_300.0,
        ("AAA", "BBB", "CCC"),
    )
    assert _call(0.0, MarginCallPolicy.NONE) is None


def test_per_contract_margin_and_the_multiplier() -> None:
    # A future: 2 contracts, maintenance 5,000 per contract = 10,000 whatever the price; a
    # notional margin counts the multiplier: 2 × 4,000 × 50 × 5 % = 20,000. Equity counts it
    # too (2 × 4,000 × 50 = 400,000 of value): cash is set 1 short of the maintenance.
    fixed = Instrument.of(
        "ESZ4", "future", root="ES", expiry=T0.date() + timedelta(days=90),
        margin=Margin(6_000.0, 5_000.0, basis="per_contract"), calendar=None,
    )  # fmt: skip
    share = fixed.with_terms(margin=Margin(0.06, 0.05), multiplier=50.0)
    held = [Position(Symbol("ESZ4"), 2.0, 4_000.0)]
    for instrument, maintenance in ((fixed, 10_000.0), (share, 20_000.0)):
        call = margin_call(
            T0, maintenance - 1.0 - instrument.notional(2.0, 4_000.0), held, [4_000.0],
            {"ESZ4": instrument}, policy=MarginCallPolicy.LIQUIDATE_ALL,
        )  # fmt: skip
        assert call is not None
        assert (call.equity, call.maintenance) == (maintenance - 1.0, maintenance)


def test_an_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="margin_call"):
        ExchangeConfig(margin_call="liquidate_first")


def test_a_call_cancels_the_symbols_orders_and_liquidates_at_the_next_bar() -> None:
    config = ExchangeConfig(cash=10_000.0, instruments=INSTRUMENTS)
    exchange = SimulatedExchange(config, ["AAA", "BBB", "CCC"])
    exchange.submit(exchange.new_order_id(), OrderRequest.market("BBB", -100.0), T0)
    exchange.on_bar("BBB", T0 + timedelta(days=1), Prices(100.0, 100.0, 100.0, 100.0, 1e6))
    resting = exchange.new_order_id()
    exchange.submit(resting, OrderRequest.limit("BBB", -10.0, 200.0), T0 + timedelta(days=1))
    exchange.account.marks[:] = [50.0, 170.0, 20.0]  # equity 20,000 − 17,000

    events = exchange.check_margin(T0 + timedelta(days=2))

    [call] = exchange.margin_calls
    assert (call.equity, call.maintenance, call.symbols) == (3_000.0, 4_250.0, ("BBB",))
    assert any(isinstance(e, Cancelled) and e.order_id == resting for e in events)
    [liquidation] = exchange.open_orders("BBB")
    assert liquidation.request == OrderRequest.market(
        "BBB", 100.0, reduce_only=True, tag=LIQUIDATION_TAG
    )
    # Still working at the next check: no second call, no second order.
    assert exchange.check_margin(T0 + timedelta(days=2)) == []
    assert len(exchange.margin_calls) == 1
    exchange.on_bar("BBB", T0 + timedelta(days=3), Prices(175.0, 175.0, 175.0, 175.0, 1e6))
    assert exchange.position("BBB").is_flat
    assert exchange.cash == 20_000.0 - 17_500.0


def test_margin_must_be_a_margin() -> None:
    with pytest.raises(ConfigError):
        Instrument.of("AAA", "equity", margin=0.5)
