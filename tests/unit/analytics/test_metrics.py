"""compute_metrics on small curves checked by hand, and its inputs, outputs and edge cases."""

from __future__ import annotations

import doctest
import math
import statistics
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import polars as pl
import pytest

from quantstrata.analytics import (
    MetricsConfig,
    PerformanceMetrics,
    compute_metrics,
    trade_statistics,
)
from quantstrata.analytics import metrics as metrics_module
from quantstrata.analytics.metrics import resolve_periods_per_year
from quantstrata.core.errors import ConfigError, DataError, SchemaError
from quantstrata.process.calendar import expected_bar_opens
from tests.kit.analytics import START, daily_times, equity_frame, spx_equity

CURVE = [100.0, 110.0, 99.0, 121.0]
RETURNS = [0.1, -0.1, 121 / 99 - 1]


def test_return_metrics_by_hand_on_a_24_7_daily_curve() -> None:
    result = compute_metrics(equity_frame(CURVE), interval="1d")

    periods = 365
    mean, spread = statistics.mean(RETURNS), statistics.stdev(RETURNS)
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in RETURNS) / len(RETURNS))
    growth = 1.21 ** (periods / 3) - 1
    assert result.periods_per_year == periods
    assert result.total_return == pytest.approx(0.21, rel=1e-14)
    assert result.cagr == pytest.approx(growth, rel=1e-12)
    assert result.annual_volatility == pytest.approx(spread * math.sqrt(periods), rel=1e-12)
    assert result.sharpe == pytest.approx(mean / spread * math.sqrt(periods), rel=1e-12)
    assert result.sortino == pytest.approx(mean / downside * math.sqrt(periods), rel=1e-12)
    assert result.max_drawdown == pytest.approx(0.1, rel=1e-14)
    assert result.calmar == pytest.approx(growth / 0.1, rel=1e-12)
    assert result.max_drawdown_duration_bars == 2
    assert result.max_drawdown_duration == timedelta(days=2)
    assert (result.start, result.end, result.duration) == (
        START,
        START + timedelta(days=3),
        timedelta(days=3),
    )
    assert result.bars == 4


def test_risk_free_rate_is_compounded_down_to_a_bar() -> None:
    config = MetricsConfig(risk_free_rate=0.05, periods_per_year=365)

    result = compute_metrics(equity_frame(CURVE), config=config)

    per_bar = 1.05 ** (1 / 365) - 1
    excess = [r - per_bar for r in RETURNS]
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in excess) / len(excess))
    expected_sharpe = statistics.mean(excess) / statistics.stdev(excess) * math.sqrt(365)
    assert result.sharpe == pytest.approx(expected_sharpe, rel=1e-12)
    assert result.sortino == pytest.approx(
        statistics.mean(excess) / downside * math.sqrt(365), rel=1e-12
    )
    # The risk-free rate does not touch growth, volatility or drawdown.
    plain = compute_metrics(equity_frame(CURVE), config=MetricsConfig(periods_per_year=365))
    assert (result.cagr, result.annual_volatility, result.calmar) == (
        plain.cagr,
        plain.annual_volatility,
        plain.calmar,
    )


def test_minimum_acceptable_return_replaces_the_risk_free_rate_in_sortino() -> None:
    config = MetricsConfig(risk_free_rate=0.05, minimum_acceptable_return=0.0, periods_per_year=365)

    result = compute_metrics(equity_frame(CURVE), config=config)

    plain = compute_metrics(equity_frame(CURVE), config=MetricsConfig(periods_per_year=365))
    assert result.sortino == plain.sortino
    assert result.sharpe != plain.sharpe


def test_periods_per_year_resolution_order() -> None:
    spx = spx_equity()

    assert resolve_periods_per_year(spx, MetricsConfig(periods_per_year=250), "1d") == 250
    assert resolve_periods_per_year(spx, MetricsConfig(), "1d") == 365  # interval, 24/7
    with_calendar = MetricsConfig(calendar="XNYS")
    nyse = resolve_periods_per_year(spx, with_calendar, "1d")
    assert 250 < nyse < 253
    assert resolve_periods_per_year(spx, with_calendar, None) == nyse  # interval inferred
    assert resolve_periods_per_year(spx, MetricsConfig(), None) == 252  # all inferred
    assert math.isnan(resolve_periods_per_year(equity_frame([1.0]), MetricsConfig(), None))


def test_intraday_nyse_curve_annualises_with_the_calendar() -> None:
    ts = expected_bar_opens("XNYS", "1m", "2024-03-04", "2024-03-08")
    curve = pl.DataFrame({"ts": ts, "equity": [100.0 + (i % 7) for i in range(ts.len())]})

    inferred = compute_metrics(curve)
    with_calendar = compute_metrics(curve, config=MetricsConfig(calendar="XNYS"))

    assert inferred.periods_per_year == 252 * 390
    assert with_calendar.periods_per_year == pytest.approx(252 * 390, rel=0.01)
    ratio = math.sqrt(with_calendar.periods_per_year / inferred.periods_per_year)
    assert with_calendar.sharpe == pytest.approx(inferred.sharpe * ratio, rel=1e-12)


def test_pandas_series_gives_the_same_metrics() -> None:
    frame = spx_equity()
    series = frame.to_pandas().set_index("ts")["equity"]

    assert compute_metrics(series) == compute_metrics(frame)


def test_trades_fill_the_trade_fields() -> None:
    trades = pl.DataFrame({"pnl": [10.0, -4.0, 6.0], "return": [0.1, -0.04, 0.06]})

    result = compute_metrics(
        equity_frame(CURVE), trades=trades, config=MetricsConfig(sqn_trade_cap=2)
    )

    expected = trade_statistics(trades, sqn_trade_cap=2)
    assert result.trades == 3
    for name in (
        "win_rate",
        "profit_factor",
        "expectancy",
        "average_trade",
        "best_trade",
        "worst_trade",
        "sqn",
    ):
        assert getattr(result, name) == getattr(expected, name), name


def test_without_trades_or_positions_those_fields_are_unknown() -> None:
    result = compute_metrics(equity_frame(CURVE))

    assert result.trades is None
    assert result.average_holding_time is None
    for name in ("win_rate", "profit_factor", "sqn", "exposure", "turnover"):
        assert math.isnan(getattr(result, name)), name


def test_exposure_from_sparse_position_changes() -> None:
    times = daily_times(10)
    positions = pl.DataFrame({"ts": [times[2], times[5], times[8]], "position": [3.0, 0.0, -1.0]})

    result = compute_metrics(equity_frame([100.0] * 10, times), positions=positions)

    # Held on bars 2, 3, 4 and 8, 9: five of ten.
    assert result.exposure == 0.5


def test_exposure_counts_a_bar_when_any_symbol_is_held() -> None:
    times = daily_times(6)
    positions = pl.DataFrame(
        {
            "ts": [times[0], times[2], times[1], times[4]],
            "symbol": ["A", "A", "B", "B"],
            "position": [1.0, 0.0, 2.0, 0.0],
        }
    )

    result = compute_metrics(equity_frame([100.0] * 6, times), positions=positions)

    # A held on bars 0-1, B on bars 1-3: bars 0..3 are invested.
    assert result.exposure == pytest.approx(4 / 6)


def test_exposure_from_a_pandas_series() -> None:
    times = daily_times(4)
    positions = pd.Series([0.0, 1.0, 1.0, 0.0], index=pd.DatetimeIndex(times))

    assert compute_metrics(equity_frame(CURVE, times), positions=positions).exposure == 0.5


def test_turnover_from_trade_legs_is_annualised_over_mean_equity() -> None:
    trades = pl.DataFrame(
        {
            "pnl": [10.0],
            "return": [0.1],
            "size": [-2.0],
            "entry_price": [50.0],
            "exit_price": [55.0],
        }
    )
    config = MetricsConfig(periods_per_year=365)

    result = compute_metrics(equity_frame(CURVE), trades=trades, config=config)

    notional = 2 * 50 + 2 * 55
    years = 3 / 365
    assert result.turnover == pytest.approx(notional / statistics.mean(CURVE) / years, rel=1e-12)


def test_turnover_from_priced_positions() -> None:
    times = daily_times(4)
    positions = pl.DataFrame(
        {"ts": times[:3], "position": [2.0, 5.0, 0.0], "price": [10.0, 11.0, 12.0]}
    )
    config = MetricsConfig(periods_per_year=252)

    result = compute_metrics(equity_frame(CURVE, times), positions=positions, config=config)

    notional = 2 * 10 + 3 * 11 + 5 * 12
    assert result.turnover == pytest.approx(
        notional / statistics.mean(CURVE) / (3 / 252), rel=1e-12
    )
    assert result.exposure == 0.5


def test_constant_equity_has_zero_return_and_volatility_and_nan_ratios() -> None:
    result = compute_metrics(equity_frame([50.0] * 30), interval="1d")

    assert (result.total_return, result.cagr, result.annual_volatility) == (0.0, 0.0, 0.0)
    assert result.max_drawdown == 0.0
    assert result.max_drawdown_duration_bars == 0
    for name in ("sharpe", "sortino", "calmar"):
        assert math.isnan(getattr(result, name)), name


def test_constant_growth_has_nan_sharpe_not_a_rounding_artefact() -> None:
    values = [100.0 * 1.001**i for i in range(300)]

    result = compute_metrics(equity_frame(values), interval="1d")

    assert result.annual_volatility < 1e-12
    assert math.isnan(result.sharpe)
    assert math.isnan(result.sortino)
    assert math.isnan(result.calmar)
    assert result.cagr == pytest.approx(1.001**365 - 1, rel=1e-9)


def test_a_single_point_gives_nan_without_failing() -> None:
    result = compute_metrics(equity_frame([100.0]))

    assert result.bars == 1
    assert result.total_return == 0.0
    assert result.max_drawdown == 0.0
    for name in ("periods_per_year", "cagr", "annual_volatility", "sharpe", "sortino", "calmar"):
        assert math.isnan(getattr(result, name)), name


def test_to_dict_to_frame_and_str() -> None:
    trades = pl.DataFrame(
        {
            "pnl": [10.0, -4.0],
            "return": [0.1, -0.04],
            "entry_time": [START, START],
            "exit_time": [START + timedelta(hours=2), START + timedelta(hours=4)],
        }
    )
    result = compute_metrics(equity_frame(CURVE), trades=trades, interval="1d")

    values = result.to_dict()
    frame = result.to_frame()
    text = str(result)

    assert list(values) == list(PerformanceMetrics.__dataclass_fields__)
    assert frame.height == 1
    assert frame.columns == list(values)
    assert frame.schema["max_drawdown_duration"] == pl.Duration("us")
    assert frame.item(0, "average_holding_time") == timedelta(hours=3)
    assert frame.item(0, "sharpe") == result.sharpe
    assert frame.item(0, "start") == datetime(2024, 1, 1, tzinfo=UTC)
    lines = text.splitlines()
    assert len(lines) == len(values)
    assert lines[0].startswith("Start ")
    assert "Max drawdown " in text
    assert "10.00 %" in text  # max drawdown as a percentage
    assert "Exposure" in text
    assert "n/a" in text  # exposure and turnover are unknown
    assert len({line.index(line.split("  ")[-1].strip()) for line in lines}) == 1  # aligned


def test_module_example_runs() -> None:
    failures, _ = doctest.testmod(metrics_module, optionflags=doctest.ELLIPSIS)

    assert failures == 0


def test_invariants_are_enforced() -> None:
    good = compute_metrics(equity_frame(CURVE), interval="1d").to_dict()

    for name, value in (("max_drawdown", 1.5), ("exposure", -0.1), ("trades", -1), ("bars", 0)):
        with pytest.raises(DataError, match="inconsistent"):
            PerformanceMetrics(**{**good, name: value})


def test_bad_inputs() -> None:
    with pytest.raises(SchemaError):
        compute_metrics(equity_frame(CURVE), positions=pl.DataFrame({"ts": daily_times(1)}))
    with pytest.raises(DataError):
        compute_metrics(
            equity_frame(CURVE),
            positions=pl.DataFrame({"ts": daily_times(1), "position": [float("inf")]}),
        )
    with pytest.raises(ConfigError):
        MetricsConfig.build(periods_per_year=0)
    with pytest.raises(ConfigError):
        MetricsConfig.build(risk_free_rate=float("nan"))
    with pytest.raises(ConfigError):
        MetricsConfig.build(sharpe=1)
    with pytest.raises(ConfigError, match="XNYS"):
        MetricsConfig.build(calendar="XNYZ")
    assert MetricsConfig(calendar="xnys").calendar == "XNYS"


def test_exposure_of_dense_positions_matches_numpy() -> None:
    rng = np.random.default_rng(5)
    count = 5_000
    times = daily_times(count)
    first = rng.choice([-1.0, 0.0, 0.0, 2.0], size=count)
    second = rng.choice([0.0, 0.0, 0.0, 1.0], size=count)
    positions = pl.concat(
        [
            pl.DataFrame({"ts": times, "symbol": "A", "position": first}),
            pl.DataFrame({"ts": times, "symbol": "B", "position": second}),
        ]
    ).sample(fraction=1.0, shuffle=True, seed=1)  # any row order

    result = compute_metrics(equity_frame([100.0] * count, times), positions=positions)

    assert result.exposure == pytest.approx(np.mean((first != 0) | (second != 0)), rel=1e-15)


def test_duplicate_positions_are_refused_with_their_rows() -> None:
    times = daily_times(3)
    positions = pl.DataFrame(
        {
            "ts": [times[0], times[1], times[0]],
            "symbol": ["A", "A", "A"],
            "position": [1.0, 0.0, 2.0],
        }
    )

    with pytest.raises(DataError) as caught:
        compute_metrics(equity_frame([1.0, 2.0, 3.0], times), positions=positions)

    assert [issue.row for issue in caught.value.issues] == [0, 2]
