"""The HTML backtest report: structure, figures against independent numbers, safety, bytes."""

from __future__ import annotations

import json
import math
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.analytics import PerformanceMetrics
from quantstrata.backtest._report_data import minmax_indices
from quantstrata.backtest._report_tables import trades_html
from quantstrata.backtest.report import ReportConfig, render_report, write_report
from quantstrata.core.errors import DataError, SchemaError
from quantstrata.core.secrets import Secret
from tests.kit.backtest_results import (
    FakeResult,
    build_result,
    default_trades,
    many_trades,
    spx_bars,
    two_symbol_bars,
)

VOID_ELEMENTS = frozenset({"meta", "link", "br", "hr", "img", "input", "col", "source", "wbr"})


class ReportParser(HTMLParser):
    """Collect what the tests look at, and check that elements nest properly."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.figures: dict[str, dict[str, Any]] = {}
        self.scripts: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.row_attributes: dict[str, list[dict[str, str | None]]] = {}
        self._figure: str | None = None
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag not in VOID_ELEMENTS:
            self.stack.append(tag)
        if tag == "script":
            self._figure = attributes.get("data-plotly-figure")
            self._text = []
        elif tag == "table":
            self._table = attributes.get("id") or ""
            self.tables[self._table] = []
            self.row_attributes[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
            self.row_attributes[self._table].append(attributes)
        elif tag in {"td", "th"} and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()
        if tag == "script":
            text = "".join(self._text)
            self.scripts.append(text)
            if self._figure is not None:
                self.figures[self._figure] = json.loads(text)
            self._figure = None
        elif tag == "table":
            self._table = None
        elif tag in {"td", "th"} and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        self._text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def ids(self) -> set[str]:
        return {str(attributes["id"]) for _, attributes in self.tags if attributes.get("id")}


def parse(text: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(text)
    parser.close()
    assert parser.problems == []
    assert parser.stack == []
    return parser


@pytest.fixture(scope="module")
def result() -> FakeResult:
    return build_result()


@pytest.fixture(scope="module")
def two_symbol_result() -> FakeResult:
    trades = default_trades("SPX")[:3] + default_trades("IXIC")[2:]
    return build_result(two_symbol_bars(), trades)


@pytest.fixture(scope="module")
def page(result: FakeResult) -> ReportParser:
    return parse(render_report(result))


@pytest.fixture(scope="module")
def two_symbol_page(two_symbol_result: FakeResult) -> ReportParser:
    return parse(render_report(two_symbol_result))


def labels(series: pl.Series) -> list[str]:
    """Format timestamps independently of the report code, through pandas."""
    return [stamp.strftime("%Y-%m-%d %H:%M:%S") for stamp in series.to_pandas()]


def trace(figure: dict[str, Any], name: str) -> dict[str, Any]:
    matches = [item for item in figure["data"] if item.get("name") == name]
    assert len(matches) == 1, [item.get("name") for item in figure["data"]]
    return matches[0]


def test_write_report_writes_the_page_and_returns_its_path(
    result: FakeResult, tmp_path: Path
) -> None:
    target = tmp_path / "nested" / "report.html"

    written = write_report(result, str(target))

    assert written == target
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert text == render_report(result)
    assert [path.name for path in target.parent.iterdir()] == ["report.html"]


def test_write_report_replaces_a_file_and_keeps_it_when_rendering_fails(
    result: FakeResult, tmp_path: Path
) -> None:
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")
    write_report(result, target)
    before = target.read_bytes()
    broken = replace(result, equity=result.equity.drop("equity"))

    with pytest.raises(SchemaError):
        write_report(broken, target)

    assert target.read_bytes() == before
    assert [path.name for path in tmp_path.iterdir()] == ["report.html"]


def test_page_has_every_section_and_a_div_for_every_figure(page: ReportParser) -> None:
    expected = {"report-header", "metrics", "equity", "prices", "monthly-returns", "trades"}
    assert expected <= page.ids()
    assert set(page.figures) == {"equity-chart", "price-chart-1", "monthly-returns-chart"}
    assert set(page.figures) <= page.ids()
    assert {"run-summary", "parameters", "configuration", "metrics-table", "trades-table"} <= set(
        page.tables
    )


def test_header_shows_the_run_record(result: FakeResult, page: ReportParser) -> None:
    summary = dict(page.tables["run-summary"])
    record = result.record

    assert summary["Strategy"] == record.strategy
    assert summary["Data fingerprint"] == record.data_fingerprint
    assert summary["Fill policy"] == record.fill_policy
    assert summary["Package version"] == record.package_version
    assert summary["Run started"] == "2026-01-02 03:04:05 UTC"
    first, last = result.equity["ts"][0], result.equity["ts"][-1]
    assert summary["Period"].startswith(f"{first:%Y-%m-%d %H:%M:%S} UTC → {last:%Y-%m-%d}")
    assert summary["Fills"].startswith(f"{result.fills.height} fills")
    assert dict(page.tables["parameters"]) == {"fast": "10", "slow": "50"}


def test_one_price_chart_per_symbol_with_a_marker_for_every_trade(
    two_symbol_result: FakeResult, two_symbol_page: ReportParser
) -> None:
    for number, symbol in enumerate(("IXIC", "SPX"), start=1):
        figure = two_symbol_page.figures[f"price-chart-{number}"]
        trades = two_symbol_result.trades.filter(pl.col("symbol") == symbol).sort("entry_ts")
        assert symbol in figure["layout"]["title"]["text"]
        entries, exits = trace(figure, "entries ▲"), trace(figure, "exits ▼")

        assert entries["marker"]["symbol"] == "triangle-up"
        assert exits["marker"]["symbol"] == "triangle-down"
        assert entries["x"] == labels(trades["entry_ts"])
        assert entries["y"] == trades["entry_price"].to_list()
        assert exits["x"] == labels(trades["exit_ts"])
        assert exits["y"] == trades["exit_price"].to_list()
        for row, entry_text, exit_text in zip(
            trades.iter_rows(named=True), entries["text"], exits["text"], strict=True
        ):
            for text in (entry_text, exit_text):
                assert f"quantity {row['quantity']:g}" in text
                assert f"{row['pnl']:+,.2f}" in text
            assert f"price {row['entry_price']:,.6g}" in entry_text
            assert f"price {row['exit_price']:,.6g}" in exit_text


def test_short_histories_are_candlesticks(result: FakeResult, page: ReportParser) -> None:
    candles = page.figures["price-chart-1"]["data"][0]

    assert candles["type"] == "candlestick"
    assert candles["x"] == labels(result.bars["ts"])
    assert candles["close"] == result.bars["close"].to_list()
    assert candles["high"] == result.bars["high"].to_list()


def test_long_histories_become_a_thinned_close_line_keeping_the_extremes(
    result: FakeResult,
) -> None:
    limits = ReportConfig(candlestick_limit=100, max_points=60)
    close = result.bars["close"]

    line = parse(render_report(result, config=limits)).figures["price-chart-1"]["data"][0]

    assert line["type"] == "scatter"
    assert line["mode"] == "lines"
    assert 2 < len(line["y"]) <= 62
    assert line["x"] == sorted(line["x"])
    assert {close.min(), close.max(), close[0], close[-1]} <= set(line["y"])
    pairs = dict(zip(labels(result.bars["ts"]), close.to_list(), strict=True))
    assert all(pairs[x] == y for x, y in zip(line["x"], line["y"], strict=True))


def test_equity_and_underwater_curves_share_the_time_axis(
    result: FakeResult, page: ReportParser
) -> None:
    figure = page.figures["equity-chart"]
    equity, drawdown = trace(figure, "equity"), trace(figure, "drawdown")
    curve = result.equity.to_pandas().set_index("ts")["equity"]
    expected_depth = (curve / curve.cummax() - 1.0) * 100.0

    assert equity["x"] == labels(result.equity["ts"])
    assert equity["y"] == curve.tolist()
    assert drawdown["x"] == equity["x"]
    np.testing.assert_allclose(drawdown["y"], expected_depth.to_numpy(), atol=1e-9)
    assert min(drawdown["y"]) == pytest.approx(-100.0 * result.metrics.max_drawdown)
    assert (equity["xaxis"], drawdown["xaxis"]) == ("x", "x2")
    assert figure["layout"]["xaxis"]["matches"] == "x2"


def test_monthly_heatmap_equals_pandas_month_end_returns(
    result: FakeResult, page: ReportParser
) -> None:
    heatmap = page.figures["monthly-returns-chart"]["data"][0]
    curve = result.equity.to_pandas().set_index("ts")["equity"]
    month_end = curve.resample("ME").last()
    previous = month_end.shift(1).fillna(curve.iloc[0])
    expected = ((month_end / previous - 1.0) * 100.0).dropna()

    assert heatmap["type"] == "heatmap"
    assert heatmap["x"][0] == "Jan"
    assert len(heatmap["x"]) == 12
    shown = {
        (int(year), month): value
        for year, row in zip(heatmap["y"], heatmap["z"], strict=True)
        for month, value in enumerate(row, start=1)
        if value is not None
    }
    assert set(shown) == {(stamp.year, stamp.month) for stamp in expected.index}
    for stamp, value in expected.items():
        assert shown[stamp.year, stamp.month] == pytest.approx(value, abs=1e-9)


def test_metrics_table_lists_every_performance_metric_formatted(
    result: FakeResult, page: ReportParser
) -> None:
    names = [attributes.get("data-metric") for attributes in page.row_attributes["metrics-table"]]
    shown = dict(page.tables["metrics-table"])
    metrics = result.metrics

    assert names == [field.name for field in fields(PerformanceMetrics)]
    assert shown["Total return"] == f"{metrics.total_return * 100:.2f} %"
    assert shown["Max drawdown"] == f"{metrics.max_drawdown * 100:.2f} %"
    assert shown["Sharpe ratio"] == f"{metrics.sharpe:.2f}"
    assert shown["Duration"] == f"{metrics.duration.days:,} days"
    assert shown["Trades"] == str(metrics.trades)


def test_metrics_table_shows_undefined_values_as_not_available(result: FakeResult) -> None:
    flat = build_result(spx_bars(), [])
    assert flat.metrics.trades == 0

    shown = dict(parse(render_report(flat)).tables["metrics-table"])

    assert shown["Win rate"] == "n/a"
    assert math.isnan(flat.metrics.win_rate)


def test_trades_table_lists_every_trade_when_few(result: FakeResult, page: ReportParser) -> None:
    rows = page.tables["trades-table"][1:]

    assert len(rows) == result.trades.height
    for row, trade in zip(rows, result.trades.iter_rows(named=True), strict=True):
        assert row[1:4] == [
            trade["symbol"],
            trade["direction"],
            f"{trade['entry_ts']:%Y-%m-%d}",  # daily bars: every time is midnight, dates suffice
        ]
        assert row[8] == f"{trade['pnl']:+,.2f}"


def test_trades_table_shows_first_and_last_rows_when_many() -> None:
    bars = spx_bars()
    many = build_result(bars, many_trades("SPX", 60, bars.height - 2))

    page = parse(render_report(many, config=ReportConfig(trade_rows=5)))

    indices = [attributes.get("data-trade") for attributes in page.row_attributes["trades-table"]]
    shown = [int(index) for index in indices if index is not None]
    assert shown == [0, 1, 2, 3, 4, 55, 56, 57, 58, 59]
    assert any("50 trades not shown" in " ".join(row) for row in page.tables["trades-table"])
    markers = trace(page.figures["price-chart-1"], "entries ▲")
    assert len(markers["x"]) == 60


def test_page_is_self_contained(page: ReportParser, result: FakeResult) -> None:
    text = render_report(result)
    references = [
        (tag, value)
        for tag, attributes in page.tags
        for name, value in attributes.items()
        if name in {"src", "href", "srcset", "action", "data"}
    ]

    assert all(not (value or "").startswith(("http:", "https:", "//")) for _, value in references)
    assert [tag for tag, _ in page.tags if tag in {"link", "iframe", "img"}] == []
    assert all("src" not in attributes for tag, attributes in page.tags if tag == "script")
    assert text.count("* plotly.js v") == 1
    assert sum(len(script) > 1_000_000 for script in page.scripts) == 1


def test_same_result_gives_the_same_bytes(tmp_path: Path) -> None:
    first = write_report(build_result(), tmp_path / "first.html")
    second = write_report(build_result(), tmp_path / "second.html")

    assert first.read_bytes() == second.read_bytes()


def test_secrets_in_the_record_never_reach_the_page() -> None:
    secrets = ["sk-live-4f9a8b7c6d5e", "tok-0123456789abcdef", "hunter2-password", "wrapped-key"]
    config = {
        "initial_cash": 50_000.0,
        "api_key": secrets[0],
        "broker": {
            "name": "paper",
            "token": secrets[1],
            "url": f"https://x.test/?apikey={secrets[0]}",
        },
        "accounts": [{"id": "main", "password": secrets[2]}],
        "signing": Secret(secrets[3]),
        "note": f"copied {secrets[1]} by mistake",
        "instruments": {},
    }
    leaky = build_result(config=config, parameters={"fast": 5, "api_secret": secrets[0]})

    text = render_report(leaky)

    assert all(secret not in text for secret in secrets)
    shown = dict(parse(text).tables["configuration"])
    assert shown["initial_cash"] == "50000.0"
    assert shown["broker.name"] == "paper"
    assert shown["accounts[0].id"] == "main"
    assert shown["instruments"] == "{}"
    assert shown["signing"] == "***"
    assert "api_key" not in shown
    assert "credential-like field(s) not shown" in text


def test_missing_columns_are_named() -> None:
    result = build_result()
    broken = replace(result, trades=result.trades.drop("exit_price", "pnl"))

    with pytest.raises(SchemaError) as caught:
        render_report(broken)

    assert {issue.column for issue in caught.value.issues} == {"exit_price", "pnl"}


def test_trades_on_symbols_without_bars_are_refused(result: FakeResult) -> None:
    stray = result.trades.with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit("AAPL"))
        .otherwise("symbol")
        .alias("symbol")
    )

    with pytest.raises(DataError) as caught:
        render_report(replace(result, trades=stray))

    assert [(issue.row, issue.value) for issue in caught.value.issues] == [(2, "AAPL")]


def test_non_positive_equity_is_refused(result: FakeResult) -> None:
    broken = result.equity.with_columns(
        pl.when(pl.int_range(pl.len()) == 7).then(0.0).otherwise("equity").alias("equity")
    )

    with pytest.raises(DataError) as caught:
        render_report(replace(result, equity=broken))

    assert [issue.row for issue in caught.value.issues] == [7]


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=400
    ),
    max_points=st.integers(min_value=2, max_value=120),
)
def test_minmax_thinning_keeps_every_bucket_extreme(values: list[float], max_points: int) -> None:
    array = np.asarray(values, dtype=np.float64)

    kept = minmax_indices(array, max_points)

    assert kept.tolist() == sorted(set(kept.tolist()))
    if len(values) <= max_points:
        assert kept.tolist() == list(range(len(values)))
        return
    assert len(kept) <= max_points + 2
    assert {0, len(values) - 1} <= set(kept.tolist())
    chosen = array[kept]
    assert chosen.min() == array.min()
    assert chosen.max() == array.max()


def test_monthly_returns_skip_months_without_equity() -> None:
    times = [datetime(2024, 1, 31, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)]
    curve = pd.Series([100.0, 110.0], index=pd.DatetimeIndex(times))
    bars = pl.DataFrame(
        {
            "ts": times,
            "symbol": ["X", "X"],
            "open": [1.0, 1.0],
            "high": [1.0, 1.0],
            "low": [1.0, 1.0],
            "close": [1.0, 1.0],
            "volume": [0.0, 0.0],
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    result = build_result(bars, [])
    equity = pl.from_pandas(curve.rename("equity").rename_axis("ts").reset_index())
    result = replace(result, equity=equity)

    heatmap = parse(render_report(result)).figures["monthly-returns-chart"]["data"][0]

    assert heatmap["y"] == ["2024"]
    assert heatmap["z"][0][:3] == [0.0, None, pytest.approx(10.0)]


def test_trades_table_keeps_the_time_of_day_for_intraday_trades() -> None:
    start = datetime(2024, 1, 2, 9, 30, tzinfo=UTC)
    trades = pl.DataFrame(
        {
            "symbol": ["X"],
            "entry_ts": [start],
            "exit_ts": [start + timedelta(hours=1)],
        }
    ).with_columns(pl.col("entry_ts", "exit_ts").cast(pl.Datetime("ns", "UTC")))

    page = parse(trades_html(trades, rows=5))

    assert page.tables["trades-table"][1][2:] == ["2024-01-02 09:30:00", "2024-01-02 10:30:00"]


def test_a_large_universe_charts_only_its_most_traded_symbols(
    two_symbol_result: FakeResult,
) -> None:
    counts = two_symbol_result.trades.group_by("symbol").len().sort("len", "symbol")
    most_traded = counts.sort(["len", "symbol"], descending=[True, False])["symbol"][0]
    text = render_report(two_symbol_result, config=ReportConfig(price_charts=1))
    page = parse(text)
    charts = [name for name in page.figures if name.startswith("price-chart-")]
    assert charts == ["price-chart-1"]
    assert most_traded in page.figures["price-chart-1"]["layout"]["title"]["text"]
    assert "Price charts of the 1 most traded of 2 symbols." in text
