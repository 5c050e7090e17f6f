from __future__ import annotations

import itertools

import pytest

from quantstrata.core.errors import QuantstrataError
from quantstrata.model.orders.enums import OrderStatus
from quantstrata.model.orders.events import OrderEventKind
from quantstrata.model.orders.transitions import (
    IGNORED,
    TRANSITIONS,
    InvalidTransitionError,
    is_ignored,
    next_status,
)
from tests.kit.orders import EXPECTED_TRANSITIONS, IGNORED_MARK, ILLEGAL_MARK

ALL_PAIRS = list(itertools.product(OrderStatus, OrderEventKind))


def test_the_expectation_grid_covers_every_pair_once():
    assert len(ALL_PAIRS) == len(OrderStatus) * len(OrderEventKind) == 108
    assert set(EXPECTED_TRANSITIONS) == set(ALL_PAIRS)


@pytest.mark.parametrize(("status", "kind"), ALL_PAIRS, ids=str)
def test_every_pair_matches_the_expectation(status: OrderStatus, kind: OrderEventKind):
    expected = EXPECTED_TRANSITIONS[(status, kind)]
    if expected == ILLEGAL_MARK:
        with pytest.raises(InvalidTransitionError) as raised:
            next_status(status, kind)
        assert (raised.value.status, raised.value.event) == (status, kind)
        assert str(status) in str(raised.value)
        assert str(kind) in str(raised.value)
        assert not is_ignored(status, kind)
    elif expected == IGNORED_MARK:
        assert next_status(status, kind) is status
        assert is_ignored(status, kind)
    else:
        assert next_status(status, kind) is expected
        assert not is_ignored(status, kind)


def test_legal_ignored_and_illegal_pairs_do_not_overlap():
    assert not set(TRANSITIONS) & IGNORED
    assert set(TRANSITIONS) | IGNORED <= set(ALL_PAIRS)


def test_terminal_states_are_never_left():
    for (status, _kind), target in TRANSITIONS.items():
        if status.is_terminal:
            assert target is status


def test_submitted_is_illegal_in_every_status():
    for status in OrderStatus:
        with pytest.raises(InvalidTransitionError):
            next_status(status, OrderEventKind.SUBMITTED)


def test_a_timeout_never_means_rejected():
    targets = {TRANSITIONS.get((status, OrderEventKind.TIMED_OUT)) for status in OrderStatus}
    assert OrderStatus.REJECTED not in targets
    assert TRANSITIONS[(OrderStatus.SENDING, OrderEventKind.TIMED_OUT)] is OrderStatus.UNKNOWN


def test_the_table_is_read_only():
    with pytest.raises(TypeError):
        TRANSITIONS[(OrderStatus.FILLED, OrderEventKind.FILL)] = OrderStatus.PENDING  # type: ignore[index]
    assert isinstance(IGNORED, frozenset)


def test_invalid_transition_is_a_quantstrata_error():
    assert issubclass(InvalidTransitionError, QuantstrataError)
