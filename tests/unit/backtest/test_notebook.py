"""A backtest result in a notebook: the HTML card and the Plotly figures."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest

from quantstrata.analytics._format import format_metric
from quantstrata.analytics._html import sparkline_indices
from quantstrata.backtest import Backtest, BacktestResult
from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret
from quantstrata.data import load_sample
from quantstrata.strategy.examples import SmaCrossover
from tests.kit.notebook_html import read_html


@pytest.fixture(scope="module")
def result() -> BacktestResult:
    return Backtest(load_sample("SPX_1d"), SmaCrossover(fast=10, slow=30)).run()


@pytest.fixture(scope="module")
def short_result() -> BacktestResult:
    return Backtest(load_sample("SPX_1d").head(150), SmaCrossover(fast=5, slow=20)).run()


def test_card_shows_every_metric_of_the_result(result: BacktestResult) -> None:
    page = read_html(result._repr_html_())

    expected = {
        name: format_metric(name, value) for name, value in result.metrics.to_dict().items()
    }
    assert page.metrics == expected
    assert page.metrics["total_return"] == f"{result.metrics.total_return * 100:.2f} %"


def test_card_summarises_the_run(result: BacktestResult) -> None:
    page = read_html(result._repr_html_())

    summary = {row[0]: row[1] for row in page.tables["result-summary"]}
    assert summary["Final equity"] == f"{result.final_equity:,.2f}"
    assert summary["Symbols"] == "SPX"
    assert summary["Orders / fills / trades"] == (
        f"{result.orders.height} / {result.fills.height} / {result.trades.height}"
    )
    assert "SmaCrossover(fast=10, slow=30" in "".join(page.text)


def test_sparkline_has_one_point_per_equity_sample_when_short(
    short_result: BacktestResult,
) -> None:
    (points,) = read_html(short_result._repr_html_()).sparklines

    assert len(points) == short_result.equity.height == 150


def test_sparkline_of_a_long_run_is_the_documented_downsample(result: BacktestResult) -> None:
    (points,) = read_html(result._repr_html_()).sparklines

    assert result.equity.height > len(points) == sparkline_indices(result.equity.height).size


def test_record_text_is_escaped_and_credentials_masked(result: BacktestResult) -> None:
    record = replace(
        result.record,
        strategy="pkg.<script>Evil</script>",
        parameters={"label": "<b>bold</b>", "api_key": Secret("sekret-value-123")},
    )
    page = read_html(replace(result, record=record)._repr_html_())
    text = "".join(page.text)

    assert "<script>Evil</script>" in text
    assert "<b>bold</b>" in text
    assert "script" not in page.tags
    assert "b" not in page.tags
    assert (
        "sekret-value-123"
        not in result._repr_html_() + replace(result, record=record)._repr_html_()
    )


def test_plot_equity_has_the_equity_and_drawdown_traces(result: BacktestResult) -> None:
    figure = result.plot()

    assert [trace.name for trace in figure.data] == ["equity", "drawdown"]
    assert figure.data[0].y[-1] == pytest.approx(result.final_equity)
    assert "SmaCrossover" in figure.layout.title.text


def test_plot_price_marks_every_trade(short_result: BacktestResult) -> None:
    figure = short_result.plot("price")

    names = [trace.name for trace in figure.data]
    assert names == ["SPX", "entries ▲", "exits ▼"]
    assert figure.data[0].type == "candlestick"
    assert len(figure.data[1].x) == short_result.trades.height


def test_plot_monthly_is_a_heatmap(result: BacktestResult) -> None:
    figure = result.plot("monthly")

    assert figure.data[0].type == "heatmap"
    years = result.equity["ts"].dt.year().unique().len()
    assert len(figure.data[0].y) == years


def test_plot_rejects_unknown_symbols_and_kinds(result: BacktestResult) -> None:
    with pytest.raises(ConfigError, match="NOPE"):
        result.plot("price", symbol="NOPE")
    with pytest.raises(ConfigError, match="kind"):
        result.plot("candles")  # type: ignore[arg-type]


def test_card_needs_no_trades_or_fills(result: BacktestResult) -> None:
    # The card reads the equity curve, the counts and the metrics: no trade rows are needed.
    trimmed = replace(result, trades=result.trades.head(0), fills=pl.DataFrame())
    assert read_html(trimmed._repr_html_()).metrics
