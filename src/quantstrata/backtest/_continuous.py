"""A strategy on a continuous futures series trades the real contracts, and rolls.

The strategy computes its targets on the continuous (adjusted) series of the root. Each target is
moved onto the contract the series holds *after* that bar: the bar's own contract, except on a
roll bar, whose close is where the roll is decided. At every roll bar the old contract's target
becomes 0 and the new contract gets the target in force (the strategy's target on that bar, else
its last one): two market orders that fill by the fill policy, the closing leg first (reductions
go first), each paying its commission and slippage. A ``units`` target is thereby rolled as the
same quantity; a fraction-of-equity target is sized again on the new contract at the roll
close. The simulation then runs on the contracts' own bars, unchanged: every fill is a real
fill of a real contract.
"""

from __future__ import annotations

import polars as pl

from quantstrata.core.errors import DataError, DataIssue
from quantstrata.process.continuous import ContinuousFutures
from quantstrata.strategy.signal import TARGET_SCHEMA

__all__ = ["check_closing_legs", "contract_targets", "signal_bars"]


def signal_bars(series: ContinuousFutures) -> pl.DataFrame:
    """Return the bars a strategy sees: the continuous series without its ``contract`` column."""
    return series.bars.drop("contract")


def contract_targets(targets: pl.DataFrame, series: ContinuousFutures) -> pl.DataFrame:
    """Return ``targets`` on the root as targets on the contracts, with both legs of each roll."""
    held = series.bars.select("ts", "contract").sort("ts")
    mapped = (
        held.join(targets.select("ts", "target"), on="ts", how="left", maintain_order="left")
        .with_columns(trading=pl.col("contract").shift(-1).fill_null(pl.col("contract")))
        .with_columns(
            roll=pl.col("trading") != pl.col("contract"),
            carried=pl.col("target").forward_fill(),
        )
    )
    opening = mapped.select(
        "ts",
        symbol="trading",
        target=pl.when("roll").then("carried").otherwise("target"),
    )
    closing = mapped.filter(pl.col("roll") & pl.col("carried").is_not_null()).select(
        "ts", symbol="contract", target=pl.lit(0.0)
    )
    return pl.concat([opening, closing]).sort("ts", "symbol").cast(TARGET_SCHEMA)


def check_closing_legs(series: ContinuousFutures) -> None:
    """Raise :class:`DataError` when a rolled-out contract has no later bar to close on.

    Under a next-bar fill policy the closing leg of a roll fills on the old contract's next bar;
    without one the position could never be closed.
    """
    last = series.contract_bars.group_by("symbol").agg(pl.col("ts").max().alias("last"))
    stuck = series.rolls.join(last, left_on="from_contract", right_on="symbol").filter(
        pl.col("last") <= pl.col("ts")
    )
    if stuck.height:
        issues = tuple(
            DataIssue(
                "no_bar_after_roll",
                f"contract {row['from_contract']} has no bar after its roll on {row['date']}, "
                "so the closing leg cannot fill; roll earlier (a larger RollRule.offset) or add "
                "its later bars",
                value=str(row["date"]),
                symbol=row["from_contract"],
            )
            for row in stuck.iter_rows(named=True)
        )
        raise DataError("a roll's closing leg has no bar to fill on", issues)
