"""The pure-Python sizing twins return bit-identical results to the compiled kernels."""

from __future__ import annotations

import math
import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.execution import _nb, _scalar

# Realistic magnitudes plus the awkward values: signed zeros, tiny and huge numbers.
_REAL = st.one_of(
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e-300, -1e-300, 0.1, 0.3, 1.0, -1.0]),
)
_PRICE = st.floats(min_value=1e-6, max_value=1e7, allow_nan=False, allow_infinity=False)
_LOT = st.one_of(
    st.just(0.0),
    st.floats(min_value=1e-6, max_value=1e4, allow_nan=False, allow_infinity=False),
)


def _bits(value: float) -> bytes:
    return struct.pack("<d", float(value))


def _same(expected: float, found: float) -> bool:
    return (math.isnan(expected) and math.isnan(found)) or _bits(expected) == _bits(found)


@settings(max_examples=400, deadline=None)
@given(quantity=_REAL, lot_size=_LOT, min_quantity=st.one_of(st.just(0.0), _PRICE))
def test_round_lots_matches_the_kernel(quantity: float, lot_size: float, min_quantity: float):
    expected = _nb.round_lots_nb(quantity, lot_size, min_quantity)
    assert _same(expected, _scalar.round_lots(quantity, lot_size, min_quantity))


@settings(max_examples=400, deadline=None)
@given(cash=_REAL, rows=st.lists(st.tuples(_REAL, _PRICE), max_size=12))
def test_equity_matches_the_kernel(cash: float, rows: list[tuple[float, float]]):
    positions = [position for position, _ in rows]
    marks = [mark for _, mark in rows]
    expected, _ = _nb.equity_nb(
        cash, np.array(positions, dtype=float), np.array(marks, dtype=float)
    )
    assert _same(expected, _scalar.equity(cash, positions, marks))


@settings(max_examples=400, deadline=None)
@given(target=_REAL, units=st.booleans(), equity=_REAL, price=_PRICE, allow_short=st.booleans())
def test_target_position_matches_the_kernel(
    target: float, units: bool, equity: float, price: float, allow_short: bool
):
    expected = _nb.target_position_nb(target, units, equity, price, allow_short)
    assert _same(expected, _scalar.target_position(target, units, equity, price, allow_short))


@settings(max_examples=400, deadline=None)
@given(
    current=_REAL,
    desired=_REAL,
    price=_PRICE,
    other=st.one_of(_REAL, st.just(0.0)),
    equity=_REAL,
    leverage=st.floats(min_value=0.01, max_value=100.0),
)
def test_cap_leverage_matches_the_kernel(  # noqa: PLR0917
    current: float, desired: float, price: float, other: float, equity: float, leverage: float
):
    expected = _nb.cap_leverage_nb(current, desired, price, other, equity, leverage)
    found = _scalar.cap_leverage(current, desired, price, other, equity, leverage)
    assert _same(expected, found)
