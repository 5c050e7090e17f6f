"""Commission and slippage models, each on hand-computed numbers, and their settings."""

from __future__ import annotations

import math

import pytest

from quantstrata.core.errors import ConfigError
from quantstrata.execution import (
    CommissionConfig,
    FillConfig,
    FillModel,
    SlippageConfig,
    WorkingOrder,
    commission,
    slipped_price,
)
from quantstrata.model.orders.enums import OrderSide, OrderType
from quantstrata.model.orders.fill import Liquidity
from tests.kit.execution import make_bar

BUY, SELL = OrderSide.BUY, OrderSide.SELL


@pytest.mark.parametrize(
    ("config", "quantity", "price", "expected"),
    [
        pytest.param(CommissionConfig(rate=0.001), 10.0, 100.0, 1.0, id="percent-of-value"),
        pytest.param(CommissionConfig(per_unit=0.005), 200.0, 50.0, 1.0, id="per-unit"),
        pytest.param(CommissionConfig(per_order=2.5), 7.0, 100.0, 2.5, id="fixed-per-order"),
        pytest.param(
            CommissionConfig(rate=0.001, minimum=1.0), 1.0, 100.0, 1.0, id="minimum-applies"
        ),
        pytest.param(
            CommissionConfig(rate=0.001, minimum=1.0), 20.0, 100.0, 2.0, id="minimum-exceeded"
        ),
        pytest.param(
            CommissionConfig(rate=0.001, per_unit=0.01, per_order=1.0),
            10.0,
            100.0,
            1.0 + 0.1 + 1.0,
            id="parts-add-up",
        ),
    ],
)
def test_commission_models(
    config: CommissionConfig, quantity: float, price: float, expected: float
) -> None:
    assert commission(config, quantity, price).amount == pytest.approx(expected, rel=1e-12)


def test_maker_fills_pay_the_maker_rate() -> None:
    config = CommissionConfig(rate=0.002, maker_rate=0.0005)

    maker = commission(config, 10.0, 100.0, liquidity=Liquidity.MAKER).amount
    taker = commission(config, 10.0, 100.0, liquidity=Liquidity.TAKER).amount

    assert (maker, taker) == (pytest.approx(0.5), pytest.approx(2.0))


def test_partial_fills_pay_the_fixed_fee_and_the_minimum_once() -> None:
    config = CommissionConfig(rate=0.001, per_order=0.2, minimum=1.0)
    fills = [(1.0, 100.0), (5.0, 100.0), (10.0, 101.0)]

    charged, basis = [], None
    for quantity, price in fills:
        charge = commission(config, quantity, price, previous_basis=basis)
        charged.append(charge.amount)
        basis = charge.basis

    whole_order = max(0.2 + sum(0.001 * q * p for q, p in fills), 1.0)
    assert sum(charged) == pytest.approx(whole_order, rel=1e-12)
    assert charged[:2] == [pytest.approx(1.0), 0.0]


@pytest.mark.parametrize(
    ("config", "volume", "move"),
    [
        pytest.param(SlippageConfig(fixed_basis_points=10.0), 1_000.0, 0.1, id="fixed-bps"),
        pytest.param(SlippageConfig(spread=0.02), 1_000.0, 0.01, id="half-spread-price"),
        pytest.param(SlippageConfig(spread_basis_points=20.0), 1_000.0, 0.1, id="half-spread-bps"),
        # 0.1 × 10 / 1000 = 0.1 % of 100.
        pytest.param(SlippageConfig(volume_impact=0.1), 1_000.0, 0.1, id="volume-share"),
        pytest.param(SlippageConfig(volume_impact=0.1), 0.0, 0.0, id="volume-share-no-volume"),
        pytest.param(
            SlippageConfig(fixed_basis_points=10.0, spread=0.02, volume_impact=0.1),
            1_000.0,
            0.21,
            id="parts-add-up",
        ),
    ],
)
def test_slippage_models_move_against_the_trader(
    config: SlippageConfig, volume: float, move: float
) -> None:
    bought = slipped_price(config, BUY, 100.0, 10.0, volume)
    sold = slipped_price(config, SELL, 100.0, 10.0, volume)

    assert bought - 100.0 == pytest.approx(move, abs=1e-12)
    assert 100.0 - sold == pytest.approx(move, abs=1e-12)


def test_slipped_sell_price_never_goes_below_zero() -> None:
    assert slipped_price(SlippageConfig(volume_impact=5.0), SELL, 1.0, 100.0, 10.0) == 0.0


def test_fill_model_charges_commission_on_the_slipped_price() -> None:
    model = FillModel(
        FillConfig(),
        CommissionConfig(rate=0.01),
        SlippageConfig(fixed_basis_points=100.0),
    )

    result = model.fill(WorkingOrder(BUY, 10.0), make_bar(100.0, 101.0, 99.0, 100.0))

    assert result is not None
    assert result.price == pytest.approx(101.0)
    assert result.commission == pytest.approx(0.01 * 10.0 * 101.0)


def test_fill_model_carries_the_fee_basis_across_partial_fills() -> None:
    model = FillModel(FillConfig(volume_cap=0.5), CommissionConfig(per_order=3.0, minimum=5.0))
    order = WorkingOrder(BUY, 10.0, OrderType.LIMIT, limit_price=100.0)

    first = model.step(order, make_bar(100.0, 101.0, 99.0, 100.0, volume=10.0))
    assert first.fill is not None
    assert first.order is not None
    second = model.step(first.order, make_bar(100.0, 101.0, 99.0, 100.0, volume=10.0, index=1))

    assert second.fill is not None
    assert (first.fill.commission, second.fill.commission) == (5.0, 0.0)


@pytest.mark.parametrize(
    ("model", "values", "field"),
    [
        pytest.param(CommissionConfig, {"rate": -0.001}, "rate", id="negative-rate"),
        pytest.param(CommissionConfig, {"minimum": math.inf}, "minimum", id="infinite-minimum"),
        pytest.param(CommissionConfig, {"percent": 0.1}, "percent", id="unknown-field"),
        pytest.param(
            SlippageConfig, {"spread": 0.1, "spread_basis_points": 2.0}, "spread", id="2x"
        ),
        pytest.param(SlippageConfig, {"volume_impact": math.nan}, "volume_impact", id="nan"),
        pytest.param(FillConfig, {"volume_cap": 0.0}, "volume_cap", id="zero-cap"),
        pytest.param(FillConfig, {"volume_cap": 1.5}, "volume_cap", id="cap-above-one"),
        pytest.param(FillConfig, {"policy": "next_tick"}, "policy", id="unknown-policy"),
    ],
)
def test_bad_settings_are_refused_by_name(
    model: type[CommissionConfig | SlippageConfig | FillConfig],
    values: dict[str, object],
    field: str,
) -> None:
    with pytest.raises(ConfigError, match=field):
        model.build(**values)


def test_commission_refuses_negative_quantity() -> None:
    with pytest.raises(ConfigError, match="quantity"):
        commission(CommissionConfig(rate=0.001), -1.0, 100.0)
