"""Settings of the fill model: when orders meet the market, how bars are read, what fills cost.

Every setting has a default that a live trader could reproduce: decide on a bar's close, fill
market orders at the next bar's open, assume the worst when one bar touches both exits of a
position, and charge nothing until costs are configured.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from quantstrata.core.config import FrozenConfig

__all__ = [
    "CommissionConfig",
    "FillConfig",
    "FillPolicy",
    "IntrabarPolicy",
    "SlippageConfig",
]


class FillPolicy(StrEnum):
    """When an order decided on a bar's close first meets the market.

    - ``next_open`` (default): at the next bar's open. Market orders fill at that open; limit
      and stop orders are tested against the whole next bar, then every later bar.
    - ``next_close``: at the next bar's close (a market-on-close order). On that first bar the
      order sees only the closing price; later bars are tested whole.
    - ``this_close``: at the close of the decision bar itself. **Optimistic**: a live trader
      cannot see a bar's close and still trade at it; use it only for signals known before the
      close, or to compare with frameworks that do this.
    """

    NEXT_OPEN = "next_open"
    NEXT_CLOSE = "next_close"
    THIS_CLOSE = "this_close"

    @property
    def bar_offset(self) -> int:
        """Bars between the decision bar and the first bar an order is tested on (0 or 1)."""
        return 0 if self is FillPolicy.THIS_CLOSE else 1

    @property
    def arrives_at_close(self) -> bool:
        """Whether the order meets its first bar only at that bar's close."""
        return self is not FillPolicy.NEXT_OPEN


class IntrabarPolicy(StrEnum):
    """Which exit fills when one bar touches both the stop-loss and the take-profit.

    A bar's path between its high and its low is unknown. ``adverse_first`` (default) assumes
    the stop-loss came first; ``favourable_first`` assumes the take-profit did. Either way a
    bar that *opens* beyond one of the levels fills that level at the open.
    """

    ADVERSE_FIRST = "adverse_first"
    FAVOURABLE_FIRST = "favourable_first"

    @property
    def code(self) -> int:
        """The integer the compiled kernels take."""
        return 0 if self is IntrabarPolicy.ADVERSE_FIRST else 1


class FillConfig(FrozenConfig):
    """How orders fill on bars.

    - ``policy``: when a decided order first meets the market (:class:`FillPolicy`).
    - ``intrabar``: which exit fills when a bar touches both (:class:`IntrabarPolicy`).
    - ``volume_cap``: the largest fraction of a bar's volume one order may take, in (0, 1];
      the rest keeps working on later bars (partial fills), and a bar without volume fills
      nothing. ``None`` ignores volume.
    - ``round_lots``: round every fill down to whole lots of the instrument
      (:meth:`~quantstrata.model.instrument.Instrument.round_quantity`).
    """

    policy: FillPolicy = FillPolicy.NEXT_OPEN
    intrabar: IntrabarPolicy = IntrabarPolicy.ADVERSE_FIRST
    volume_cap: float | None = Field(default=None, gt=0.0, le=1.0, allow_inf_nan=False)
    round_lots: bool = False


class CommissionConfig(FrozenConfig):
    """What the broker charges per order; all parts add up and none is negative.

    - ``rate``: fraction of the traded value (``0.001`` = 0.1 %) charged on taker fills; the
      value is ``quantity × price × multiplier`` for contracts.
    - ``maker_rate``: the fraction charged on maker (limit) fills; ``None`` uses ``rate``.
    - ``per_unit``: amount per unit traded (per share, per contract: a futures broker's
      commission per contract, backtrader's ``setcommission(commission=2.0, margin=...)``).
    - ``exchange_fee``: the exchange and clearing fees per unit (per contract) the broker
      passes through; they add to ``per_unit`` (the fee of a fill is one figure, as brokers
      report it) and count toward the minimum.
    - ``per_order``: fixed amount per order, charged once even when it fills in parts.
    - ``minimum``: least total an order pays: the order is charged ``max(fee, minimum)``.
    """

    rate: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    maker_rate: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    per_unit: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    per_order: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    minimum: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    exchange_fee: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)

    @property
    def effective_maker_rate(self) -> float:
        """The fraction charged on maker fills."""
        return self.rate if self.maker_rate is None else self.maker_rate


class SlippageConfig(FrozenConfig):
    """How far a taker fill's price moves against the trader; the parts add up.

    - ``fixed_basis_points``: a fixed move, in basis points of the price (1 bp = 0.01 %).
    - ``spread``: the bid-ask spread in price units; a fill pays half of it.
    - ``spread_basis_points``: the spread in basis points of the price instead (give one of
      the two spread forms, not both).
    - ``volume_impact``: price impact coefficient; the price moves by
      ``volume_impact × order quantity / bar volume`` of itself (not applied on bars without
      volume).

    Limit fills (maker) are not slipped: they fill at the price the rules give, which already
    respects the limit.
    """

    fixed_basis_points: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    spread: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    spread_basis_points: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    volume_impact: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_spread_form(self) -> Self:
        if self.spread > 0.0 and self.spread_basis_points > 0.0:
            raise ValueError("give the spread in price units or in basis points, not both")
        return self
