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


class AboveCentredMean(SignalStrategy):
    """Long above a centred 21-bar mean: the window reaches ten bars into the future."""

    def warmup_bars(self) -> int:
        return 10

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        mean = pl.col("close").rolling_mean(21, center=True).over("symbol")
        return bars.select("ts", "symbol", target=(pl.col("close") > mean).cast(pl.Float64))


class PeeksFrom(SignalStrategy):
    """Honest until ``start``; from then on long when the close ``horizon`` bars later is higher.

    A strategy whose mistake sits in a branch taken only late in the history (a regime, a
    data source that starts late): the first bars, and most of the rest, are honest.
    """

    def __init__(self, start: object, horizon: int = 1) -> None:
        super().__init__()
        self.start = start
        self.horizon = horizon

    def warmup_bars(self) -> int:
        return 1

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        close = pl.col("close")
        honest = close > close.shift(1).over("symbol")
        peek = close.shift(-self.horizon).over("symbol") > close
        late = pl.col("ts") >= pl.lit(self.start)
        value = pl.when(late).then(peek).otherwise(honest)
        return bars.select("ts", "symbol", target=value.cast(pl.Float64))


class SumsHistory(SignalStrategy):
    """Honest with unbounded memory: long while the running sum of returns is positive."""

    def warmup_bars(self) -> int:
        return 1

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        returns = (pl.col("close") / pl.col("close").shift(1) - 1.0).over("symbol")
        running = returns.cum_sum().over("symbol")
        smooth = pl.col("close").ewm_mean(alpha=0.001, adjust=False).over("symbol")
        value = (running > 0) & (pl.col("close") > smooth)
        return bars.select("ts", "symbol", target=value.cast(pl.Float64))


class CountsCalls(SignalStrategy):
    """Honest; remembers the last bar time of every frame it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.cutoffs: list[object] = []
        self.rows: list[int] = []

    def warmup_bars(self) -> int:
        return 10

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        self.cutoffs.append(bars["ts"].max())
        self.rows.append(bars.height)
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


def test_a_centred_window_is_caught():
    with pytest.raises(LookAheadError, match="AboveCentredMean"):
        check_no_lookahead(AboveCentredMean(), make_bars(3_000, seed=5))


@pytest.mark.parametrize("seed", range(5))
def test_a_peek_that_appears_only_late_in_the_history_is_caught(seed):
    bars = make_bars(20_000, seed=seed)
    start = bars["ts"][-150]  # the last 0.75 % of the bars peek one bar ahead
    with pytest.raises(LookAheadError) as caught:
        check_no_lookahead(PeeksFrom(start), bars, seed=seed)
    assert caught.value.ts >= start


def test_a_late_peek_far_ahead_is_caught():
    bars = make_multi_symbol_bars(10_000, ("AAA", "BBB"), seed=2)
    start = bars["ts"][-2_000]  # the last 10 % of the bars compare with 300 bars later
    with pytest.raises(LookAheadError) as caught:
        check_no_lookahead(PeeksFrom(start, horizon=300), bars, samples=6)
    assert caught.value.ts >= start


def test_a_peek_far_ahead_is_caught():
    bars = make_bars(30_000, seed=9)
    with pytest.raises(LookAheadError):
        check_no_lookahead(PeeksFrom(bars["ts"][0], horizon=10_000), bars, samples=4)


def test_an_honest_strategy_with_unbounded_memory_passes():
    check_no_lookahead(SumsHistory(), make_multi_symbol_bars(20_000, ("AAA", "BBB"), seed=4))


def test_a_causal_strategy_passes():
    check_no_lookahead(RoseSincePreviousBar(), make_multi_symbol_bars(150, ("AAA", "BBB")))


def test_the_error_names_the_symbol_that_looks_ahead():
    bars = make_multi_symbol_bars(120, ("AAA", "BBB", "CCC"))
    with pytest.raises(LookAheadError) as caught:
        check_no_lookahead(PeeksOnlyForOneSymbol(), bars)
    assert caught.value.symbol == "BBB"


def test_samples_cover_the_end_the_first_after_warmup_and_stay_within_budget():
    bars = make_bars(500)
    strategy = CountsCalls()
    check_no_lookahead(strategy, bars, samples=12, seed=4)
    times = bars["ts"].to_list()
    cutoffs = strategy.cutoffs[1:]  # the first call is the full-history run
    assert strategy.cutoffs[0] == times[-1]
    assert len(cutoffs) == 12
    assert times[-2] in cutoffs  # the last bar whose target could read a later one
    assert times[10] in cutoffs
    assert all(cutoff >= times[10] for cutoff in cutoffs)


def test_a_long_history_is_cut_across_its_whole_length_on_a_fraction_of_its_bars():
    bars = make_bars(400_000)
    strategy = CountsCalls()
    check_no_lookahead(strategy, bars, samples=20, seed=4)
    times = bars["ts"].to_list()
    calls, cutoffs = len(strategy.rows) - 1, strategy.cutoffs[1:]
    assert calls <= 20
    assert sum(strategy.rows[1:]) <= bars.height // 4
    assert times[10] in cutoffs
    assert times[-2] in cutoffs
    assert times[-1] in cutoffs
    eighths = {times.index(cutoff) * 8 // len(times) for cutoff in cutoffs}
    assert eighths == set(range(8))  # cut points in every eighth of the history


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


def test_symbols_on_one_timeline_are_checked_together():
    names = tuple(f"S{number:02d}" for number in range(30))
    bars = make_multi_symbol_bars(300, names)
    strategy = CountsCalls()
    check_no_lookahead(strategy, bars, samples=12, seed=4)
    alone = CountsCalls()
    check_no_lookahead(alone, make_multi_symbol_bars(300, names[:1]), samples=12, seed=4)
    assert len(strategy.cutoffs) - 1 == len(alone.cutoffs) - 1 == 12  # not 12 per symbol
