"""Optional dependencies: import one where it is used, or say which extra installs it.

Each optional package (psycopg, ccxt, alpaca-py, ib_async, Dask, yfinance, DuckDB, Optuna)
belongs to an extra of the ``quantstrata`` distribution (``pip install "quantstrata[postgres]"``;
``[all]`` installs every one). Code that needs one calls :func:`require` inside the function
that uses it, never at module top, so a plain install imports and runs everything else.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from quantstrata.core.errors import MissingDependencyError

__all__ = ["EXTRAS", "require"]

#: The extra that installs each optional top-level package.
EXTRAS: dict[str, str] = {
    "alpaca": "alpaca",
    "ib_async": "ib",
    "ccxt": "ccxt",
    "dask": "dask",
    "duckdb": "sql",
    "msgpack": "alpaca",
    "optuna": "optuna",
    "psycopg": "postgres",
    "yfinance": "yfinance",
}


def require(module: str, purpose: str) -> ModuleType:
    """Import and return ``module`` (e.g. ``"ccxt.pro"``), or raise :class:`MissingDependencyError`.

    ``purpose`` says what needed it ("the PostgreSQL journal"); the message names the extra
    that installs the module's top-level package, as a command the user can run.
    """
    package = module.partition(".")[0]
    extra = EXTRAS[package]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is None or error.name.partition(".")[0] != package:
            raise  # the package is there but something it imports is missing: not our extra
        raise MissingDependencyError(
            f"{purpose} needs the optional package {package!r}, which is not installed: "
            f'pip install "quantstrata[{extra}]" (or "quantstrata[all]" for every extra)'
        ) from None
