"""Dashboard settings and the control queue: tokens hidden, bad settings refused."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret
from quantstrata.execution.risk import TradingState
from quantstrata.live import LiveConfig
from quantstrata.live.dashboard import (
    ControlAction,
    ControlError,
    ControlOutcome,
    ControlQueue,
    DashboardConfig,
)


def test_defaults_bind_localhost_on_a_free_port_and_hide_tokens() -> None:
    config = DashboardConfig(admin_token=Secret("admin-secret"), viewer_token=Secret("view-it"))
    assert (config.host, config.port) == ("127.0.0.1", 0)
    text = repr(config) + str(config) + repr(LiveConfig(symbols=("SPX",), dashboard=config))
    assert "admin-secret" not in text
    assert "view-it" not in text


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"admin_token": Secret("same"), "viewer_token": Secret("same")},
        {"admin_token": Secret("a"), "port": 70_000},
        {"admin_token": Secret("a"), "push_interval": 0},
        {"admin_token": Secret("a"), "colour": "red"},
    ],
    ids=["no-admin-token", "same-tokens", "port", "push-interval", "unknown-field"],
)
def test_bad_settings_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DashboardConfig(**settings)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as error:
        DashboardConfig.build(**settings)
    assert "DashboardConfig" in str(error.value)


def test_actions_map_to_trading_states() -> None:
    assert ControlAction("halt").state is TradingState.HALTED
    assert ControlAction("reduce-only").state is TradingState.REDUCING
    assert ControlAction("resume").state is TradingState.ACTIVE


@pytest.mark.asyncio
async def test_a_closed_queue_refuses_and_an_open_one_waits_for_the_runtime() -> None:
    queue = ControlQueue()
    with pytest.raises(ControlError):
        await queue.ask(ControlAction.HALT, None, "no runtime")
    queue.open = True
    asking = asyncio.create_task(queue.ask(ControlAction.REDUCE_ONLY, "SPX", "why"))
    request = await queue.next()
    assert (request.action, request.symbol, request.reason) == ("reduce-only", "SPX", "why")
    assert request.cancel_open is False
    request.answer.set_result(ControlOutcome(TradingState.REDUCING))
    assert (await asking).state is TradingState.REDUCING
    waiting = asyncio.create_task(queue.ask(ControlAction.HALT, None, "late"))
    await asyncio.sleep(0)
    queue.close()
    with pytest.raises(ControlError):
        await waiting


def test_snapshots_carry_no_number_json_cannot_hold() -> None:
    from quantstrata.live.dashboard.view import _finite

    cleaned = _finite({"a": float("nan"), "b": [1.0, float("inf")], "c": ("x", -float("inf"))})
    assert cleaned == {"a": None, "b": [1.0, None], "c": ["x", None]}
