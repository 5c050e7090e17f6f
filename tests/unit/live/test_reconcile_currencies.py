"""Reconciliation compares the cash per currency a broker reports with the journal's book."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from quantstrata.core.clock import SimulatedClock
from quantstrata.live.brokers.paper import PaperBroker
from quantstrata.live.reconcile import MismatchKind, compare_balances
from quantstrata.model.bar import Bar
from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.instrument import Instrument
from quantstrata.model.orders import OrderRequest
from quantstrata.model.position import Position

T0 = datetime(2024, 1, 2, tzinfo=UTC)
SAP = Instrument.of("SAP", "equity", quote_currency="EUR", calendar=None)


async def _traded() -> PaperBroker:
    broker = PaperBroker(
        clock=SimulatedClock(T0), cash=10_000.0, instruments={"SAP": SAP}, base_currency="USD"
    )
    await broker.submit(ClientOrderId("A"), OrderRequest.market("SAP", 10.0))
    await broker.submit(ClientOrderId("B"), OrderRequest.market("SPY", 5.0))
    await broker.submit(ClientOrderId("C"), OrderRequest.market("SAP", -4.0))
    for symbol, price in (("SAP", 100.0), ("SPY", 50.0)):
        await broker.on_bar(
            Bar(T0 + timedelta(days=1), Symbol(symbol), price, price, price, price, 1e6)
        )
    return broker


def test_the_paper_broker_reports_cash_per_currency_and_the_book_agrees() -> None:
    broker = asyncio.run(_traded())
    account = asyncio.run(broker.account())
    assert account.balances == {"USD": 9_750.0, "EUR": -600.0}
    # The journal's book: positions from the fills, one cash that every fill moved.
    positions: dict[Symbol, Position] = {}
    cash = 10_000.0
    for fill in asyncio.run(broker.fills()):
        held = positions.get(fill.symbol, Position.flat(fill.symbol))
        positions[fill.symbol] = held.apply(fill)
        cash -= fill.signed_quantity * fill.price + fill.commission
    currency_of = {"SAP": "EUR"}
    assert compare_balances(positions, cash, currency_of, account.balances) == []
    wrong = {"USD": 9_750.0, "EUR": -500.0}
    [mismatch] = compare_balances(positions, cash, currency_of, wrong)
    assert mismatch.kind is MismatchKind.BALANCE
    assert mismatch.message == "cash in EUR: -600.0 here, -500.0 at the venue"


def test_one_currency_compares_nothing() -> None:
    assert compare_balances({}, 5.0, {}, {"USD": 7.0}) == []
