"""Round trips from fills: FIFO lots, partial closes, flips and commission shares."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from quantstrata.backtest.trades import open_positions, round_trips
from tests.kit.backtest import START


def _fills(rows: list[tuple[int, str, float, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ts": [START + timedelta(days=day) for day, *_ in rows],
            "symbol": ["AAA"] * len(rows),
            "side": [side for _, side, *_ in rows],
            "quantity": [row[2] for row in rows],
            "price": [row[3] for row in rows],
            "commission": [row[4] for row in rows],
        },
        schema_overrides={"ts": pl.Datetime("ns", "UTC")},
    )


def _times(days: int) -> np.ndarray:
    return np.array(
        [int((START + timedelta(days=day)).timestamp()) * 10**9 for day in range(days)],
        dtype=np.int64,
    )


def test_partial_closes_are_separate_trades_first_in_first_out() -> None:
    fills = _fills(
        [
            (0, "buy", 10.0, 100.0, 1.0),
            (1, "buy", 10.0, 110.0, 1.0),
            (2, "sell", 15.0, 120.0, 1.5),
            (3, "sell", 5.0, 90.0, 0.5),
        ]
    )
    trades = round_trips(fills, _times(4))
    assert trades["quantity"].to_list() == [10.0, 5.0, 5.0]
    assert trades["entry_price"].to_list() == [100.0, 110.0, 110.0]
    assert trades["exit_price"].to_list() == [120.0, 120.0, 90.0]
    # first: 10 × 20 less all of the entry fee (1.0) and 10/15 of the exit fee (1.0)
    assert trades["pnl"][0] == pytest.approx(200.0 - 1.0 - 1.0)
    assert trades["pnl"][1] == pytest.approx(50.0 - 0.5 - 0.5)
    assert trades["pnl"][2] == pytest.approx(-100.0 - 0.5 - 0.5)
    assert trades["commission"].sum() == pytest.approx(4.0)
    assert trades["bars_held"].to_list() == [2, 1, 2]
    assert trades["return"][0] == pytest.approx(198.0 / 1_000.0)


def test_a_flip_closes_then_opens_the_other_side() -> None:
    fills = _fills(
        [(0, "buy", 10.0, 100.0, 0.0), (1, "sell", 30.0, 90.0, 3.0), (2, "buy", 20.0, 80.0, 0.0)]
    )
    trades = round_trips(fills, _times(3))
    assert trades["direction"].to_list() == ["long", "short"]
    assert trades["quantity"].to_list() == [10.0, 20.0]
    assert trades["pnl"].to_list() == pytest.approx([-100.0 - 1.0, 200.0 - 2.0])


def test_open_positions_are_not_trades() -> None:
    trades = round_trips(_fills([(0, "buy", 1.0, 100.0, 0.0)]), _times(1))
    assert trades.is_empty()
    assert "bars_held" in trades.columns


def test_open_positions_are_the_lots_left_after_the_round_trips() -> None:
    fills = _fills(
        [
            (0, "buy", 10.0, 100.0, 1.0),
            (1, "buy", 10.0, 110.0, 2.0),
            (2, "sell", 15.0, 120.0, 1.5),
        ]
    )
    bars = pl.DataFrame(
        {"ts": [START + timedelta(days=day) for day in range(4)], "symbol": ["AAA"] * 4,
         "close": [100.0, 110.0, 120.0, 130.0]},
        schema_overrides={"ts": pl.Datetime("ns", "UTC")},
    )  # fmt: skip

    held = open_positions(fills, bars)

    # FIFO: the sale closed the first lot and half the second; 5 of the second lot remain,
    # carrying half of its entry fee (1.0)
    assert held.to_dicts() == [
        {
            "symbol": "AAA",
            "direction": "long",
            "quantity": 5.0,
            "entry_price": 110.0,
            "last_price": 130.0,
            "unrealised_pnl": pytest.approx(5 * 20.0 - 1.0),
        }
    ]
    assert open_positions(fills.head(0), bars).is_empty()
