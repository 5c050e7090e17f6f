"""The parity matrix: every order kind × time in force × long / short / reduce-only cell fills
the same in the backtest, in paper trading through the live runtime and on the venue in
lockstep, on daily XNYS bars and on XNYS session minutes with a holiday and an early close.

A run per order kind and bar set trades its nine cells at once (one symbol each, see
:mod:`tests.integration.parity.matrix`); the runs are made once and shared by the cells' tests.
"""

from __future__ import annotations

import functools

import pytest

from quantstrata.model.orders import TimeInForce
from tests.integration.parity.matrix import (
    BAR_SETS,
    MODES,
    ORDER_KINDS,
    CellPlan,
    bar_set,
    cell_symbol,
)
from tests.kit.parity import Outcome, Scripted, mismatches, run_everywhere

_TIFS = (TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC)
_CELLS = tuple((cell_symbol(tif, mode), tif, mode) for tif in _TIFS for mode in MODES)


@functools.cache
def _outcomes(kind: str, bars: str) -> dict[str, Outcome]:
    setup, period = bar_set(bars, tuple(symbol for symbol, _, _ in _CELLS))
    plan = CellPlan(kind, _CELLS, period)
    return run_everywhere(lambda: Scripted(plan), setup)


@pytest.mark.parametrize("bars", BAR_SETS)
@pytest.mark.parametrize("kind", ORDER_KINDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tif", [tif.name for tif in _TIFS])
def test_cell_fills_alike_everywhere(tif: str, mode: str, kind: str, bars: str) -> None:
    symbol = cell_symbol(TimeInForce[tif], mode)
    outcomes = _outcomes(kind, bars)
    assert outcomes["backtest"].fills.filter(symbol=symbol).height > 0, "the cell never traded"
    found = mismatches(outcomes, symbol)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("bars", BAR_SETS)
@pytest.mark.parametrize("kind", ORDER_KINDS)
def test_account_ends_alike_everywhere(kind: str, bars: str) -> None:
    found = mismatches(_outcomes(kind, bars))
    assert not found, "\n".join(found)
