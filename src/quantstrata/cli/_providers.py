"""Options and client construction shared by the commands that talk to data providers."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret
from quantstrata.data.sources import (
    API_KEY_VARIABLE,
    TickDBClient,
    TickDBConfig,
    ccxt_public_exchange,
)
from quantstrata.live.brokers import CcxtConfig

__all__ = [
    "PROVIDERS",
    "BaseUrlOption",
    "ExchangeOption",
    "ExchangeOptionsOption",
    "ExchangeUrlOption",
    "ExchangeWebSocketOption",
    "MarketTypeOption",
    "PlanOption",
    "ProviderOption",
    "SymbolsOption",
    "YahooUrlOption",
    "ccxt_config",
    "ccxt_exchange",
    "check_provider",
    "split_symbols",
    "tickdb_client",
    "tickdb_config",
]

PROVIDERS = ("tickdb", "ccxt", "yfinance")

SymbolsOption = Annotated[
    str, typer.Option("--symbols", "-s", help="Comma-separated symbols, e.g. AAPL.US,BTCUSDT.")
]
ProviderOption = Annotated[
    str, typer.Option("--provider", help="Data provider: tickdb, ccxt or yfinance.")
]
ExchangeOption = Annotated[
    str,
    typer.Option("--exchange", help="ccxt exchange id, e.g. binance, kraken (--provider ccxt)."),
]
ExchangeUrlOption = Annotated[
    str | None,
    typer.Option(
        "--exchange-url",
        envvar="QUANTSTRATA_EXCHANGE_URL",
        help="ccxt REST endpoint replacing the exchange's public one (a gateway, a test server).",
    ),
]
ExchangeWebSocketOption = Annotated[
    str | None,
    typer.Option(
        "--exchange-ws-url",
        envvar="QUANTSTRATA_EXCHANGE_WS_URL",
        help="ccxt WebSocket endpoint replacing the exchange's spot stream.",
    ),
]
ExchangeOptionsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--exchange-option",
        help="ccxt option name=value merged into exchange.options (value read as JSON when it "
        "parses, e.g. fetchCurrencies=false); repeatable.",
    ),
]
MarketTypeOption = Annotated[
    str, typer.Option("--market-type", help="ccxt market type to load: spot, swap, future.")
]
YahooUrlOption = Annotated[
    str | None,
    typer.Option(
        "--yahoo-url",
        envvar="QUANTSTRATA_YAHOO_URL",
        help="Send yfinance's Yahoo requests to this base URL instead (a gateway, a test server).",
    ),
]
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


def check_provider(provider: str, allowed: tuple[str, ...] = PROVIDERS) -> str:
    """Return ``provider`` if this command supports it, else raise :class:`ConfigError`."""
    if provider not in allowed:
        raise ConfigError(f"--provider {provider!r} is not supported; use {', '.join(allowed)}")
    return provider


def _exchange_options(exchange: str, market_type: str) -> dict[str, Any]:
    options: dict[str, Any] = {"defaultType": market_type}
    if exchange == "binance":
        options["fetchMarkets"] = {"types": [market_type]}
    return options


def ccxt_exchange(exchange: str, url: str | None, market_type: str) -> Any:
    """Return ccxt's synchronous public client of ``exchange`` (history needs no key)."""
    client = ccxt_public_exchange(exchange)
    client.options.update(_exchange_options(exchange, market_type))
    if url is not None:
        client.urls["api"]["public"] = url
    return client


def ccxt_config(
    exchange: str,
    symbols: list[str],
    url: str | None,
    ws_url: str | None,
    market_type: str,
    *,
    private: bool = False,
    options: list[str] | None = None,
) -> CcxtConfig:
    """Return the settings of the ccxt feed (and, with ``private``, broker) from CLI options.

    ``url`` replaces the exchange's public REST endpoint, and its private one too when
    ``private`` (a gateway or test server serves both); ``options`` are ``name=value`` texts.
    """
    urls: dict[str, Any] = {}
    if url is not None:
        urls["public"] = url
        if private:
            urls["private"] = url
    if ws_url is not None:
        urls["ws"] = {market_type: ws_url}
    return CcxtConfig.build(
        exchange=exchange,
        symbols=tuple(symbols),
        api_urls=urls,
        options={**_exchange_options(exchange, market_type), **_named_values(options or [])},
    )


def _named_values(pairs: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        name, separator, text = pair.partition("=")
        if not separator or not name:
            raise ConfigError(f"--exchange-option takes name=value, got {pair!r}")
        try:
            values[name] = json.loads(text)
        except ValueError:
            values[name] = text
    return values
