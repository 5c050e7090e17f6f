"""Options and client construction shared by the commands that talk to data providers."""

from __future__ import annotations

from typing import Annotated

import typer

from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret
from quantstrata.data.sources import API_KEY_VARIABLE, TickDBClient, TickDBConfig

__all__ = [
    "BaseUrlOption",
    "PlanOption",
    "ProviderOption",
    "SymbolsOption",
    "split_symbols",
    "tickdb_client",
    "tickdb_config",
]

SymbolsOption = Annotated[
    str, typer.Option("--symbols", "-s", help="Comma-separated symbols, e.g. AAPL.US,BTCUSDT.")
]
ProviderOption = Annotated[str, typer.Option("--provider", help="Data provider: tickdb.")]
BaseUrlOption = Annotated[
    str | None,
    typer.Option("--base-url", envvar="TICKDB_BASE_URL", help="REST endpoint (default: TickDB's)."),
]
PlanOption = Annotated[
    str,
    typer.Option("--plan", help="TickDB plan, sets the rate limit: free, basic, pro, enterprise."),
]


def split_symbols(text: str) -> list[str]:
    """Return the symbols of a comma-separated list; an empty list is a configuration error."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ConfigError(f"--symbols needs at least one symbol, got {text!r}")
    return names


def tickdb_config(
    base_url: str | None, plan: str, websocket_url: str | None = None
) -> TickDBConfig:
    """Build the TickDB settings from command-line options."""
    values: dict[str, object] = {"plan": plan}
    if base_url is not None:
        values["base_url"] = base_url
    if websocket_url is not None:
        values["websocket_url"] = websocket_url
    return TickDBConfig.build(**values)


def tickdb_client(base_url: str | None, plan: str) -> TickDBClient:
    """Return a TickDB REST client keyed from ``$TICKDB_API_KEY``."""
    return TickDBClient(
        Secret.from_environment(API_KEY_VARIABLE), config=tickdb_config(base_url, plan)
    )
