"""The overfitting statistics reproduce the papers' worked examples and their limiting cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.backtest.optimize.statistics import (
    deflated_sharpe_ratio,
    expected_maximum_sharpe,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
    sharpe_moments,
)
from quantstrata.core.errors import ConfigError, DataError

DAYS_PER_YEAR = 250  # the DSR paper's convention in its example


def test_expected_maximum_sharpe_matches_the_dsr_papers_example() -> None:
    # Bailey & López de Prado (2014), numerical example: N = 100 trials, V[SR] = 1/2 annualised,
    # giving an expected maximum of about 1.79 a year, SR0 = 0.1132 per day.
    annual = expected_maximum_sharpe(0.5, 100)

    assert annual / math.sqrt(DAYS_PER_YEAR) == pytest.approx(0.1132, abs=5e-5)


def test_deflated_sharpe_ratio_matches_the_dsr_papers_example() -> None:
    # Same example: annualised SR 2.5 over 5 years of daily returns (T = 1250), skewness -3,
    # kurtosis 10 gives DSR = 0.9004.
    dsr = deflated_sharpe_ratio(
        2.5 / math.sqrt(DAYS_PER_YEAR),
        observations=1250,
        trials=100,
        variance=0.5 / DAYS_PER_YEAR,
        skewness=-3.0,
        kurtosis=10.0,
    )

    assert dsr == pytest.approx(0.9004, abs=1e-4)


def test_one_trial_deflates_nothing_so_dsr_equals_psr_against_zero() -> None:
    dsr = deflated_sharpe_ratio(0.1, observations=500, trials=1, variance=0.3)

    assert dsr == pytest.approx(probabilistic_sharpe_ratio(0.1, 0.0, 500, 0.0, 3.0))


def test_psr_is_one_half_when_the_sharpe_equals_its_benchmark() -> None:
    assert probabilistic_sharpe_ratio(0.2, 0.2, 100, -1.0, 6.0) == pytest.approx(0.5)


@settings(max_examples=50)
@given(
    trials=st.integers(min_value=2, max_value=10_000),
    variance=st.floats(min_value=1e-6, max_value=4.0),
)
def test_expected_maximum_grows_with_trials_and_variance(trials: int, variance: float) -> None:
    base = expected_maximum_sharpe(variance, trials)

    assert expected_maximum_sharpe(variance, trials + 1) > base
    assert expected_maximum_sharpe(variance * 2, trials) > base > 0


def test_sharpe_moments_of_a_hand_checked_series() -> None:
    sharpe, skewness, kurtosis, count = sharpe_moments([1.0, -1.0, 1.0, -1.0, 3.0])

    # mean 0.6, population variance (0.16 + 2.56 + 0.16 + 2.56 + 5.76) / 5 = 2.24
    assert sharpe == pytest.approx(0.6 / math.sqrt(2.24))
    assert count == 5
    assert skewness > 0
    assert kurtosis > 1


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ConfigError, match="trials"):
        expected_maximum_sharpe(0.1, 0)
    with pytest.raises(DataError, match="constant"):
        sharpe_moments([0.01, 0.01, 0.01])
    with pytest.raises(ConfigError, match="partitions"):
        probability_of_backtest_overfitting(np.ones((10, 3)), partitions=3)


def test_pbo_hand_checked_two_strategies_four_blocks() -> None:
    # Column 0 wins blocks 0 and 1, column 1 wins blocks 2 and 3 (by Sharpe within each).
    # Of the six in-sample halves, {0,1} and {2,3} pick a winner that loses out of sample;
    # the four mixed halves tie in sample -> column 0 (first argmax) -> out-of-sample ranks
    # are computed on the complementary mixed half, where the two columns tie as well.
    up = np.array([1.0, 2.0])
    down = np.array([-1.0, -2.0])
    blocks = [np.column_stack([up, down]), np.column_stack([up, down])]
    blocks += [np.column_stack([down, up]), np.column_stack([down, up])]

    result = probability_of_backtest_overfitting(np.vstack(blocks), partitions=4)

    assert result.splits == 6
    # {0,1}: winner col 0, out of sample col 0 is worst -> rank 1 of 2 -> ω = 1/3 -> logit < 0.
    # mixed halves: tie out of sample -> average rank 1.5 -> ω = 1/2 -> logit 0 (counted).
    assert result.logits.tolist() == pytest.approx(
        [math.log(0.5), 0.0, 0.0, 0.0, 0.0, math.log(0.5)]
    )
    assert result.pbo == 1.0


def test_pbo_is_zero_when_one_configuration_dominates_every_block() -> None:
    noise = np.random.default_rng(7).normal(0.0, 1.0, size=(400, 8))
    noise[:, 5] += 2.0

    assert probability_of_backtest_overfitting(noise, partitions=8).pbo == 0.0


def test_pbo_of_pure_noise_is_near_one_half() -> None:
    noise = np.random.default_rng(11).normal(0.0, 1.0, size=(2_000, 30))

    result = probability_of_backtest_overfitting(noise, partitions=10)

    assert result.splits == math.comb(10, 5)
    assert 0.3 < result.pbo < 0.7


def test_pbo_is_one_when_in_sample_winners_always_reverse() -> None:
    # Each column alternates good and bad blocks in opposite phase: whatever wins a half
    # loses the other half.
    good, bad = np.array([1.0, 1.2]), np.array([-1.0, -1.2])
    first = np.concatenate([good, bad])
    second = np.concatenate([bad, good])
    matrix = np.column_stack([first, second])

    assert probability_of_backtest_overfitting(matrix, partitions=2).pbo == 1.0
