"""A strategy on a continuous futures series trades the real contracts and rolls them.

The chain of ``tests/unit/process/test_continuous.py`` (rolls at the closes of Jan 4 and Jan 7;
opens are closes - 0.5). The strategy holds 2 contracts from the Jan 1 close and goes flat at the
Jan 9 close; orders fill at the next open; commission 2.5 per contract + 1 per order, so every
order of 2 contracts pays 6.

| fill  | contract | side | price | why                          |
| ----- | -------- | ---- | ----- | ---------------------------- |
| Jan 2 | ESH7     | buy  | 100.5 | the target of 2              |
| Jan 5 | ESH7     | sell | 103.5 | roll 1, closing leg          |
| Jan 5 | ESM7     | buy  | 105.5 | roll 1, opening leg          |
| Jan 8 | ESM7     | sell | 108.5 | roll 2, closing leg          |
| Jan 8 | ESU7     | buy  | 112.5 | roll 2, opening leg          |
| Jan 10| ESU7     | sell | 114.5 | the target of 0              |

Cash: 100 000 + 2 × (-100.5 + 103.5 - 105.5 + 108.5 - 112.5 + 114.5) - 6 × 6 = 99 980.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.core.errors import ConfigError, DataError
from quantstrata.execution import CommissionConfig
from quantstrata.execution.risk import RiskConfig
from quantstrata.process import RollRule, continuous_futures
from quantstrata.strategy import BarSnapshot, EventStrategy, StrategyContext
from quantstrata.strategy.signal import SignalStrategy, TargetUnit
from tests.unit.process.test_continuous import CHAIN, chain_bars

EXIT = datetime(2027, 1, 9, tzinfo=UTC)
COMMISSION = CommissionConfig(per_unit=2.5, per_order=1.0)
FILLS = [
    (date(2027, 1, 2), "ESH7", "buy", 2.0, 100.5, 6.0),
    (date(2027, 1, 5), "ESH7", "sell", 2.0, 103.5, 6.0),
    (date(2027, 1, 5), "ESM7", "buy", 2.0, 105.5, 6.0),
    (date(2027, 1, 8), "ESM7", "sell", 2.0, 108.5, 6.0),
    (date(2027, 1, 8), "ESU7", "buy", 2.0, 112.5, 6.0),
    (date(2027, 1, 10), "ESU7", "sell", 2.0, 114.5, 6.0),
]


class HoldTwo(SignalStrategy):
    """Hold 2 contracts until the Jan 9 close, then nothing."""

    target_unit = TargetUnit.UNITS

    def warmup_bars(self) -> int:
        return 0

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        held = pl.when(pl.col("ts") < EXIT).then(2.0).otherwise(0.0)
        return bars.select("ts", "symbol", held.alias("target"))


def _fills(result: object) -> list[tuple[object, ...]]:
    fills = result.fills  # type: ignore[attr-defined]
    return [
        (row["ts"].date(), row["symbol"], row["side"], row["quantity"], row["price"],
         row["commission"])
        for row in fills.iter_rows(named=True)
    ]  # fmt: skip


@pytest.mark.parametrize(
    "settings",
    [{}, {"size_at": "fill"}, {"risk": RiskConfig()}],
    ids=["decision-compiled", "fill-compiled", "decision-exchange"],
)
def test_rolls_pay_both_legs_and_match_the_hand_calculation(settings: dict[str, object]) -> None:
    series = continuous_futures(chain_bars(), CHAIN)
    config = BacktestConfig(commission=COMMISSION, **settings)  # type: ignore[arg-type]
    result = Backtest(series, HoldTwo(), config).run()
    assert sorted(_fills(result), key=lambda row: (row[0], row[2] == "buy")) == FILLS
    assert result.equity["cash"][-1] == pytest.approx(99_980.0, abs=1e-9)
    assert result.equity["equity"][-1] == pytest.approx(99_980.0, abs=1e-9)
    assert set(result.fills["symbol"]) == {"ESH7", "ESM7", "ESU7"}


def test_rolled_result_is_the_adjusted_series_result_minus_the_roll_legs_costs() -> None:
    series = continuous_futures(chain_bars(), CHAIN, RollRule(adjustment="difference"))
    config = BacktestConfig(commission=COMMISSION)
    rolled = Backtest(series, HoldTwo(), config).run()
    on_series = Backtest(series.bars.drop("contract"), HoldTwo(), config).run()
    # The series: buy 2 at 106.5 (Jan 2 open, adjusted), sell 2 at 114.5, two orders of 6.
    assert on_series.equity["cash"][-1] == pytest.approx(100_000 + 2 * 8.0 - 12.0)
    # Rolling across a difference-adjusted gap costs only the four roll legs' commissions.
    assert rolled.equity["cash"][-1] == pytest.approx(on_series.equity["cash"][-1] - 4 * 6.0)


def test_equity_at_every_bar_marks_the_contract_held() -> None:
    series = continuous_futures(chain_bars(), CHAIN)
    result = Backtest(series, HoldTwo(), BacktestConfig(commission=COMMISSION)).run()
    # Jan 1 flat; Jan 2-4 hold 2 ESH7 bought at 100.5 (cash 100000 - 201 - 6 = 99793);
    # Jan 5-7 hold 2 ESM7 (cash 99793 + 207 - 6 - 211 - 6 = 99777);
    # Jan 8-9 hold 2 ESU7 (cash 99777 + 217 - 6 - 225 - 6 = 99757); Jan 10 flat at 99980.
    expected = [
        100_000.0,
        99_793 + 2 * 101, 99_793 + 2 * 102, 99_793 + 2 * 103,
        99_777 + 2 * 106, 99_777 + 2 * 107, 99_777 + 2 * 108,
        99_757 + 2 * 113, 99_757 + 2 * 114,
        99_980.0,
    ]  # fmt: skip
    assert result.equity["equity"].to_list() == pytest.approx(expected, abs=1e-9)


def test_roll_without_a_bar_to_close_on_is_refused() -> None:
    bars = chain_bars().filter(
        ~((pl.col("symbol") == "ESH7") & (pl.col("ts").dt.date() == date(2027, 1, 5)))
    )
    series = continuous_futures(bars, CHAIN)
    with pytest.raises(DataError, match="ESH7 has no bar after its roll on 2027-01-04"):
        Backtest(series, HoldTwo())


def test_event_strategy_on_a_series_is_refused() -> None:
    class Idle(EventStrategy):
        def warmup_bars(self) -> int:
            return 0

        def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
            return None

    with pytest.raises(ConfigError, match="contract_bars"):
        Backtest(continuous_futures(chain_bars(), CHAIN), Idle())


@pytest.mark.parametrize(
    "settings",
    [{}, {"size_at": "fill"}, {"risk": RiskConfig()}],
    ids=["decision-compiled", "fill-compiled", "decision-exchange"],
)
def test_rolls_with_a_multiplier_value_points_at_50(settings: dict[str, object]) -> None:
    chain = tuple(contract.with_terms(multiplier=50.0) for contract in CHAIN)
    series = continuous_futures(chain_bars(), chain)
    config = BacktestConfig(commission=COMMISSION, **settings)  # type: ignore[arg-type]
    result = Backtest(series, HoldTwo(), config).run()
    assert sorted(_fills(result), key=lambda row: (row[0], row[2] == "buy")) == FILLS
    # 8 points per contract over the three contracts, 2 contracts, 50 per point; 6 orders of 6.
    assert result.equity["equity"][-1] == pytest.approx(100_000 + 2 * 8.0 * 50 - 36.0)
    assert result.equity["cash"][-1] == pytest.approx(100_000 + 2 * 8.0 * 50 - 36.0)
    # Jan 4 (holding 2 ESH7 bought at 100.5, close 103): 100000 - 6 + 2 * 50 * (103 - 100.5).
    assert result.equity["equity"][3] == pytest.approx(100_000 - 6 + 2 * 50 * 2.5)


class OnePercent(SignalStrategy):
    """Hold 1 % of equity in the front contract throughout."""

    def warmup_bars(self) -> int:
        return 0

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        return bars.select("ts", "symbol", target=pl.lit(0.01))


def test_a_fraction_target_is_sized_again_on_the_new_contract_at_the_roll() -> None:
    result = Backtest(continuous_futures(chain_bars(), CHAIN), OnePercent()).run()
    first = 0.01 * 100_000 / 100.0  # at the Jan 1 close of ESH7
    equity = 100_000 + first * (103.0 - 100.5)  # at the Jan 4 close, ESH7 bought at 100.5
    second = 0.01 * equity / 105.0  # ESM7's Jan 4 close
    rolled = _fills(result)[:3]
    assert rolled == [
        (date(2027, 1, 2), "ESH7", "buy", pytest.approx(first), 100.5, 0.0),
        (date(2027, 1, 5), "ESH7", "sell", pytest.approx(first), 103.5, 0.0),
        (date(2027, 1, 5), "ESM7", "buy", pytest.approx(second), 105.5, 0.0),
    ]
