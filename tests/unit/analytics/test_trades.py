"""Trade statistics on small frames checked by hand."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime, timedelta

import pandas as pd
import polars as pl
import pytest

from quantstrata.analytics import TradeStatistics, trade_statistics
from quantstrata.core.errors import DataError, SchemaError, TimezoneError

T0 = datetime(2024, 1, 1, tzinfo=UTC)
PNL = [100.0, -50.0, 0.0, 200.0, -25.0]
RETURNS = [0.10, -0.05, 0.0, 0.20, -0.025]
HELD = [timedelta(hours=1), timedelta(hours=2), timedelta(hours=3), timedelta(days=1), timedelta(0)]


def _trades(**extra: list[float]) -> pl.DataFrame:
    entries = [T0 + timedelta(days=i) for i in range(len(PNL))]
    return pl.DataFrame(
        {
            "entry_time": entries,
            "exit_time": [entry + held for entry, held in zip(entries, HELD, strict=True)],
            "pnl": PNL,
            "return": RETURNS,
            **extra,
        }
    )


def test_statistics_by_hand() -> None:
    result = trade_statistics(_trades())

    assert result.trades == 5
    assert result.win_rate == 2 / 5  # the flat trade is not a win
    assert result.profit_factor == 300 / 75
    assert result.expectancy == 225 / 5
    assert result.average_trade == pytest.approx(0.225 / 5, rel=1e-15)
    assert result.average_win == pytest.approx(0.15, rel=1e-15)
    assert result.average_loss == pytest.approx(-0.0375, rel=1e-15)
    assert result.best_trade == 0.20
    assert result.worst_trade == -0.05
    assert result.total_pnl == 225.0
    assert result.average_holding_time == sum(HELD, timedelta(0)) / 5
    assert result.sqn == pytest.approx(math.sqrt(5) * 45 / statistics.stdev(PNL), rel=1e-12)


def test_sqn_uses_r_multiples_when_given_and_caps_the_count() -> None:
    r_multiples = [2.0, -1.0, 0.0, 4.0, -0.5]
    frame = _trades(r_multiple=r_multiples)

    plain = trade_statistics(frame)
    capped = trade_statistics(frame, sqn_trade_cap=3)

    r_mean, r_spread = statistics.mean(r_multiples), statistics.stdev(r_multiples)
    assert plain.sqn == pytest.approx(math.sqrt(5) * r_mean / r_spread, rel=1e-12)
    assert capped.sqn == pytest.approx(math.sqrt(3) * r_mean / r_spread, rel=1e-12)
    assert trade_statistics(frame, sqn_trade_cap=100).sqn == plain.sqn


def test_no_trades_gives_zero_count_and_nan() -> None:
    empty = pl.DataFrame(schema={"pnl": pl.Float64, "return": pl.Float64})

    result = trade_statistics(empty)

    assert result.trades == 0
    assert result.total_pnl == 0.0
    assert result.average_holding_time is None
    for name in ("win_rate", "profit_factor", "expectancy", "average_trade", "best_trade", "sqn"):
        assert math.isnan(getattr(result, name)), name


def test_degenerate_denominators_are_nan() -> None:
    winners_only = pl.DataFrame({"pnl": [10.0, 20.0], "return": [0.01, 0.02]})
    one_trade = pl.DataFrame({"pnl": [10.0], "return": [0.01]})
    equal_trades = pl.DataFrame({"pnl": [5.0, 5.0, 5.0], "return": [0.01, 0.01, 0.01]})

    assert math.isnan(trade_statistics(winners_only).profit_factor)
    assert math.isnan(trade_statistics(winners_only).average_loss)
    assert math.isnan(trade_statistics(one_trade).sqn)
    assert math.isnan(trade_statistics(equal_trades).sqn)
    assert trade_statistics(one_trade).average_holding_time is None


def test_pandas_frames_are_accepted() -> None:
    frame = _trades()

    assert trade_statistics(frame.to_pandas()) == trade_statistics(frame)


def test_to_dict_lists_every_field() -> None:
    result = trade_statistics(_trades()).to_dict()

    assert list(result) == list(TradeStatistics.__dataclass_fields__)


def test_bad_trades_raise_typed_errors_naming_rows() -> None:
    with pytest.raises(SchemaError, match="return"):
        trade_statistics(pl.DataFrame({"pnl": [1.0]}))
    with pytest.raises(DataError) as caught:
        trade_statistics(
            pl.DataFrame({"pnl": [1.0, float("nan"), None], "return": [0.1, 0.2, 0.3]})
        )
    assert [issue.row for issue in caught.value.issues] == [1, 2]
    assert caught.value.issues[0].column == "pnl"
    swapped = _trades().with_columns(exit_time=pl.col("entry_time") - timedelta(hours=1))
    with pytest.raises(DataError) as caught:
        trade_statistics(swapped)
    assert [issue.row for issue in caught.value.issues] == [0, 1, 2, 3, 4]
    naive = _trades().with_columns(pl.col("entry_time").dt.replace_time_zone(None))
    with pytest.raises(TimezoneError):
        trade_statistics(naive)
    with pytest.raises(SchemaError):
        trade_statistics(pl.DataFrame({"pnl": ["1"], "return": [0.1]}))
    with pytest.raises(SchemaError):
        trade_statistics(pd.Series([1.0]))  # type: ignore[arg-type]
