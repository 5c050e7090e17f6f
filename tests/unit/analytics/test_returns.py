"""Per-bar returns checked against pandas and NumPy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from quantstrata.analytics import equity_log_returns, equity_simple_returns
from quantstrata.core.errors import DataError, SchemaError, TimezoneError
from tests.kit.analytics import daily_times, equity_frame, spx_equity


def test_simple_returns_match_pandas_pct_change() -> None:
    curve = spx_equity()
    expected = curve.to_pandas().set_index("ts")["equity"].pct_change().dropna()

    result = equity_simple_returns(curve)

    assert result.columns == ["ts", "return"]
    assert result.height == curve.height - 1
    assert result.get_column("ts").to_list() == list(expected.index)
    np.testing.assert_allclose(
        result.get_column("return").to_numpy(), expected.to_numpy(), rtol=1e-12
    )


def test_log_returns_match_numpy() -> None:
    values = [100.0, 105.0, 99.75, 120.0]

    result = equity_log_returns(equity_frame(values))

    np.testing.assert_allclose(
        result.get_column("return").to_numpy(), np.diff(np.log(values)), rtol=1e-12
    )


def test_each_return_is_labelled_with_its_closing_bar() -> None:
    times = daily_times(3)

    result = equity_simple_returns(equity_frame([1.0, 2.0, 1.0], times))

    assert result.get_column("ts").to_list() == times[1:]
    assert result.get_column("return").to_list() == [1.0, -0.5]


def test_pandas_series_with_another_timezone_is_read_as_utc() -> None:
    index = pd.date_range("2024-01-02 09:30", periods=3, freq="D", tz="America/New_York")

    result = equity_simple_returns(pd.Series([10.0, 11.0, 12.1], index=index))

    assert result.schema["ts"] == pl.Datetime("ns", "UTC")
    assert result.get_column("ts")[0].hour == 14


def test_bad_inputs_raise_typed_errors() -> None:
    with pytest.raises(SchemaError, match="equity"):
        equity_simple_returns(pl.DataFrame({"ts": daily_times(2), "value": [1.0, 2.0]}))
    with pytest.raises(TimezoneError):
        equity_simple_returns(
            pl.DataFrame(
                {"ts": [t.replace(tzinfo=None) for t in daily_times(2)], "equity": [1.0, 2.0]}
            )
        )
    with pytest.raises(TimezoneError):
        equity_simple_returns(pd.Series([1.0, 2.0], index=pd.date_range("2024-01-01", periods=2)))
    with pytest.raises(SchemaError, match="DatetimeIndex"):
        equity_simple_returns(pd.Series([1.0, 2.0]))
    with pytest.raises(SchemaError):
        equity_simple_returns([1.0, 2.0])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="empty"):
        equity_simple_returns(equity_frame([]))
    times = daily_times(3)
    with pytest.raises(DataError) as caught:
        equity_simple_returns(
            equity_frame([1.0, float("nan"), 2.0], [times[0], times[2], times[1]])
        )
    checks = {(issue.check, issue.row) for issue in caught.value.issues}
    assert checks == {("increasing_timestamps", 2), ("positive_equity", 1)}
