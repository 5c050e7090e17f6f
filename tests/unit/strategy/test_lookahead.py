"""The look-ahead check catches strategies that read later bars and passes honest ones."""

from __future__ import annotations

import polars as pl
import pytest

from quantstrata.core.errors import ConfigError, QuantstrataError
from quantstrata.strategy.lookahead import LookAheadError, check_no_lookahead
from quantstrata.strategy.signal import SignalStrategy
from tests.kit.bars import make_bars, make_multi_symbol_bars


class PeeksAtNextClose(SignalStrategy):
    """Long when the *next* close is higher: the classic shift(-1) mistake."""

    def warmup_bars(self) -> int:
        return 0

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        rising = pl.col("close").shift(-1).over("symbol") > pl.col("close")
        return bars.select("ts", "symbol", target=rising.cast(pl.Float64))


class AboveWholeHistoryMean(SignalStrategy):
    """Long above the mean of all closes, including future ones."""

    def warmup_bars(self) -> int:
        return 0

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        above = pl.col("close") > pl.col("close").mean().over("symbol")
        return bars.select("ts", "symbol", target=above.cast(pl.Float64))


class RoseSincePreviousBar(SignalStrategy):
    """Long when the close rose since the previous bar: uses only the past."""

    def warmup_bars(self) -> int:
        return 1

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        rose = pl.col("close") > pl.col("close").shift(1).over("symbol")
        return bars.select("ts", "symbol", target=rose.cast(pl.Float64))


class PeeksOnlyForOneSymbol(SignalStrategy):
    """Honest for every symbol except BBB."""

    def warmup_bars(self) -> int:
        return 1

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        step = pl.when(pl.col("symbol") == "BBB").then(-1).otherwise(1)
        change = pl.col("close") - pl.col("close").shift(1).over("symbol")
        future = pl.col("close").shift(-1).over("symbol") - pl.col("close")
        value = pl.when(step == 1).then(change).otherwise(future)
        return bars.select("ts", "symbol", target=(value > 0).cast(pl.Float64))


class CountsCalls(SignalStrategy):
    """Honest; remembers the last bar time of every frame it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.cutoffs: list[object] = []

    def warmup_bars(self) -> int:
        return 10

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        self.cutoffs.append(bars["ts"].max())
        return bars.select("ts", "symbol", target=pl.lit(1.0))


def test_a_shift_minus_one_strategy_is_caught_with_the_bar_and_both_values():
    bars = make_bars(200)
    strategy = PeeksAtNextClose()
    with pytest.raises(LookAheadError) as caught:
        check_no_lookahead(strategy, bars)
    error = caught.value
    assert isinstance(error, QuantstrataError)
    assert (error.strategy, error.symbol) == ("PeeksAtNextClose", "TEST")
    assert error.violations >= 1
    assert "PeeksAtNextClose looks ahead" in str(error)
    assert "'TEST'" in str(error)
    # the reported values are what the two runs really give at that bar
    at = pl.col("ts") == error.ts
    full = strategy.compute_targets(bars).filter(at)["target"].item()
    truncated = strategy.compute_targets(bars.filter(pl.col("ts") <= error.ts))
    assert (error.full_value, error.truncated_value) == (
        full,
        truncated.filter(at)["target"].item(),
    )
    assert error.full_value != error.truncated_value


def test_a_whole_history_statistic_is_caught():
    with pytest.raises(LookAheadError, match="AboveWholeHistoryMean"):
        check_no_lookahead(AboveWholeHistoryMean(), make_bars(300, seed=3))


def test_a_causal_strategy_passes():
    check_no_lookahead(RoseSincePreviousBar(), make_multi_symbol_bars(150, ("AAA", "BBB")))


def test_the_error_names_the_symbol_that_looks_ahead():
    bars = make_multi_symbol_bars(120, ("AAA", "BBB", "CCC"))
    with pytest.raises(LookAheadError) as caught:
        check_no_lookahead(PeeksOnlyForOneSymbol(), bars)
    assert caught.value.symbol == "BBB"


def test_samples_cover_the_last_bar_the_first_after_warmup_and_stay_within_budget():
    bars = make_bars(500)
    strategy = CountsCalls()
    check_no_lookahead(strategy, bars, samples=12, seed=4)
    times = bars["ts"].to_list()
    cutoffs = strategy.cutoffs[1:]  # the first call is the full-history run
    assert strategy.cutoffs[0] == times[-1]
    assert len(cutoffs) == 12
    assert times[-1] in cutoffs
    assert times[10] in cutoffs
    assert all(cutoff >= times[10] for cutoff in cutoffs)


def test_different_seeds_draw_different_bars_and_the_same_seed_the_same():
    bars = make_bars(500)
    first, second, again = CountsCalls(), CountsCalls(), CountsCalls()
    check_no_lookahead(first, bars, seed=1)
    check_no_lookahead(second, bars, seed=2)
    check_no_lookahead(again, bars, seed=1)
    assert first.cutoffs == again.cutoffs
    assert first.cutoffs != second.cutoffs


def test_short_histories_are_checked_at_every_bar():
    bars = make_bars(8)
    strategy = CountsCalls()
    check_no_lookahead(strategy, bars, samples=20)
    assert sorted(strategy.cutoffs[1:]) == bars["ts"].to_list()[-1:]
    strategy = CountsCalls()
    check_no_lookahead(strategy, make_bars(15), samples=20)
    assert len(strategy.cutoffs[1:]) == 5


@pytest.mark.parametrize("samples", [0, -1, 2.5, True])
def test_bad_sample_counts_are_refused(samples):
    with pytest.raises(ConfigError, match="samples"):
        check_no_lookahead(RoseSincePreviousBar(), make_bars(10), samples=samples)


def test_bad_tolerance_is_refused():
    with pytest.raises(ConfigError, match="tolerance"):
        check_no_lookahead(RoseSincePreviousBar(), make_bars(10), tolerance=-1.0)


def test_only_signal_strategies_are_checked():
    with pytest.raises(ConfigError, match="takes a SignalStrategy"):
        check_no_lookahead(object(), make_bars(10))  # type: ignore[arg-type]


def test_symbols_on_one_timeline_share_their_sampled_times():
    names = tuple(f"S{number:02d}" for number in range(30))
    bars = make_multi_symbol_bars(300, names)
    strategy = CountsCalls()
    check_no_lookahead(strategy, bars, samples=12, seed=4)
    alone = CountsCalls()
    check_no_lookahead(alone, make_multi_symbol_bars(300, names[:1]), samples=12, seed=4)
    assert len(strategy.cutoffs) - 1 == 12  # not 12 per symbol
    assert strategy.cutoffs == alone.cutoffs
