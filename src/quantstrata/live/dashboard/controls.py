"""The kill switch as requests the runtime drains on its own event loop.

The dashboard never changes trading state itself: a request (halt, reduce-only or resume, for
one symbol or all) goes on a :class:`ControlQueue`; the live runtime takes it off, applies it
through the order manager (journaled, pushed to the risk engine, alerted) and answers with the
state now in force. Every change therefore takes the same path as any other trading-state
change.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum

from quantstrata.core.errors import QuantstrataError
from quantstrata.execution.risk import TradingState

__all__ = ["ControlAction", "ControlError", "ControlOutcome", "ControlQueue", "ControlRequest"]

_ANSWER_TIMEOUT = 10.0


class ControlAction(StrEnum):
    """What a person asks of the kill switch."""

    HALT = "halt"
    REDUCE_ONLY = "reduce-only"
    RESUME = "resume"

    @property
    def state(self) -> TradingState:
        """The trading state the action sets."""
        return _STATES[self]


_STATES = {
    ControlAction.HALT: TradingState.HALTED,
    ControlAction.REDUCE_ONLY: TradingState.REDUCING,
    ControlAction.RESUME: TradingState.ACTIVE,
}


class ControlError(QuantstrataError):
    """A kill-switch request the runtime could not apply (not running, or no answer in time)."""


@dataclass(frozen=True, slots=True)
class ControlOutcome:
    """What the runtime did: the state now set, and how many working orders it cancelled."""

    state: TradingState
    cancelled: int = 0


@dataclass(slots=True)
class ControlRequest:
    """One kill-switch request: the action, its scope (``None``: all symbols) and why.

    ``cancel_open`` also cancels the working orders in scope (after the state is set, so no
    new order can replace them).
    """

    action: ControlAction
    symbol: str | None
    reason: str
    answer: asyncio.Future[ControlOutcome] = field(repr=False)
    cancel_open: bool = False


class ControlQueue:
    """Requests from the dashboard to the runtime; both sides live on one event loop."""

    def __init__(self) -> None:
        """Start empty and closed; the runtime opens it while it trades."""
        self._queue: asyncio.Queue[ControlRequest] = asyncio.Queue()
        self.open = False

    async def ask(
        self,
        action: ControlAction,
        symbol: str | None,
        reason: str,
        *,
        cancel_open: bool = False,
    ) -> ControlOutcome:
        """Queue a request and wait for the runtime to apply it; return what it did."""
        if not self.open:
            raise ControlError("the live runtime is not trading; nothing to halt or resume")
        answer: asyncio.Future[ControlOutcome] = asyncio.get_running_loop().create_future()
        request = ControlRequest(ControlAction(action), symbol, reason, answer, cancel_open)
        await self._queue.put(request)
        try:
            return await asyncio.wait_for(asyncio.shield(answer), timeout=_ANSWER_TIMEOUT)
        except TimeoutError:
            raise ControlError("the live runtime did not apply the request in time") from None

    async def next(self) -> ControlRequest:
        """Return the next request (the runtime's side)."""
        return await self._queue.get()

    def close(self) -> None:
        """Refuse new requests and fail the ones still waiting."""
        self.open = False
        while not self._queue.empty():
            request = self._queue.get_nowait()
            if not request.answer.done():
                request.answer.set_exception(ControlError("the live runtime stopped"))
