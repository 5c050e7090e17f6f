"""Every history provider has the same two fetchers, exported where users look for them."""

from __future__ import annotations

import inspect
import subprocess
import sys

import ccxt
import pytest

import quantstrata.data
import quantstrata.data.sources
from quantstrata.cli._providers import PROVIDERS
from quantstrata.core.errors import ConfigError
from quantstrata.data.sources import ccxt_public_exchange


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_provider_has_a_frame_fetcher_and_a_catalog_fetcher_with_one_signature(
    provider: str,
):
    frames = getattr(quantstrata.data.sources, f"fetch_{provider}_bars")
    catalog = getattr(quantstrata.data.sources, f"fetch_{provider}_to_catalog")
    assert getattr(quantstrata.data, f"fetch_{provider}_bars") is frames
    assert getattr(quantstrata.data, f"fetch_{provider}_to_catalog") is catalog
    for fetcher in (frames, catalog):
        keywords = {
            name
            for name, parameter in inspect.signature(fetcher).parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY
        }
        assert {"interval", "start", "end"} <= keywords, fetcher.__name__


def test_importing_the_sources_leaves_the_optional_clients_unloaded():
    code = (
        "import sys, quantstrata.data.sources; "
        "print(sorted(m for m in ('ccxt', 'yfinance') if m in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert completed.stdout.strip() == "[]"


def test_an_exchange_id_opens_a_public_rate_limited_ccxt_client():
    exchange = ccxt_public_exchange("kraken")
    assert isinstance(exchange, ccxt.kraken)
    assert exchange.enableRateLimit
    with pytest.raises(ConfigError, match="ccxt has no exchange 'nope'"):
        ccxt_public_exchange("nope")
