"""Overfitting statistics: the Deflated Sharpe Ratio and the Probability of Backtest Overfitting.

Formulas and references are in ``docs/research.md``:

- Bailey, D. H. and López de Prado, M. (2014), "The Deflated Sharpe Ratio: Correcting for
  Selection Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio Management
  40 (5), 94–107.
- Bailey, D. H., Borwein, J., López de Prado, M. and Zhu, Q. J. (2017), "The Probability of
  Backtest Overfitting", Journal of Computational Finance 20 (4), 39–69 (SSRN 2326253, 2015).

Sharpe ratios here are per observation (not annualised), as in the papers' formulas; divide
an annual figure by √(periods per year) first.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from quantstrata.core.errors import ConfigError, DataError

__all__ = [
    "EULER_MASCHERONI",
    "OverfittingProbability",
    "deflated_sharpe_ratio",
    "expected_maximum_sharpe",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "sharpe_moments",
]

EULER_MASCHERONI = 0.5772156649015329
_NORMAL = NormalDist()


def expected_maximum_sharpe(variance: float, trials: int) -> float:
    """Return SR₀, the expected maximum Sharpe ratio of ``trials`` skill-less strategies.

    ``SR₀ = √V · ((1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e)))`` with γ the Euler–Mascheroni
    constant and ``V`` the variance of the trials' Sharpe ratios (DSR paper, eq. 2).
    """
    if trials < 1:
        raise ConfigError(f"trials must be at least 1, got {trials}")
    if not variance >= 0.0:
        raise ConfigError(f"variance of the trials' Sharpe ratios must be >= 0, got {variance}")
    if trials == 1:
        return 0.0
    first = _NORMAL.inv_cdf(1.0 - 1.0 / trials)
    second = _NORMAL.inv_cdf(1.0 - 1.0 / (trials * math.e))
    return math.sqrt(variance) * ((1.0 - EULER_MASCHERONI) * first + EULER_MASCHERONI * second)


def probabilistic_sharpe_ratio(
    sharpe: float, benchmark: float, observations: int, skewness: float, kurtosis: float
) -> float:
    """Return the probability that the true Sharpe ratio exceeds ``benchmark`` (PSR).

    ``PSR = Φ((SR − SR*) √(T − 1) / √(1 − γ₃ SR + (γ₄ − 1)/4 · SR²))``, with ``kurtosis`` the
    ordinary (not excess) kurtosis γ₄, so normal returns have 3.
    """
    if observations < 2:
        raise ConfigError(f"observations must be at least 2, got {observations}")
    spread = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if not spread > 0.0:
        raise DataError(
            f"the Sharpe ratio's variance term is {spread} (skewness {skewness}, "
            f"kurtosis {kurtosis}, Sharpe {sharpe}); it must be positive"
        )
    return _NORMAL.cdf((sharpe - benchmark) * math.sqrt(observations - 1) / math.sqrt(spread))


def deflated_sharpe_ratio(
    sharpe: float,
    *,
    observations: int,
    trials: int,
    variance: float,
    skewness: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """Return the DSR: the PSR of ``sharpe`` against the expected maximum of ``trials`` trials.

    ``variance`` is the variance of the per-observation Sharpe ratios across the trials.
    """
    benchmark = expected_maximum_sharpe(variance, trials)
    return probabilistic_sharpe_ratio(sharpe, benchmark, observations, skewness, kurtosis)


def sharpe_moments(returns: npt.ArrayLike) -> tuple[float, float, float, int]:
    """Return ``(sharpe, skewness, kurtosis, observations)`` of per-period returns.

    The Sharpe ratio uses the population standard deviation, as the papers do; kurtosis is
    ordinary (3 for a normal distribution).
    """
    values = np.asarray(returns, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size < 3:
        raise DataError(f"need at least 3 finite returns, got {values.size}")
    centred = values - values.mean()
    deviation = math.sqrt(float(np.mean(centred**2)))
    if deviation == 0.0:
        raise DataError("the returns are constant, so their Sharpe ratio is undefined")
    skewness = float(np.mean(centred**3)) / deviation**3
    kurtosis = float(np.mean(centred**4)) / deviation**4
    return float(values.mean()) / deviation, skewness, kurtosis, int(values.size)


@dataclass(frozen=True, slots=True)
class OverfittingProbability:
    """The outcome of CSCV: the PBO and the logit of every split's out-of-sample rank.

    ``logits[k]`` is ``ln(ω/(1 − ω))`` for split ``k``, where ω is the relative rank (in
    ``(0, 1)``) out of sample of the configuration that was best in sample; ``pbo`` is the
    share of splits with logit ≤ 0 (the in-sample winner did no better than the median).
    """

    pbo: float
    logits: npt.NDArray[np.float64]
    splits: int


def probability_of_backtest_overfitting(
    performance: npt.ArrayLike, partitions: int = 16
) -> OverfittingProbability:
    """Estimate the PBO of choosing the best column of ``performance`` by CSCV.

    ``performance`` is a T×N matrix: T per-period returns (rows, in time order) of N
    configurations (columns). Rows are cut into ``partitions`` (even) contiguous blocks of
    equal size (the last ``T mod S`` rows are dropped); for each of the C(S, S/2) ways to pick
    half the blocks as in-sample, the column with the best in-sample Sharpe ratio is ranked by
    its out-of-sample Sharpe ratio among all columns.
    """
    matrix = np.asarray(performance, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] < 2:
        raise DataError(f"performance must be a T×N matrix with N >= 2, got shape {matrix.shape}")
    if partitions < 2 or partitions % 2:
        raise ConfigError(f"partitions must be an even number >= 2, got {partitions}")
    rows = matrix.shape[0] - matrix.shape[0] % partitions
    if rows // partitions < 2:
        raise DataError(f"{matrix.shape[0]} rows are too few for {partitions} partitions")
    if not np.isfinite(matrix[:rows]).all():
        raise DataError("performance holds NaN or infinite values")
    blocks = np.split(matrix[:rows], partitions)
    logits = []
    for chosen in itertools.combinations(range(partitions), partitions // 2):
        in_sample = np.concatenate([blocks[index] for index in chosen])
        out_of_sample = np.concatenate(
            [blocks[index] for index in range(partitions) if index not in chosen]
        )
        winner = int(np.argmax(_sharpe_columns(in_sample)))
        scores = _sharpe_columns(out_of_sample)
        # rank 1 = worst; ties share the average rank (the paper leaves ties unspecified)
        rank = (
            float(np.sum(scores < scores[winner]))
            + (float(np.sum(scores == scores[winner])) + 1) / 2
        )
        relative = rank / (matrix.shape[1] + 1)
        logits.append(math.log(relative / (1.0 - relative)))
    values = np.asarray(logits, dtype=np.float64)
    return OverfittingProbability(
        pbo=float(np.mean(values <= 0.0)), logits=values, splits=int(values.size)
    )


def _sharpe_columns(block: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    deviation = block.std(axis=0)
    mean = block.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = np.where(deviation > 0.0, mean / deviation, np.sign(mean) * np.inf)
    cleaned: npt.NDArray[np.float64] = np.nan_to_num(sharpe, nan=0.0)
    return cleaned
