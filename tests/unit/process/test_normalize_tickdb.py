"""to_bars on TickDB kline JSON: string decimals, payload symbol, typed error bodies."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from quantstrata.core.errors import DataError, SchemaError
from quantstrata.model.bar import BAR_SCHEMA
from quantstrata.process.normalize import to_bars
from tests.kit.bar_inputs import TICKDB_SPEC_KLINE


def _response(*klines: dict[str, Any], symbol: str = "700.HK") -> dict[str, Any]:
    """Wrap klines as the spec's GET /v1/market/kline response, round-tripped through JSON."""
    body = {
        "code": 0,
        "message": "success",
        "data": {"symbol": symbol, "type": "stock", "interval": "1h", "klines": list(klines)},
    }
    decoded: dict[str, Any] = json.loads(json.dumps(body))
    return decoded


def _next_hour(kline: dict[str, Any], hours: int) -> dict[str, Any]:
    return kline | {"time": kline["time"] + hours * 3_600_000}


def _expected(klines: list[dict[str, Any]], symbol: str, extras: tuple[str, ...]) -> pl.DataFrame:
    """Build the expected frame from the JSON with Python's datetime and Decimal, not to_bars."""
    rows = [
        {
            "ts": datetime.fromtimestamp(kline["time"] / 1000, tz=UTC),
            "symbol": symbol,
            **{name: float(Decimal(kline[name])) for name in ("open", "high", "low", "close")},
            "volume": float(Decimal(kline["volume"])),
            **{name: float(Decimal(kline[name])) for name in extras},
        }
        for kline in klines
    ]
    schema = dict(BAR_SCHEMA) | dict.fromkeys(extras, pl.Float64())
    return pl.DataFrame(rows, schema=schema)


def test_spec_example_response_gives_the_documented_bar() -> None:
    klines = [TICKDB_SPEC_KLINE, _next_hour(TICKDB_SPEC_KLINE, 1)]
    result = to_bars(_response(*klines))
    assert result.equals(_expected(klines, "700.HK", ("quote_volume",)))
    assert result.row(0, named=True)["ts"] == datetime(2026, 3, 12, 5, 0, tzinfo=UTC)
    assert result.row(0, named=True)["quote_volume"] == 842560983.33


def test_data_object_and_klines_list_give_the_same_frame() -> None:
    response = _response(TICKDB_SPEC_KLINE, _next_hour(TICKDB_SPEC_KLINE, 1))
    whole = to_bars(response)
    assert to_bars(response["data"]).equals(whole)
    assert to_bars(response["data"]["klines"], symbol="700.HK").equals(whole)


def test_futures_kline_keeps_open_interest() -> None:
    kline = {key: value for key, value in TICKDB_SPEC_KLINE.items() if key != "quote_volume"}
    kline |= {"open_interest": "120345"}
    result = to_bars(_response(kline, symbol="IC2606"))
    assert result.equals(_expected([kline], "IC2606", ("open_interest",)))


def test_success_code_may_be_text() -> None:
    response = _response(TICKDB_SPEC_KLINE)
    response["code"] = "0"
    assert to_bars(response).height == 1


@pytest.mark.parametrize(
    ("code", "message"), [(3001, "Rate limit exceeded"), ("2002", "Symbol not found")]
)
def test_error_body_raises_data_error_with_code_and_message(code: object, message: str) -> None:
    with pytest.raises(DataError) as caught:
        to_bars({"code": code, "message": message})
    assert not isinstance(caught.value, SchemaError)
    assert str(code) in str(caught.value)
    assert message in str(caught.value)
    (issue,) = caught.value.issues
    assert (issue.check, issue.value, issue.message) == ("provider_error", code, message)


def test_success_without_klines_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="klines"):
        to_bars({"code": 0, "message": "success", "data": None})


def test_empty_klines_give_an_empty_frame() -> None:
    result = to_bars(_response())
    assert result.schema == BAR_SCHEMA
    assert result.height == 0


def test_symbol_argument_must_agree_with_the_payload() -> None:
    assert to_bars(_response(TICKDB_SPEC_KLINE), symbol="700.HK").height == 1
    with pytest.raises(SchemaError, match=r"9988\.HK"):
        to_bars(_response(TICKDB_SPEC_KLINE), symbol="9988.HK")


def test_interval_argument_must_agree_with_the_payload() -> None:
    assert to_bars(_response(TICKDB_SPEC_KLINE), interval="60m").height == 1
    with pytest.raises(SchemaError, match="interval"):
        to_bars(_response(TICKDB_SPEC_KLINE), interval="1d")


def test_times_are_milliseconds_by_definition() -> None:
    with pytest.raises(SchemaError, match="'ms' by definition"):
        to_bars(_response(TICKDB_SPEC_KLINE), time_unit="s")


def test_bad_decimal_text_names_row_column_and_value() -> None:
    second = _next_hour(TICKDB_SPEC_KLINE, 1) | {"high": "546,5"}
    third = _next_hour(TICKDB_SPEC_KLINE, 2) | {"quote_volume": "n/a"}
    with pytest.raises(SchemaError) as caught:
        to_bars(_response(TICKDB_SPEC_KLINE, second, third))
    found = [(issue.row, issue.column, issue.value) for issue in caught.value.issues]
    assert found == [(1, "high", "546,5"), (2, "quote_volume", "n/a")]


def test_payload_is_not_modified() -> None:
    response = _response(TICKDB_SPEC_KLINE)
    before = copy.deepcopy(response)
    to_bars(response)
    assert response == before


def test_dict_of_columns_with_a_code_column_is_not_a_response() -> None:
    columns = {"code": ["600519", "600519"], "time": [1_700_000_000_000, 1_700_000_060_000]}
    columns |= {name: [1.0, 1.0] for name in ("open", "high", "low", "close", "volume")}
    result = to_bars(columns, symbol="600519.SH")
    assert result.get_column("code").to_list() == ["600519", "600519"]


def test_data_object_without_symbol_needs_the_argument() -> None:
    data = _response(TICKDB_SPEC_KLINE)["data"]
    del data["symbol"]
    with pytest.raises(SchemaError, match="symbol"):
        to_bars(data)
    assert to_bars(data, symbol="700.HK").equals(to_bars(_response(TICKDB_SPEC_KLINE)))
