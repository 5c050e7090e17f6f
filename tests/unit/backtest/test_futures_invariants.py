"""Futures through every loop: the compiled loops fill as the simulated exchange does.

Random target grids on random bars of three symbols traded as contracts (multipliers 50, 0.5
and 1; margin per contract, on notional, or none) run through the compiled signal loop (sized at
the fill), the event loop (whose targets go through the simulated exchange) and the compiled
decision loop against its event-loop replay: the same fills, cash and positions. The account
values every position at ``quantity × close × multiplier``, and buying power comes from margin.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
from quantstrata.backtest._ledger import margin_called
from quantstrata.backtest.config import SizeAt
from quantstrata.core.errors import DataError
from quantstrata.exchange import MarginCallPolicy
from quantstrata.execution import CommissionConfig, FillConfig, FillPolicy
from quantstrata.execution.margin import initial_margin
from quantstrata.model import Instrument, Margin, MarginBasis
from tests.kit.backtest import FixedTargets, make_bars, random_bars
from tests.kit.random_strategies import (
    EventTargets,
    ObservedEventTargets,
    UnitTargets,
    decided_both_ways,
    target_grid,
)

SYMBOLS = ("AAA", "BBB", "CCC")
MARGINS = {
    "per_contract": Margin(900.0, 700.0, basis="per_contract"),
    "notional": Margin(0.1, 0.05),
    "none": None,
}


def _margin(kind: str, multiplier: float) -> Margin | None:
    """Return the margin of ``kind``; one per contract is scaled to the contract's notional."""
    margin = MARGINS[kind]
    if margin is None or margin.basis is not MarginBasis.PER_CONTRACT:
        return margin
    scale = multiplier / 50.0
    return Margin(margin.initial * scale, margin.maintenance * scale, basis="per_contract")


def _instruments(kind: str, lot: float) -> dict[str, Instrument]:
    multipliers = {"AAA": 50.0, "BBB": 0.5, "CCC": 1.0}
    return {
        symbol: Instrument.of(
            symbol,
            "future",
            root=symbol,
            expiry=date(2099, 12, 18),
            multiplier=multiplier,
            lot_size=lot,
            margin=_margin(kind, multiplier),
        )
        for symbol, multiplier in multipliers.items()
    }


configs = st.builds(
    lambda policy, rate, per_unit, short, leverage, margin, lot, size_at: BacktestConfig(
        check_lookahead=False,
        size_at=size_at,
        fill=FillConfig(policy=policy),
        commission=CommissionConfig(rate=rate, per_unit=per_unit, exchange_fee=per_unit / 2),
        allow_short=short,
        max_leverage=leverage,
        fractional=lot == 0.0,
        instruments=_instruments(margin, lot or 1.0),
    ),
    policy=st.sampled_from(list(FillPolicy)),
    rate=st.sampled_from([0.0, 0.0002]),
    per_unit=st.sampled_from([0.0, 2.0]),
    short=st.booleans(),
    leverage=st.sampled_from([0.5, 1.0, 3.0]),
    margin=st.sampled_from(list(MARGINS)),
    lot=st.sampled_from([0.0, 1.0]),
    size_at=st.sampled_from(list(SizeAt)),
)

_FILL_COLUMNS = ["ts", "symbol", "side", "quantity", "price", "commission"]


def _check_valuation(result: BacktestResult, config: BacktestConfig) -> None:
    """Positions are worth quantity × close × multiplier; cash follows the fills."""
    positions = result.positions
    multiplier = positions["symbol"].replace_strict(
        {s: i.multiplier for s, i in config.instruments.items()}, return_dtype=pl.Float64
    )
    assert np.allclose(
        positions["value"], positions["quantity"] * positions["price"] * multiplier, rtol=1e-12
    )
    equity = result.equity
    assert np.allclose(
        equity["equity"], equity["cash"] + equity["positions_value"], rtol=1e-12, atol=1e-6
    )
    fills = result.fills
    fill_multiplier = fills["symbol"].replace_strict(
        {s: i.multiplier for s, i in config.instruments.items()}, return_dtype=pl.Float64
    )
    signed = np.where(fills["side"] == "buy", 1.0, -1.0) * fills["quantity"].to_numpy()
    spent = (signed * fills["price"].to_numpy() * fill_multiplier.to_numpy()).sum()
    booked = config.cash - spent - fills["commission"].sum()
    last = positions.group_by("symbol").agg(pl.col("quantity").last(), pl.col("price").last())
    held = sum(
        q * p * config.instruments[s].multiplier
        for s, q, p in last.select("symbol", "quantity", "price").iter_rows()
    )
    if positions.group_by("symbol").agg(pl.col("ts").max())["ts"].n_unique() == 1:
        assert np.isclose(result.final_equity, booked + held, rtol=1e-9, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(bars=random_bars(symbols=SYMBOLS), config=configs, data=st.data())
def test_compiled_signal_fills_equal_the_exchanges_with_contracts(
    bars: pl.DataFrame, config: BacktestConfig, data: st.DataObject
) -> None:
    grid = data.draw(target_grid(bars))
    config = config.model_copy(update={"size_at": SizeAt.FILL})
    signal = Backtest(bars, FixedTargets(grid), config).run()
    event = Backtest(bars, EventTargets(grid), config).run()
    assert signal.fills.select(_FILL_COLUMNS).equals(event.fills.select(_FILL_COLUMNS))
    assert signal.equity.equals(event.equity)
    # Through order objects the exchange fills each target with the fill model and books it.
    observed = Backtest(bars, ObservedEventTargets(grid), config).run()
    assert observed.fills.select(_FILL_COLUMNS[:3]).equals(signal.fills.select(_FILL_COLUMNS[:3]))
    for column in _FILL_COLUMNS[3:]:
        assert np.allclose(observed.fills[column], signal.fills[column], rtol=1e-12, atol=1e-9)
    assert np.allclose(observed.equity["equity"], signal.equity["equity"], rtol=1e-12)
    _check_valuation(signal, config)


@settings(max_examples=40, deadline=None)
@given(bars=random_bars(symbols=SYMBOLS), config=configs, units=st.booleans(), data=st.data())
def test_compiled_decisions_equal_the_exchanges_with_contracts(
    bars: pl.DataFrame, config: BacktestConfig, units: bool, data: st.DataObject
) -> None:
    config = config.model_copy(update={"size_at": SizeAt.DECISION})
    frame = data.draw(target_grid(bars, units=units))
    compiled, replay = decided_both_ways(bars, config, frame, units=units)
    strategy = UnitTargets(frame) if units else FixedTargets(frame)
    # The compiled loop makes no margin calls: a run of it that went below maintenance is
    # replaced by the exchange's (the replay); one that did not is the replay's, exactly.
    called = compiled is not None and margin_called(compiled, config)
    assert replay.margin_calls.is_empty() or compiled is None or called
    if compiled is not None and not called:
        assert compiled.orders.equals(replay.orders), (compiled.orders, replay.orders)
        assert compiled.fills.equals(replay.fills), (compiled.fills, replay.fills)
        assert np.array_equal(compiled.cash, replay.cash)
        assert np.array_equal(compiled.positions, replay.positions)
    # A liquidation after a gap can leave equity below zero, which the metrics refuse; the
    # valuation is checked on the run without margin calls (they are tested on their own).
    # Without calls a leveraged book can lose more than the account holds: such a run has no
    # metrics (the equity check refuses it by name) and says nothing about valuation.
    uncalled = config.model_copy(update={"margin_call": MarginCallPolicy.NONE})
    try:
        result = Backtest(bars, strategy, uncalled).run()
    except DataError as error:
        if "positive_equity" not in str(error):
            raise
        reject()
    _check_valuation(result, uncalled)


def test_buying_power_comes_from_the_margin_per_contract() -> None:
    """A 100 % target of a 50-point contract at 100 is 20 contracts (notional 100 000 = equity);
    with 6 000 of initial margin per contract equity buys 16 contracts, not 20."""
    bars = make_bars([(100.0, 101.0, 99.0, 100.0)] * 4, symbol="ES")
    future = Instrument.of(
        "ES", "future", root="ES", expiry=date(2099, 12, 18), multiplier=50.0,
        margin=Margin(6_000.0, 5_000.0, basis="per_contract"),
    )  # fmt: skip
    grid = pl.DataFrame({"ts": bars["ts"], "symbol": "ES", "target": [1.0, None, None, None]})
    for size_at in SizeAt:
        config = BacktestConfig(
            check_lookahead=False, size_at=size_at, fractional=False, instruments={"ES": future}
        )
        result = Backtest(bars, FixedTargets(grid), config).run()
        assert result.fills["quantity"].to_list() == [16.0]
        assert result.orders["tag"][0].startswith("target; leverage cap reduced 20 to 16")
        # Cash as a futures broker reports it: equity less the margin posted.
        posted = initial_margin(future, 16.0, 100.0)
        assert result.equity["cash"][-1] == 100_000.0 - posted
        assert result.final_equity == 100_000.0


def test_a_target_of_twice_equity_is_allowed_on_a_tenth_of_margin() -> None:
    """With margin at 10 % of notional, equity supports ten times its value in contracts."""
    bars = make_bars([(100.0, 101.0, 99.0, 100.0)] * 4, symbol="CL")
    future = Instrument.of(
        "CL", "future", root="CL", expiry=date(2099, 12, 18), multiplier=1_000.0,
        margin=Margin(0.1, 0.08),
    )  # fmt: skip
    grid = pl.DataFrame({"ts": bars["ts"], "symbol": "CL", "target": [2.0, None, None, None]})
    config = BacktestConfig(check_lookahead=False, fractional=False, instruments={"CL": future})
    result = Backtest(bars, FixedTargets(grid), config).run()
    assert result.fills["quantity"].to_list() == [2.0]  # 2 × 100 000 / (100 × 1 000)
    assert result.orders["tag"][0] == "target"
