"""The fill model: the one place that decides whether, how much and at what price an order fills.

The backtester (its compiled signal loop and its event loop), the paper broker and the local
simulated venue all use these rules, through the compiled kernels of
:mod:`quantstrata.execution._nb` or the :class:`FillModel` wrapped around them.

Fill policy (:class:`FillPolicy`)
    A strategy decides on a bar's close. With ``next_open`` (the default) its orders first meet
    the market at the next bar's open: market orders fill at that open, and limit and stop
    orders are tested against the whole next bar, then every later bar. ``next_close`` makes
    them meet the next bar only at its close (the bar is reduced to its closing price), and
    ``this_close`` at the decision bar's own close, which is optimistic: a live trader cannot
    see a close and still trade at it.

Prices on a bar, before slippage
    - Market: the open of the fill bar.
    - Limit buy: fills when ``low <= limit``, at ``min(open, limit)``: a gap down through the
      limit fills at the open, better than the limit. Limit sell: ``high >= limit``, at
      ``max(open, limit)``.
    - Stop buy: triggers when ``high >= stop``, fills at ``max(open, stop)``: a gap up through
      the stop fills at the open, worse than the stop. Stop sell: ``low <= stop``, at
      ``min(open, stop)``. A stop never fills better than its stop price. A triggered stop
      that could not fill in full works as a market order from the next bar.
    - Stop-limit: triggers like a stop, then is a limit order on what is left of the bar. The
      trigger comes before the limit is tested. A bar that opens beyond the stop triggers at
      the open, so the limit is tested on the whole bar with the open as reference (a gap
      through both fills at the open when the open satisfies the limit, else at the limit if
      the range reaches it). A trigger inside the bar happens at the stop price and the path
      after it is unknown, so the order fills there, at the stop price, only when that price
      already satisfies the limit; otherwise it rests as a limit order from the next bar.
    - Trailing stop: the stop sits ``trail_amount`` (or ``trail_percent``) behind the best
      price seen since placement (highest high for a sell, lowest low for a buy; starting from
      the first bar's open unless given). On each bar the current stop is tested first, as a
      stop order, and only then is the best price updated with the bar's extreme: a bar never
      moves its own stop, so there is no look-ahead within the bar.
    - Every price a rule gives lies within the bar's ``[low, high]``; the gap fills are at the
      open, which is inside the range by definition.

Both exits of a position on one bar (:class:`WorkingBracket`, :class:`IntrabarPolicy`)
    A bar that opens beyond the stop-loss fills it at the open; one that opens beyond the
    take-profit fills that at the open. Otherwise, when the bar's range touches both levels,
    ``adverse_first`` (default) fills the stop-loss at its price and ``favourable_first`` the
    take-profit at its price; a bar touching one level fills that one.

Volume (:class:`FillConfig`)
    With ``volume_cap`` one bar fills at most ``volume_cap × bar volume`` of an order; the rest
    keeps working on later bars (partial fills), and a bar without volume fills nothing.
    Without a cap, volume is ignored. ``round_lots`` rounds each fill down to whole lots of the
    instrument (Python layer only).

Costs (:class:`CommissionConfig`, :class:`SlippageConfig`)
    Slippage moves taker fills (market, stop, trailing stop, the stop-loss leg) against the
    trader: a fixed number of basis points, half the spread, and a volume-share impact.
    Limit and stop-limit fills are maker fills at the rule's price (never beyond the limit).
    Commission is a rate of the traded value (a maker rate for limit fills), an amount per
    unit, a fixed amount per order and a minimum per order, applied as ``max(fee, minimum)``;
    an order filled in parts pays the fixed amount and the minimum once. No cost is negative.
"""

from quantstrata.execution.config import (
    CommissionConfig,
    FillConfig,
    FillPolicy,
    IntrabarPolicy,
    SlippageConfig,
)
from quantstrata.execution.costs import CommissionCharge, commission, slipped_price
from quantstrata.execution.fill_model import FillModel
from quantstrata.execution.orders import (
    BracketLeg,
    BracketStep,
    FillResult,
    OrderStep,
    PriceBar,
    WorkingBracket,
    WorkingOrder,
)

__all__ = [
    "BracketLeg",
    "BracketStep",
    "CommissionCharge",
    "CommissionConfig",
    "FillConfig",
    "FillModel",
    "FillPolicy",
    "FillResult",
    "IntrabarPolicy",
    "OrderStep",
    "PriceBar",
    "SlippageConfig",
    "WorkingBracket",
    "WorkingOrder",
    "commission",
    "slipped_price",
]
