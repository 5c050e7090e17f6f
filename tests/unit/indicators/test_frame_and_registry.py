"""add_indicators computes per symbol in time order; the registry answers by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from quantstrata.core.errors import ConfigError, SchemaError
from quantstrata.indicators import (
    add_indicators,
    definition,
    indicator,
    indicator_names,
    lookback,
    sma,
    warmup_bars,
)
from tests.kit.indicator_data import assert_same_numbers, make_ohlcv


def _bars(symbols: dict[str, int]) -> pl.DataFrame:
    parts = []
    for seed, (symbol, size) in enumerate(symbols.items()):
        data = make_ohlcv(size, seed=seed)
        start = datetime(2024, 1, 1, tzinfo=UTC)
        parts.append(
            pl.DataFrame(
                {
                    "ts": [start + timedelta(minutes=i) for i in range(size)],
                    "symbol": [symbol] * size,
                    "open": data.open,
                    "high": data.high,
                    "low": data.low,
                    "close": data.close,
                    "volume": data.volume,
                }
            ).with_columns(pl.col("ts").dt.cast_time_unit("ns"))
        )
    return pl.concat(parts)


def test_each_symbol_is_computed_on_its_own_rows_and_row_order_is_kept():
    bars = _bars({"AAA": 60, "BBB": 45})
    shuffled = bars.sample(fraction=1.0, shuffle=True, seed=7)
    result = add_indicators(shuffled, [indicator("sma", period=10), indicator("ema", period=5)])
    assert result.select(shuffled.columns).equals(shuffled)
    for symbol in ("AAA", "BBB"):
        own = result.filter(pl.col("symbol") == symbol).sort("ts")
        expected = sma(bars.filter(pl.col("symbol") == symbol)["close"].to_numpy(), 10)
        assert_same_numbers(own["sma_10"].fill_null(np.nan).to_numpy(), expected)
        assert own["sma_10"].null_count() == 9


def test_names_follow_parameters_or_alias_and_clashes_are_refused():
    bars = _bars({"AAA": 30})
    result = add_indicators(bars, ["sma", indicator("sma", period=5, alias="fast")])
    assert result.columns[-2:] == ["sma_30", "fast"]
    with pytest.raises(SchemaError, match="sma_30"):
        add_indicators(bars, ["sma", "sma"])
    with pytest.raises(SchemaError, match="close"):
        add_indicators(bars.drop("close"), ["sma"])


def test_unknown_indicators_and_parameters_are_config_errors():
    with pytest.raises(ConfigError, match="unknown indicator 'smaa'"):
        indicator("smaa")
    with pytest.raises(ConfigError, match="perod"):
        indicator("sma", perod=3)


def test_registry_answers_for_every_indicator():
    names = indicator_names()
    assert names == tuple(sorted(names))
    bars = make_ohlcv(400, seed=1)
    for name in names:
        item = definition(name)
        assert item.name == name
        assert lookback(name) >= 0
        assert warmup_bars(name) >= lookback(name)
        assert set(item.inputs) <= {"open", "high", "low", "close", "volume", "ts"}
        arrays = [
            _minutes(400) if column == "ts" else getattr(bars, column) for column in item.inputs
        ]
        outputs = item.batch(*arrays)
        first = outputs[0] if len(item.outputs) > 1 else outputs
        assert np.isnan(np.asarray(first, dtype=np.float64)[: lookback(name)]).all(), name


def _minutes(size: int) -> np.ndarray:
    return (np.datetime64("2024-01-01T00:00", "m") + np.arange(size)).astype("datetime64[ns]")
