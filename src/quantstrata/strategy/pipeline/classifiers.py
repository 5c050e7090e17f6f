"""Classifiers: a group label per row (sectors, buckets), for grouped cross-sectional steps.

:meth:`Factor.quantiles <quantstrata.strategy.pipeline.terms.Factor.quantiles>` gives buckets
of a factor; this module adds fixed groups and groups from expressions.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from quantstrata.core.errors import ConfigError
from quantstrata.strategy.pipeline.terms import Classifier

__all__ = ["expression_classifier", "symbol_groups"]


def symbol_groups(groups: Mapping[str, str]) -> Classifier:
    """Return a classifier from a fixed ``symbol -> group`` mapping (unlisted symbols: null)."""
    if not isinstance(groups, Mapping) or not groups:
        raise ConfigError("symbol_groups takes a non-empty mapping of symbol to group")
    table = {str(symbol): str(group) for symbol, group in groups.items()}
    return Classifier(
        lambda _columns, _universe: pl.col("symbol").replace_strict(
            table, default=None, return_dtype=pl.String
        ),
        label=f"symbol_groups({len(table)})",
    )


def expression_classifier(
    expression: pl.Expr, *, lookback: int, label: str = "expression"
) -> Classifier:
    """Return a classifier from a Polars expression over bar columns, evaluated per symbol."""
    if not isinstance(expression, pl.Expr):
        raise ConfigError(f"expression_classifier takes a Polars expression, got {expression!r}")
    return Classifier(
        lambda _columns, _universe: expression.over("symbol"), lookback=lookback, label=label
    )
