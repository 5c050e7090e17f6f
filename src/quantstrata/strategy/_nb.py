"""Compiled kernels for the strategy layer: NumPy arrays in, filled output arrays out."""

import numba
import numpy as np


@numba.njit(cache=True)
def targets_from_signals_nb(  # noqa: PLR0917
    entries: np.ndarray,
    exits: np.ndarray,
    short_entries: np.ndarray,
    short_exits: np.ndarray,
    size: np.ndarray,
    out: np.ndarray,
) -> np.ndarray:
    """Fill ``out`` with the position target after each bar's signals (see targets_from_signals).

    The position is ``+size`` (long), ``-size`` (short) or 0; the size of the entry bar is held
    until the position closes. In a position, a closing signal always wins over a same-direction
    entry on the same bar; a bar carrying conflicting openings opens nothing.
    """
    position = 0.0
    for index in range(entries.shape[0]):
        long_in = entries[index]
        long_out = exits[index]
        short_in = short_entries[index]
        short_out = short_exits[index]
        if position > 0.0:
            if long_out or short_in:
                position = 0.0
                if short_in and not short_out and not long_in:
                    position = -size[index]
        elif position < 0.0:
            if short_out or long_in:
                position = 0.0
                if long_in and not long_out and not short_in:
                    position = size[index]
        elif long_in and not long_out and not short_in:
            position = size[index]
        elif short_in and not short_out and not long_in:
            position = -size[index]
        out[index] = position
    return out
