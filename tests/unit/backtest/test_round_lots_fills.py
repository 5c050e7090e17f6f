"""Volume-capped target fills under ``FillConfig(round_lots=True)``: the same rule in every style.

The rule (the fill model's): a bar fills at most ``volume_cap × volume``, rounded down to whole
lots; a cap below one lot, or below the instrument's minimum quantity, fills nothing. The
target order is then cancelled for its rest and the target retried at the next bar, with a new
order (so a fixed fee is charged again on its fill). That retry is the rule of targets sized at
the fill (``size_at="fill"``), which these tests set.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
from quantstrata.execution import CommissionConfig, FillConfig
from quantstrata.execution import _nb as execution_nb
from quantstrata.execution.costs import lot_scale
from quantstrata.model.instrument import AssetClass, Instrument
from quantstrata.strategy import SignalStrategy
from tests.kit.backtest import FixedTargets, flat_bars
from tests.kit.random_strategies import EventTargets, ObservedEventTargets

PRICE = 100.0
CASH = 101_000.0
TARGET = 0.5  # about 505 shares at 100
CAP = 0.3
LOT = 25.0
MINIMUM = 50.0
PER_ORDER = 1.0
VOLUMES = [1_000.0, 1_000.0, 50.0, 150.0, 333.0, 1_000.0, 1_000.0]


def _bars() -> pl.DataFrame:
    bars = flat_bars([PRICE] * len(VOLUMES))
    return bars.with_columns(pl.Series("volume", VOLUMES, dtype=bars.schema["volume"]))


def _config(*, round_lots: bool) -> BacktestConfig:
    instrument = Instrument("AAA", AssetClass.EQUITY, "USD", lot_size=LOT, min_quantity=MINIMUM)
    return BacktestConfig(
        check_lookahead=False,
        cash=CASH,
        fractional=False,
        fill=FillConfig(volume_cap=CAP, round_lots=round_lots),
        commission=CommissionConfig(per_order=PER_ORDER),
        instruments={"AAA": instrument},
        size_at="fill",
    )


def _strategies(targets: pl.DataFrame) -> list[SignalStrategy | EventTargets]:
    return [FixedTargets(targets), EventTargets(targets), ObservedEventTargets(targets)]


def _expected_fills(*, round_lots: bool) -> list[tuple[int, float]]:
    """Replay the rule bar by bar in plain Python: ``(bar, quantity)`` of each fill."""
    held, cash, fills = 0.0, CASH, []
    for bar in range(1, len(VOLUMES)):
        desired = TARGET * (cash + held * PRICE) / PRICE
        order = math.floor((desired - held) / LOT) * LOT  # target orders are whole lots too
        if order < MINIMUM:
            break
        filled = min(order, CAP * VOLUMES[bar])
        if round_lots and filled < order:
            filled = math.floor(filled / LOT) * LOT
            filled = 0.0 if filled < MINIMUM else filled
        if filled > 0.0:
            fills.append((bar, filled))
            held += filled
            cash -= filled * PRICE + PER_ORDER
    return fills


def _fills(result: BacktestResult, bars: pl.DataFrame) -> list[tuple[int, float]]:
    times = bars["ts"].to_list()
    return [
        (times.index(ts), quantity)
        for ts, quantity in result.fills.select("ts", "quantity").iter_rows()
    ]


@pytest.mark.parametrize("style", [0, 1, 2], ids=["signal", "event-compiled", "event-orders"])
def test_a_capped_fill_is_rounded_down_to_lots_in_every_style(style: int) -> None:
    bars = _bars()
    targets = bars.select("ts", "symbol").with_columns(
        pl.Series("target", [TARGET] + [None] * (len(VOLUMES) - 1))
    )
    result = Backtest(bars, _strategies(targets)[style], _config(round_lots=True)).run()

    expected = _expected_fills(round_lots=True)
    assert _fills(result, bars) == expected
    assert [bar for bar, _ in expected] == [1, 4, 5]  # bar 2 caps below a lot, bar 3 below 50
    assert all(quantity % LOT == 0.0 for quantity in result.fills["quantity"])
    assert result.fills["commission"].to_list() == [PER_ORDER] * len(expected)
    # One order per bar until the target is reached; every capped one is cancelled for its rest.
    orders = result.orders
    assert orders["status"].to_list() == ["cancelled"] * 4 + ["filled"]
    assert orders["filled_quantity"].to_list() == [300.0, 0.0, 0.0, 75.0, 125.0]
    final = result.positions.filter(pl.col("ts") == bars["ts"][-1])["quantity"][0]
    assert final == sum(quantity for _, quantity in expected)


def test_without_round_lots_a_capped_fill_takes_the_whole_cap() -> None:
    bars = _bars()
    targets = bars.select("ts", "symbol").with_columns(
        pl.Series("target", [TARGET] + [None] * (len(VOLUMES) - 1))
    )
    runs = [
        Backtest(bars, strategy, _config(round_lots=False)).run()
        for strategy in _strategies(targets)
    ]

    expected = _expected_fills(round_lots=False)
    assert expected[1] == (2, CAP * VOLUMES[2])  # 15 shares: less than a lot, filled anyway
    for result in runs:
        fills = _fills(result, bars)
        assert [bar for bar, _ in fills] == [bar for bar, _ in expected]
        assert [quantity for _, quantity in fills] == pytest.approx([q for _, q in expected])


@settings(max_examples=200, deadline=None)
@given(
    lots=st.integers(min_value=0, max_value=10**6),
    lot_size=st.sampled_from([1.0, 5.0, 100.0, 0.1, 0.25, 0.001, 1e-8, 0.3, 2.5]),
    nudge=st.integers(min_value=-3, max_value=3),
    fraction=st.floats(min_value=0.0, max_value=1.0),
    minimum=st.sampled_from([0.0, 1.0, 50.0]),
)
def test_the_compiled_fill_rounding_equals_the_instruments(
    lots: int, lot_size: float, nudge: int, fraction: float, minimum: float
) -> None:
    """Near and between exact multiples, the float kernel rounds as the decimal rule does."""
    instrument = Instrument(
        "AAA", AssetClass.EQUITY, "USD", lot_size=lot_size, min_quantity=minimum
    )
    exact = float(lots * lot_size)
    for quantity in (
        float(np.nextafter(exact, math.inf if nudge > 0 else -math.inf)) if nudge else exact,
        exact + fraction * lot_size,
        lots * lot_size * (1.0 + nudge * 1e-16),
    ):
        if quantity < 0.0:
            continue
        expected = instrument.round_quantity(quantity)
        rounded = execution_nb.round_fill_nb(quantity, lot_size, minimum, lot_scale(lot_size))
        assert rounded == expected, (quantity, lot_size)
