"""Bars and Hypothesis strategies for fill-model tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from quantstrata.execution import FillModel, WorkingOrder
from quantstrata.model.bar import Bar
from quantstrata.model.identifiers import Symbol
from quantstrata.model.orders import OrderRequest

START = datetime(2024, 1, 2, tzinfo=UTC)
SYMBOL = Symbol("TEST")


def make_bar(
    open_: float,
    high: float,
    low: float,
    close: float,
    *,
    volume: float = 1_000.0,
    index: int = 0,
) -> Bar:
    """Build a validated bar; ``index`` spaces bars one day apart."""
    return Bar(START + timedelta(days=index), SYMBOL, open_, high, low, close, volume)


# Prices in whole cents keep hand-readable values and exact comparisons.
_cents = st.integers(min_value=5_000, max_value=15_000).map(lambda cents: cents / 100)


@st.composite
def bars(draw: st.DrawFn, *, volume: st.SearchStrategy[float] | None = None) -> Bar:
    """Draw a consistent OHLCV bar (high >= open, close >= low)."""
    points = sorted(draw(st.lists(_cents, min_size=4, max_size=4)))
    low, high = points[0], points[3]
    open_ = draw(st.sampled_from(points))
    close = draw(st.sampled_from(points))
    drawn_volume = draw(volume if volume is not None else st.sampled_from([0.0, 10.0, 1_000.0]))
    return Bar(START, SYMBOL, open_, high, low, close, drawn_volume)


prices = _cents


def model_fill(request: OrderRequest, bars: list[Bar]) -> tuple[int, float] | None:
    """Return (bar offset, price) of the shared fill model's first fill of ``request``."""
    model, state = FillModel(), WorkingOrder.from_request(request)
    for offset, bar in enumerate(bars):
        step = model.step(state, bar)
        if step.fill is not None:
            return offset, step.fill.price
        if step.order is None:
            return None
        state = step.order
    return None
