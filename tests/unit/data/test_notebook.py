"""The catalog and bar frames in a notebook: HTML cards and Plotly figures."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from quantstrata.core.errors import ConfigError, SchemaError
from quantstrata.data import BarFrame, Catalog, load_sample
from quantstrata.data._notebook import SHOWN_SYMBOLS
from tests.kit.notebook_html import read_html


@pytest.fixture(scope="module")
def two_symbols() -> pl.DataFrame:
    return pl.concat([load_sample("SPX_1d").head(120), load_sample("IXIC_1d").head(80)])


def test_bar_frame_card_lists_each_symbol_with_a_close_sparkline(two_symbols: pl.DataFrame) -> None:
    view = BarFrame(two_symbols)
    page = read_html(view._repr_html_())

    rows = page.tables["symbols"]
    assert [row[0] for row in rows[1:]] == ["SPX", "IXIC"]
    assert [row[1] for row in rows[1:]] == ["120", "80"]
    assert [len(points) for points in page.sparklines] == [120, 80]
    assert "2 symbols, 1d" in "".join(page.text)
    assert view.frame is two_symbols


def test_bar_frame_caps_the_symbols_listed() -> None:
    base = load_sample("SPX_1d").head(5)
    many = pl.concat(
        base.with_columns(symbol=pl.lit(f"S{number:02d}")) for number in range(SHOWN_SYMBOLS + 3)
    )

    rows = read_html(BarFrame(many)._repr_html_()).tables["symbols"]

    assert len(rows) == 1 + SHOWN_SYMBOLS + 1
    assert "3 more symbols" in rows[-1][0]


def test_bar_frame_plot_draws_candlesticks_or_close_lines(two_symbols: pl.DataFrame) -> None:
    view = BarFrame(two_symbols)

    (candles,) = view.plot("IXIC").data
    lines = view.plot().data

    assert candles.type == "candlestick"
    assert len(candles.x) == 80
    assert [trace.name for trace in lines] == ["SPX close", "IXIC close"]
    with pytest.raises(ConfigError, match="MSFT"):
        view.plot("MSFT")


def test_bar_frame_refuses_frames_that_are_not_bars() -> None:
    with pytest.raises(SchemaError, match="close"):
        BarFrame(pl.DataFrame({"ts": [1], "symbol": ["X"]}))


def test_catalog_card_lists_what_is_stored_and_escapes_the_root(tmp_path: Path) -> None:
    root = tmp_path / "<b>bars</b>"
    catalog = Catalog(root)
    empty = read_html(catalog._repr_html_())
    catalog.write(load_sample("SPX_1d").head(300), interval="1d")
    catalog.write(load_sample("IXIC_1d").head(200), interval="1d")

    page = read_html(catalog._repr_html_())

    assert "Catalog (empty)" in "".join(empty.text)
    rows = page.tables["catalog"]
    assert [row[:3] for row in rows[1:]] == [["1d", "IXIC", "200"], ["1d", "SPX", "300"]]
    assert "b" not in page.tags
    assert str(root) in "".join(page.text)


def test_catalog_plot_has_one_coverage_bar_per_series(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    catalog.write(load_sample("SPX_1d").head(300), interval="1d")
    catalog.write(load_sample("IXIC_1d").head(200), interval="1d")

    (bars,) = catalog.plot().data

    assert list(bars.y) == ["IXIC 1d", "SPX 1d"]
    assert list(bars.text) == ["200 bars", "300 bars"]
