"""The backtest report opened in a real browser: it renders, logs no error, fetches nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantstrata.backtest import Backtest
from quantstrata.data import BarFrame, Catalog, load_sample
from quantstrata.strategy.examples import SmaCrossover
from tests.kit.browser import open_page, screenshot_dir


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bars = load_sample("SPX_1d")
    result = Backtest(bars, SmaCrossover(fast=20, slow=50)).run()
    return result.to_html(tmp_path_factory.mktemp("report") / "report.html")


def test_report_renders_every_chart_without_errors_or_outside_requests(report: Path) -> None:
    url = report.as_uri()
    with open_page(url) as record:
        page = record.page
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
        charts = page.locator(".js-plotly-plot")
        assert charts.count() >= 3
        for index in range(charts.count()):
            assert charts.nth(index).locator(".main-svg").count() >= 1
        assert page.locator("table").count() >= 1
        body = page.inner_text("body")
        assert "Sharpe" in body
        assert "SPX" in body
        page.screenshot(path=str(screenshot_dir() / "report.png"), full_page=True)
    assert record.console_errors == []
    assert record.page_errors == []
    outside = [address for address in record.requests if not address.startswith("file://")]
    assert outside == []
    assert record.requests[0] == url


def test_notebook_cards_render_offline_with_their_sparklines(tmp_path: Path) -> None:
    bars = load_sample("SPX_1d")
    result = Backtest(bars, SmaCrossover(fast=20, slow=50)).run()
    catalog = Catalog(tmp_path / "catalog")
    catalog.write(bars, interval="1d")
    cards = [
        ("BacktestResult", result._repr_html_()),
        ("BarFrame", BarFrame(bars)._repr_html_()),
        ("Catalog", catalog._repr_html_()),
    ]
    body = "".join(f"<h2>{name}</h2>{card}" for name, card in cards)
    page_file = tmp_path / "notebook.html"
    page_file.write_text(
        f'<!doctype html><html><head><meta charset="utf-8"></head><body>{body}</body></html>',
        encoding="utf-8",
    )

    with open_page(page_file.as_uri(), width=1200) as record:
        page = record.page
        lines = page.locator("svg.quantstrata-sparkline polyline")
        assert lines.count() == 2  # the result's equity and the one symbol's close
        for index in range(lines.count()):
            box = lines.nth(index).bounding_box()
            assert box is not None
            assert box["width"] > 100
        assert page.locator("table.quantstrata-metrics tr").count() == len(result.metrics.to_dict())
        page.screenshot(path=str(screenshot_dir() / "notebook.png"), full_page=True)
    assert record.console_errors == []
    assert record.page_errors == []
    assert record.requests == [page_file.as_uri()]
