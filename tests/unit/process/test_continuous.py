"""Continuous futures: rolls, back-adjustment and the roll table, checked against hand values.

The chain (daily bars on consecutive UTC days of January 2027; open = close - 0.5):

| contract | expiry | bars     | closes                        |
| -------- | ------ | -------- | ----------------------------- |
| ESH7     | Jan 5  | Jan 1-5  | 100 101 102 103 104           |
| ESM7     | Jan 8  | Jan 3-8  | 104 105 106 107 108 109       |
| ESU7     | Jan 20 | Jan 6-10 | 110 112 113 114 115           |

The calendar rule with offset 1 rolls at the last session before expiry: Jan 4 (ESH7 103 →
ESM7 105) and Jan 7 (ESM7 108 → ESU7 112).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from quantstrata.core.errors import ConfigError, DataError, SchemaError, UnknownSymbolError
from quantstrata.data.catalog import Catalog
from quantstrata.model.instrument import Instrument
from quantstrata.process import (
    ContinuousFutures,
    RollRule,
    continuous_futures,
    front_contract,
    roll_session,
)

JAN = [date(2027, 1, day) for day in range(1, 11)]
CHAIN = (
    Instrument.of("ESH7", "future", root="ES", expiry=date(2027, 1, 5)),
    Instrument.of("ESM7", "future", root="ES", expiry=date(2027, 1, 8)),
    Instrument.of("ESU7", "future", root="ES", expiry=date(2027, 1, 20)),
)
CLOSES = {
    "ESH7": (1, [100.0, 101.0, 102.0, 103.0, 104.0]),
    "ESM7": (3, [104.0, 105.0, 106.0, 107.0, 108.0, 109.0]),
    "ESU7": (6, [110.0, 112.0, 113.0, 114.0, 115.0]),
}


def chain_bars(
    volumes: dict[str, list[float]] | None = None,
    open_interest: dict[str, list[float]] | None = None,
) -> pl.DataFrame:
    """Return the chain's bars; volumes default to 1000 on every bar."""
    rows = []
    for symbol, (first, closes) in CLOSES.items():
        for index, close in enumerate(closes):
            row = {
                "ts": datetime(2027, 1, first + index, tzinfo=UTC),
                "symbol": symbol,
                "open": close - 0.5,
                "high": close + 1.0,
                "low": close - 1.5,
                "close": close,
                "volume": volumes[symbol][index] if volumes else 1000.0,
            }
            if open_interest is not None:
                row["open_interest"] = open_interest[symbol][index]
            rows.append(row)
    return pl.DataFrame(rows).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))


def test_difference_adjusted_series_equals_hand_values() -> None:
    series = continuous_futures(chain_bars(), CHAIN, RollRule(adjustment="difference"))
    # Jan 1-4 from ESH7 + (2 + 4), Jan 5-7 from ESM7 + 4, Jan 8-10 from ESU7 as traded.
    assert series.bars["close"].to_list() == [106, 107, 108, 109, 110, 111, 112, 113, 114, 115]
    assert series.bars["open"].to_list() == [
        105.5, 106.5, 107.5, 108.5, 109.5, 110.5, 111.5, 112.5, 113.5, 114.5,
    ]  # fmt: skip
    assert series.bars["high"].to_list() == [c + 1 for c in series.bars["close"]]
    assert series.bars["volume"].to_list() == [1000.0] * 10
    assert series.bars["symbol"].unique().to_list() == ["ES"]
    assert series.bars["contract"].to_list() == ["ESH7"] * 4 + ["ESM7"] * 3 + ["ESU7"] * 3
    assert series.bars["ts"].dt.date().to_list() == JAN


def test_ratio_adjusted_series_equals_hand_values() -> None:
    series = continuous_futures(chain_bars(), CHAIN, RollRule(adjustment="ratio"))
    first, second = 105 / 103, 112 / 108
    closes = [
        100 * first * second, 101 * first * second, 102 * first * second, 103 * first * second,
        106 * second, 107 * second, 108 * second,
        113, 114, 115,
    ]  # fmt: skip
    assert series.bars["close"].to_list() == pytest.approx(closes, rel=1e-15)
    opens = [(100 + day - 0.5) * first * second for day in range(4)]
    opens += [(106 + day - 0.5) * second for day in range(3)] + [112.5, 113.5, 114.5]
    assert series.bars["open"].to_list() == pytest.approx(opens, rel=1e-15)
    rolls = series.rolls
    assert rolls["adjustment"].to_list() == pytest.approx([105 / 103, 112 / 108], rel=1e-15)


def test_unadjusted_series_keeps_traded_prices() -> None:
    series = continuous_futures(chain_bars(), CHAIN, RollRule(adjustment="none"))
    assert series.bars["close"].to_list() == [100, 101, 102, 103, 106, 107, 108, 113, 114, 115]
    assert series.rolls["adjustment"].to_list() == [None, None]


def test_roll_table_records_each_roll() -> None:
    series = continuous_futures(chain_bars(), CHAIN)
    assert series.rolls.to_dicts() == [
        {
            "ts": datetime(2027, 1, 4, tzinfo=UTC),
            "date": date(2027, 1, 4),
            "from_contract": "ESH7",
            "to_contract": "ESM7",
            "from_close": 103.0,
            "to_close": 105.0,
            "adjustment": 2.0,
        },
        {
            "ts": datetime(2027, 1, 7, tzinfo=UTC),
            "date": date(2027, 1, 7),
            "from_contract": "ESM7",
            "to_contract": "ESU7",
            "from_close": 108.0,
            "to_close": 112.0,
            "adjustment": 4.0,
        },
    ]
    assert [series.front(day) for day in JAN] == ["ESH7"] * 4 + ["ESM7"] * 3 + ["ESU7"] * 3


def test_calendar_offset_counts_sessions_back_from_expiry() -> None:
    series = continuous_futures(chain_bars(), CHAIN, RollRule(offset=2))
    assert series.rolls["date"].to_list() == [date(2027, 1, 3), date(2027, 1, 6)]
    # Rolls 102 -> 104 (+2) and 107 -> 110 (+3): ESH7 Jan 1-3 + 5; ESM7 Jan 4-6 + 3; ESU7 as is.
    assert series.rolls["adjustment"].to_list() == [2.0, 3.0]
    assert series.bars["close"].to_list() == [105, 106, 107, 108, 109, 110, 112, 113, 114, 115]


def test_volume_crossover_rolls_when_the_next_contract_trades_more() -> None:
    volumes = {
        "ESH7": [900.0, 900.0, 900.0, 900.0, 900.0],
        "ESM7": [800.0, 950.0, 900.0, 900.0, 900.0, 900.0],  # crosses on Jan 4
        "ESU7": [300.0, 400.0, 800.0, 900.0, 900.0],  # never above ESM7 before Jan 7
    }
    series = continuous_futures(chain_bars(volumes=volumes), CHAIN, RollRule(method="volume"))
    assert series.rolls["date"].to_list() == [date(2027, 1, 4), date(2027, 1, 7)]
    volumes["ESM7"][0] = 901.0  # now ESM7 out-trades ESH7 on Jan 3
    series = continuous_futures(chain_bars(volumes=volumes), CHAIN, RollRule(method="volume"))
    assert series.rolls["date"].to_list() == [date(2027, 1, 3), date(2027, 1, 7)]
    assert series.rolls["adjustment"].to_list() == [104.0 - 102.0, 112.0 - 108.0]


def test_open_interest_crossover_reads_the_open_interest_column() -> None:
    interest = {
        "ESH7": [5.0, 5.0, 5.0, 5.0, 5.0],
        "ESM7": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        "ESU7": [9.0, 1.0, 1.0, 1.0, 1.0],  # above ESM7 on Jan 6
    }
    bars = chain_bars(open_interest=interest)
    series = continuous_futures(bars, CHAIN, RollRule(method="open_interest"))
    assert series.rolls["date"].to_list() == [date(2027, 1, 4), date(2027, 1, 6)]
    assert "open_interest" in series.bars.columns


def test_open_interest_rule_without_the_column_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="open_interest"):
        continuous_futures(chain_bars(), CHAIN, RollRule(method="open_interest"))


def test_missing_contract_is_named() -> None:
    bars = chain_bars().filter(pl.col("symbol") != "ESM7")
    with pytest.raises(DataError, match="ESM7") as raised:
        continuous_futures(bars, CHAIN)
    assert raised.value.issues[0].check == "missing_contract"


def test_gap_on_the_roll_session_names_contract_and_date() -> None:
    bars = chain_bars().filter(
        ~((pl.col("symbol") == "ESM7") & (pl.col("ts").dt.date() == date(2027, 1, 4)))
    )
    with pytest.raises(DataError, match=r"ESM7 has no bar on the roll session 2027-01-04"):
        continuous_futures(bars, CHAIN)


def test_no_data_before_expiry_names_the_contract() -> None:
    late = Instrument.of("ESZ6", "future", root="ES", expiry=date(2027, 1, 1))
    with pytest.raises(DataError, match=r"ESZ6 expiring 2027-01-01 has 0 session") as raised:
        continuous_futures(chain_bars().vstack(_renamed("ESH7", "ESZ6")), (late, *CHAIN))
    assert raised.value.issues[0].check == "no_data_before_expiry"


def test_overlapping_chain_is_refused() -> None:
    # No session on Jan 5: a contract expiring Jan 6 rolls on Jan 4, as ESH7 does.
    bars = chain_bars().filter(pl.col("ts").dt.date() != date(2027, 1, 5))
    early = (CHAIN[0], CHAIN[1].with_terms(expiry=date(2027, 1, 6)), CHAIN[2])
    with pytest.raises(DataError, match=r"ESM7 would roll on 2027-01-04.*overlaps"):
        continuous_futures(bars, early)


def test_ratio_adjustment_refuses_a_non_positive_close() -> None:
    bars = chain_bars().with_columns(
        close=pl.when((pl.col("symbol") == "ESH7") & (pl.col("ts").dt.day() == 4))
        .then(-1.0)
        .otherwise(pl.col("close"))
    )
    with pytest.raises(DataError, match="positive closes on the roll session 2027-01-04"):
        continuous_futures(bars, CHAIN, RollRule(adjustment="ratio"))


def test_chain_shape_errors() -> None:
    other = Instrument.of("NQH7", "future", root="NQ", expiry=date(2027, 3, 19))
    with pytest.raises(ConfigError, match="one root"):
        continuous_futures(chain_bars(), (*CHAIN, other))
    twin = Instrument.of("ESH7x", "future", root="ES", expiry=date(2027, 1, 5))
    with pytest.raises(ConfigError, match="both expire on 2027-01-05"):
        continuous_futures(chain_bars(), (*CHAIN, twin))
    with pytest.raises(ConfigError, match="not a future"):
        continuous_futures(chain_bars(), (Instrument.of("SPY", "etf"),))
    with pytest.raises(ConfigError, match="at least one"):
        continuous_futures(chain_bars(), ())


def test_roll_rule_rejects_unknown_fields_and_bad_values() -> None:
    with pytest.raises(ConfigError, match="days"):
        RollRule.build(days=3)
    with pytest.raises(ConfigError, match="offset"):
        RollRule.build(offset=0)
    with pytest.raises(ConfigError, match="method"):
        RollRule.build(method="calendar_days")


def test_front_contract_follows_the_calendar_rule() -> None:
    sessions = JAN
    fronts = [front_contract(CHAIN, day, sessions).symbol for day in JAN]
    assert fronts == ["ESH7"] * 4 + ["ESM7"] * 3 + ["ESU7"] * 3
    assert roll_session(CHAIN[1], sessions, offset=3) == date(2027, 1, 5)
    assert front_contract(CHAIN, datetime(2027, 1, 5, 15, tzinfo=UTC), sessions).symbol == "ESM7"
    after = [*JAN, *(date(2027, 1, day) for day in range(11, 21))]
    with pytest.raises(DataError, match="after the roll of the last contract ESU7"):
        front_contract(CHAIN, date(2027, 1, 20), after)


def test_front_contract_reads_the_exchange_calendar_when_no_sessions_are_given() -> None:
    # CME equity futures (CMES): Friday Jan 8 2027 expiry; sessions Mon Jan 4 - Fri Jan 8.
    march = Instrument.of("ESH7", "future", root="ES", expiry=date(2027, 1, 8), calendar="CMES")
    june = march.with_terms(symbol="ESM7", expiry=date(2027, 1, 15))
    assert front_contract((march, june), date(2027, 1, 7)).symbol == "ESH7"
    assert front_contract((march, june), date(2027, 1, 8)).symbol == "ESM7"
    assert front_contract((march, june), date(2027, 1, 6), offset=3).symbol == "ESM7"
    # Without a calendar every UTC day is a session (the default of futures).
    assert front_contract(CHAIN, date(2027, 1, 4)).symbol == "ESH7"
    assert front_contract(CHAIN, date(2027, 1, 5)).symbol == "ESM7"


def test_front_contract_agrees_with_the_series() -> None:
    series = continuous_futures(chain_bars(), CHAIN)
    assert isinstance(series, ContinuousFutures)
    for day in JAN:
        assert front_contract(CHAIN, day, JAN).symbol == series.front(day)


def _renamed(symbol: str, name: str) -> pl.DataFrame:
    return chain_bars().filter(pl.col("symbol") == symbol).with_columns(symbol=pl.lit(name))


def test_catalog_builds_the_series_from_stored_contracts(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    catalog.write(chain_bars(), interval="1d")
    series = catalog.continuous(CHAIN, interval="1d", rule=RollRule(adjustment="difference"))
    assert series.bars["close"].to_list() == [106, 107, 108, 109, 110, 111, 112, 113, 114, 115]
    assert series.rolls["to_contract"].to_list() == ["ESM7", "ESU7"]
    unknown = Instrument.of("ESZ7", "future", root="ES", expiry=date(2027, 12, 17))
    with pytest.raises(UnknownSymbolError, match="ESZ7"):
        catalog.continuous((*CHAIN, unknown), interval="1d")
