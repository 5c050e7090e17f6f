"""Add many indicators to a bar frame in one call, computed per symbol.

>>> frame = add_indicators(bars, [indicator("sma", period=20), indicator("rsi")])

Column names are ``<name>_<parameter values>`` (``sma_20``, ``rsi_14``), with ``_<output>``
appended for indicators with several outputs (``macd_12_26_9_signal``); pass ``alias=`` to choose
the name. Each symbol is computed on its own rows, in time order, so no value leaks across
symbols.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import polars as pl

from quantstrata.core.errors import SchemaError
from quantstrata.indicators.registry import definition

__all__ = ["IndicatorSpec", "add_indicators", "indicator"]

_ROW = "__quantstrata_row__"


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """An indicator to compute: its name, parameters and optional column name."""

    name: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    alias: str | None = None

    def __post_init__(self) -> None:
        """Check the name and parameters against the registry now, not at compute time."""
        definition(self.name).parameters(**self.parameters)
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    def column_names(self) -> tuple[str, ...]:
        """Return the output column names this spec adds."""
        item = definition(self.name)
        resolved = item.parameters(**self.parameters)
        base = self.alias or "_".join([item.name, *(str(value) for value in resolved.values())])
        if len(item.outputs) == 1:
            return (base,)
        return tuple(f"{base}_{output}" for output in item.outputs)


def indicator(name: str, *, alias: str | None = None, **parameters: Any) -> IndicatorSpec:
    """Describe indicator ``name`` with ``parameters`` for :func:`add_indicators`."""
    return IndicatorSpec(name=name, parameters=parameters, alias=alias)


def add_indicators(bars: pl.DataFrame, specs: Sequence[IndicatorSpec | str]) -> pl.DataFrame:
    """Return ``bars`` with one column per indicator output, computed per symbol in time order."""
    resolved = [spec if isinstance(spec, IndicatorSpec) else indicator(spec) for spec in specs]
    _check_columns(bars, resolved)
    numbered = bars.with_row_index(_ROW)
    keys = ["symbol", "ts"] if "symbol" in bars.columns else ["ts"]
    ordered = numbered.sort(keys) if "ts" in bars.columns else numbered
    parts = (
        ordered.partition_by("symbol", maintain_order=True)
        if "symbol" in bars.columns
        else [ordered]
    )
    computed = pl.concat([_compute(part, resolved) for part in parts], how="vertical")
    return computed.sort(_ROW).drop(_ROW)


def _compute(part: pl.DataFrame, specs: Sequence[IndicatorSpec]) -> pl.DataFrame:
    columns: list[pl.Series] = []
    for spec in specs:
        item = definition(spec.name)
        arrays = [part[column].to_numpy() for column in item.inputs]
        result = item.batch(*arrays, **spec.parameters)
        outputs = (result,) if len(item.outputs) == 1 else tuple(result)
        for name, values in zip(spec.column_names(), outputs, strict=True):
            columns.append(pl.Series(name, np.asarray(values, dtype=np.float64)).fill_nan(None))
    return part.with_columns(columns)


def _check_columns(bars: pl.DataFrame, specs: Sequence[IndicatorSpec]) -> None:
    needed = {column for spec in specs for column in definition(spec.name).inputs}
    missing = sorted(needed - set(bars.columns))
    if missing:
        raise SchemaError(f"bars lack column(s) {missing} needed by the requested indicators")
    names = [name for spec in specs for name in spec.column_names()]
    clashes = sorted({name for name in names if names.count(name) > 1 or name in bars.columns})
    if clashes:
        raise SchemaError(f"indicator column name(s) {clashes} repeat or already exist; use alias=")
