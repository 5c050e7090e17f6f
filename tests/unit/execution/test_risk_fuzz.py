"""Fuzz: malformed and outsized orders never reach a broker.

Every attempt either fails to build (``InvalidOrderError`` naming the field) or is refused by
the risk checks (``RiskViolation``), and the paper broker's record of received orders stays
empty: the order manager never called it.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from quantstrata.core.clock import SimulatedClock
from quantstrata.execution.risk import RiskConfig, RiskEngine, RiskViolation
from quantstrata.live.brokers.paper import PaperBroker
from quantstrata.live.journal import RiskRejection, SqliteJournal
from quantstrata.live.orders import OrderManager
from quantstrata.model.orders import InvalidOrderError, OrderRequest, OrderSide, OrderType
from tests.kit.live import START

CONFIG = RiskConfig(
    symbols=frozenset({"AAA", "BBB"}),
    max_order_notional=1_000_000,
    max_position_units=10_000,
    price_band=0.5,
)

_bad_numbers = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -1.0, -1e-300, 1e300, 1e12])
_any_numbers = st.one_of(_bad_numbers, st.floats(allow_nan=True, allow_infinity=True))
_symbols = st.sampled_from(["AAA", "ZZZ", "", " AAA", "A=B", "\x00"])


@st.composite
def _attempts(draw: st.DrawFn) -> dict[str, object]:
    kind = draw(st.sampled_from(list(OrderType)))
    attempt: dict[str, object] = {
        "symbol": draw(_symbols),
        "side": draw(st.sampled_from([OrderSide.BUY, OrderSide.SELL, 0, 2, True])),
        "quantity": draw(_any_numbers),
        "order_type": kind,
    }
    if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        attempt["limit_price"] = draw(_any_numbers)
    if kind in (OrderType.STOP, OrderType.STOP_LIMIT):
        attempt["stop_price"] = draw(_any_numbers)
    if kind is OrderType.TRAILING_STOP:
        attempt["trail_amount"] = draw(_any_numbers)
    return attempt


def _is_reasonable(attempt: dict[str, object]) -> bool:
    """Whether the attempt is a sane order (then it may legitimately pass).

    Any positive finite quantity up to the position limit (a limit is inclusive) is sane,
    however small (a fractional order; the venue enforces its own minimum lot); prices must be
    near the last price. A trail is a distance, not a price: however small, it is a stop at the
    last price (the venue enforces its own tick), so only a long trail is outsized.
    """
    quantity = attempt["quantity"]
    prices = [v for k, v in attempt.items() if k in ("limit_price", "stop_price")]
    trail = attempt.get("trail_amount", 1.0)
    sane = (
        isinstance(quantity, float)
        and 0.0 < quantity <= 1e4
        and all(isinstance(v, float) and math.isfinite(v) and 1e-6 < v < 1e6 for v in prices)
        and isinstance(trail, float)
        and 0.0 < trail < 1e6
    )
    return (
        sane
        and attempt["symbol"] == "AAA"
        and attempt["side"] in (1, -1)
        and attempt["side"] is not True
    )


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(attempts=st.lists(_attempts(), min_size=1, max_size=10))
# Found by the fuzz: a trail of 1e300 starts the stop far outside the price band; an order of
# exactly the position limit is within it.
@example(
    attempts=[
        {
            "symbol": "AAA",
            "side": OrderSide.BUY,
            "quantity": 1.0,
            "order_type": OrderType.TRAILING_STOP,
            "trail_amount": 1e300,
        },
        {"symbol": "AAA", "side": OrderSide.SELL, "quantity": 1e4, "order_type": OrderType.MARKET},
    ]
)
def test_invalid_orders_never_reach_the_broker(
    tmp_path_factory: pytest.TempPathFactory, attempts: list[dict[str, object]]
) -> None:
    asyncio.run(_run(tmp_path_factory.mktemp("fuzz") / "j.sqlite", attempts))


async def _run(path: Path, attempts: list[dict[str, object]]) -> None:
    clock = SimulatedClock(START)
    broker = PaperBroker(clock=clock, cash=1e6)
    journal = SqliteJournal(path, durability="process")
    manager = OrderManager(broker, journal, run_id="fuzz", clock=clock, risk=RiskEngine(CONFIG))
    refused = 0
    build_errors: list[tuple[dict[str, object], InvalidOrderError]] = []
    for attempt in attempts:
        if _is_reasonable(attempt):
            continue
        try:
            request = OrderRequest(**attempt)  # type: ignore[arg-type]
        except InvalidOrderError as error:
            build_errors.append((attempt, error))
            continue
        with pytest.raises(RiskViolation) as caught:
            await manager.submit(request, last_price=100.0)
        assert caught.value.failures
        refused += 1
    for attempt, error in build_errors:
        assert error.field in attempt
        assert error.field in str(error)
    assert broker.received == []
    rejections = [r for r in journal.replay() if isinstance(r.entry, RiskRejection)]
    assert len(rejections) == refused
    journal.close()
