"""Compiled input checks shared by every indicator family."""

import numba
import numpy as np


@numba.njit(cache=True)
def first_finite_nb(values: np.ndarray) -> int:
    """Return the index of the first finite value, or the length when there is none."""
    size: int = values.shape[0]
    for index in range(size):
        if np.isfinite(values[index]):
            return index
    return size


@numba.njit(cache=True)
def count_non_finite_after_nb(values: np.ndarray, start: int) -> int:
    """Return how many values from ``start`` on are NaN or infinite, in one pass."""
    count = 0
    for index in range(start, values.shape[0]):
        if not np.isfinite(values[index]):
            count += 1
    return count
