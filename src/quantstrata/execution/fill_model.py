"""The fill model as objects: one working order (or bracket) against one bar at a time.

The event-style backtester, the paper broker and the simulated venue call
:meth:`FillModel.step` once per bar for every working order; it calls the same compiled
kernels as the backtester's signal loop (:mod:`quantstrata.execution._nb`), so every engine
fills the same order at the same bar and price. The only thing this layer adds is rounding
fills to whole lots, which the compiled loop leaves to its caller.
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

from quantstrata.core.errors import ConfigError
from quantstrata.execution import _nb
from quantstrata.execution.config import CommissionConfig, FillConfig, SlippageConfig
from quantstrata.execution.costs import commission_arguments, slippage_arguments
from quantstrata.execution.orders import (
    BracketLeg,
    BracketStep,
    FillResult,
    OrderStep,
    PriceBar,
    WorkingBracket,
    WorkingOrder,
)
from quantstrata.model.instrument import Instrument
from quantstrata.model.orders.enums import OrderType
from quantstrata.model.orders.fill import Liquidity
from quantstrata.model.orders.order import completes

__all__ = ["FillModel"]


class FillModel:
    """Decide whether, how much and at what price an order fills on a bar, and what it costs.

    ``config`` sets the fill policy, the intrabar rule, the volume cap and lot rounding (which
    needs ``instrument``); ``commission`` and ``slippage`` the costs (none by default).
    """

    __slots__ = ("_commission", "_slippage", "commission", "config", "instrument", "slippage")

    def __init__(
        self,
        config: FillConfig | None = None,
        commission: CommissionConfig | None = None,
        slippage: SlippageConfig | None = None,
        *,
        instrument: Instrument | None = None,
    ) -> None:
        """Keep the settings; lot rounding requires the instrument whose lots to use."""
        self.config = config if config is not None else FillConfig()
        self.commission = commission if commission is not None else CommissionConfig()
        self.slippage = slippage if slippage is not None else SlippageConfig()
        if self.config.round_lots and instrument is None:
            raise ConfigError("FillConfig.round_lots needs the instrument whose lots to use")
        self.instrument = instrument
        multiplier = 1.0 if instrument is None else instrument.multiplier
        self._commission = commission_arguments(self.commission, multiplier)
        self._slippage = slippage_arguments(self.slippage)

    def __repr__(self) -> str:
        """Show the settings."""
        return (
            f"FillModel(config={self.config!r}, commission={self.commission!r}, "
            f"slippage={self.slippage!r})"
        )

    def fill(self, order: WorkingOrder, bar: PriceBar) -> FillResult | None:
        """Return the fill of ``order`` on ``bar``, or ``None``.

        Only the fill: an order whose state changes without filling (a trailing stop moving, a
        stop-limit triggering) must be advanced with :meth:`step`, which also returns it.
        """
        return self.step(order, bar).fill

    def step(self, order: WorkingOrder, bar: PriceBar) -> OrderStep:
        """Match ``order`` against ``bar``; return its new state and the fill, if any."""
        at_close = self.config.policy.arrives_at_close and not order.arrived
        filled, bar_price, triggered, extreme = _nb.match_order_nb(
            int(order.order_type),
            int(order.side),
            order.quantity,
            _number(order.limit_price),
            _number(order.stop_price),
            _number(order.trail_amount),
            _number(order.trail_percent),
            _number(order.trail_extreme),
            order.triggered,
            bar.open,
            bar.high,
            bar.low,
            bar.close,
            bar.volume,
            self._volume_cap,
            at_close,
        )
        moved = replace(
            order,
            triggered=bool(triggered),
            trail_extreme=None if math.isnan(extreme) else float(extreme),
            arrived=True,
        )
        quantity = self._round(float(filled))
        if quantity <= 0.0:
            return OrderStep(moved, None)
        fill = self._fill(moved, quantity, float(bar_price), bar.volume)
        return OrderStep(fill.remainder, fill)

    def step_bracket(self, bracket: WorkingBracket, bar: PriceBar) -> BracketStep:
        """Match both exits of ``bracket`` against ``bar``; one filling cancels the other.

        The leg reached becomes a plain working order (the stop-loss a triggered stop, the
        take-profit a limit) for whatever the bar could not fill. A take-profit reached on a bar
        that can fill nothing (volume cap) leaves the bracket working unchanged.
        """
        at_close = self.config.policy.arrives_at_close and not bracket.arrived
        filled, bar_price, leg = _nb.match_bracket_nb(
            int(bracket.side),
            bracket.quantity,
            _number(bracket.stop_loss),
            _number(bracket.take_profit),
            bar.open,
            bar.high,
            bar.low,
            bar.close,
            bar.volume,
            self._volume_cap,
            self.config.intrabar.code,
            at_close,
        )
        moved = replace(bracket, arrived=True)
        quantity = self._round(float(filled))
        if leg == _nb.LEG_NONE or (quantity <= 0.0 and leg == _nb.LEG_TAKE_PROFIT):
            return BracketStep(moved)
        exit_leg = BracketLeg(leg)
        order = _leg_order(moved, exit_leg)
        if quantity <= 0.0:
            return BracketStep(None, exit_leg, order, None)
        fill = self._fill(order, quantity, float(bar_price), bar.volume)
        return BracketStep(None, exit_leg, fill.remainder, fill)

    @property
    def _volume_cap(self) -> float:
        cap = self.config.volume_cap
        return math.nan if cap is None else cap

    def _round(self, quantity: float) -> float:
        if self.config.round_lots and self.instrument is not None and quantity > 0.0:
            return self.instrument.round_quantity(quantity)
        return quantity

    def _fill(
        self, order: WorkingOrder, quantity: float, bar_price: float, bar_volume: float
    ) -> FillResult:
        """Slip (taker fills only), charge, and return the fill with the order's remainder."""
        maker = bool(_nb.is_maker_nb(int(order.order_type)))
        price = bar_price
        if not maker:
            price = float(
                _nb.slippage_nb(int(order.side), bar_price, quantity, bar_volume, *self._slippage)
            )
        amount, basis = _nb.commission_nb(
            quantity,
            price,
            maker,
            order.filled_quantity == 0.0,
            order.fee_basis,
            *self._commission,
        )
        left = self._left(order.quantity, quantity)
        filled = order.filled_quantity + quantity
        remainder = None
        # Done by the order's own rule: a dust remainder would fill again after it is FILLED.
        if left > 0.0 and not completes(filled, filled + left):
            remainder = replace(
                order,
                quantity=left,
                filled_quantity=filled,
                fee_basis=float(basis),
            )
        return FillResult(
            side=order.side,
            quantity=quantity,
            price=price,
            bar_price=bar_price,
            commission=float(amount),
            liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
            remainder=remainder,
        )

    def _left(self, quantity: float, filled: float) -> float:
        # Lots are decimal steps: subtract in decimal so 0.7 - 0.5 leaves exactly 2 lots of 0.1.
        if self.config.round_lots:
            return float(Decimal(repr(quantity)) - Decimal(repr(filled)))
        return quantity - filled


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _leg_order(bracket: WorkingBracket, leg: BracketLeg) -> WorkingOrder:
    if leg is BracketLeg.STOP_LOSS:
        return WorkingOrder(
            side=bracket.side,
            quantity=bracket.quantity,
            order_type=OrderType.STOP,
            stop_price=bracket.stop_loss,
            triggered=True,
            arrived=True,
        )
    return WorkingOrder(
        side=bracket.side,
        quantity=bracket.quantity,
        order_type=OrderType.LIMIT,
        limit_price=bracket.take_profit,
        arrived=True,
    )
