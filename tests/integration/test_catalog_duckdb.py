"""DuckDB reads the catalog's files (hive partitioning) and sees exactly what Catalog.read sees."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantstrata.data.catalog import Catalog
from quantstrata.model.bar import TIMESTAMP_DTYPE
from tests.kit.frames import minute_range, random_walk_bars, utc

SYMBOLS = ("BTC/USDT", "AAPL.US", "100% x", "SPX")


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(tmp_path)
    for index, name in enumerate(SYMBOLS):
        daily = random_walk_bars(minute_range(utc(2018, 6, 1), 900, 24 * 60), name, seed=index)
        minutes = random_walk_bars(minute_range(utc(2024, 1, 31, 22), 300), name, seed=index)
        catalog.write(daily, interval="1d")
        catalog.write(minutes.with_columns(adj_close=pl.col("close") * 0.5), interval="1m")
    return catalog


def _duckdb(sql: str) -> pl.DataFrame:
    with duckdb.connect() as connection:
        frame = connection.sql(sql).pl()
    return frame.with_columns(pl.col("ts").cast(TIMESTAMP_DTYPE))


@pytest.mark.parametrize("interval", ["1d", "1m"])
def test_duckdb_returns_the_same_rows_as_catalog_read(catalog: Catalog, interval: str) -> None:
    expected = catalog.read(interval=interval)
    columns = ", ".join(expected.columns)

    found = _duckdb(
        f"SELECT {columns} FROM read_parquet('{catalog.root}/interval={interval}/*/*.parquet', "
        "hive_partitioning=true) ORDER BY symbol, ts"
    )

    assert found.height == 4 * (900 if interval == "1d" else 300)
    assert_frame_equal(found, expected)


def test_duckdb_sees_the_partition_columns_once(catalog: Catalog) -> None:
    with duckdb.connect() as connection:
        described = connection.sql(
            f"DESCRIBE SELECT * FROM read_parquet('{catalog.root}/*/*/*.parquet', "
            "hive_partitioning=true, union_by_name=true)"
        ).fetchall()
    names = [row[0] for row in described]
    assert sorted(names) == sorted(
        ["ts", "open", "high", "low", "close", "volume", "adj_close", "interval", "symbol"]
    )


def test_duckdb_filters_on_the_decoded_symbol(catalog: Catalog) -> None:
    found = _duckdb(
        f"SELECT ts, symbol, close FROM read_parquet('{catalog.root}/interval=1d/*/*.parquet', "
        "hive_partitioning=true) WHERE symbol = 'BTC/USDT' "
        "AND ts >= CAST('2019-01-01 00:00:00+00' AS TIMESTAMPTZ_NS) "
        "ORDER BY ts"
    )
    expected = catalog.read("BTC/USDT", interval="1d", start="2019-01-01", columns=["close"])
    assert_frame_equal(found, expected)
