"""Journal entries survive JSON exactly: equal values, same offsets, same float bits."""

from __future__ import annotations

import math
from datetime import timedelta, timezone

import pytest
from hypothesis import given

from quantstrata.live.journal import (
    CashSet,
    Checkpoint,
    JournalEntry,
    JournalError,
    decode_entry,
    encode_entry,
)
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import OrderRequest, Submitted
from tests.kit.live import START, SYMBOL, journal_entries


@given(journal_entries())
def test_every_entry_round_trips_exactly(entry: JournalEntry) -> None:
    decoded = decode_entry(encode_entry(entry))
    assert decoded == entry
    assert type(decoded) is type(entry)
    assert decoded.ts.utcoffset() == entry.ts.utcoffset()
    assert encode_entry(decoded) == encode_entry(entry)


def test_floats_keep_every_bit() -> None:
    price = 0.1 + 0.2
    quantity = 1e-9 * 3
    entry = Submitted(
        ClientOrderId("run-1"), START, OrderRequest.limit(str(SYMBOL), quantity, price)
    )
    decoded = decode_entry(encode_entry(entry))
    assert isinstance(decoded, Submitted)
    assert decoded.request.limit_price == price
    assert math.copysign(1.0, decoded.request.quantity) == 1.0
    assert decoded.request.quantity.hex() == quantity.hex()


def test_time_offsets_are_kept() -> None:
    moment = START.astimezone(timezone(timedelta(hours=-3, minutes=-30)))
    decoded = decode_entry(encode_entry(CashSet(moment, 5.0, "x")))
    assert decoded.ts == moment
    assert decoded.ts.utcoffset() == timedelta(hours=-3, minutes=-30)


def test_non_finite_checkpoint_data_is_refused() -> None:
    with pytest.raises(JournalError, match="finite"):
        Checkpoint(START, "x", {"equity": math.nan})


def test_text_that_is_not_an_entry_is_refused() -> None:
    with pytest.raises(JournalError, match="unreadable"):
        decode_entry('{"$type": "Nope"}')
    with pytest.raises(JournalError, match="not a journal entry"):
        decode_entry('{"$type": "OrderRequest", "symbol": "X", "side": 1, "quantity": 1.0}')
    with pytest.raises(JournalError, match="naive"):
        decode_entry('{"$type": "CashSet", "ts": {"$dt": "2024-01-01T00:00:00"}, "cash": 1.0}')


def test_objects_that_are_not_entries_are_refused() -> None:
    with pytest.raises(JournalError, match="not a journal entry"):
        encode_entry(OrderRequest.market("X", 1))  # type: ignore[arg-type]
