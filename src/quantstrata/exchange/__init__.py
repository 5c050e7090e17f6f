"""The simulated exchange: one pure order book around the shared fill model.

The backtest's event loop, the paper broker and the local venue are thin shells around
:class:`SimulatedExchange`, so one strategy meets one set of rules everywhere: matching through
:class:`~quantstrata.execution.FillModel`, time in force (GTC, DAY ending at the session close
of the instrument's calendar, IOC, FOK), reduce-only and no-short limits, the leverage cap,
brackets and one-cancels-other pairs, cash and positions through ``Position.apply`` and order
status only through the transition table. No I/O, no clock, no asyncio: time comes in with
every call.

API (stable; shells build on it)::

    exchange = SimulatedExchange(ExchangeConfig(...), symbols, id_prefix="E")
    exchange.listener = callback            # optional: callback(order, event) per event
    exchange.submit(order_id, request | Bracket | OneCancelsOther, now, sized=False)
    exchange.cancel(order_id, now, reason="cancelled on request")
    exchange.on_bar(symbol, ts, Prices(open, high, low, close, volume))  # or Prices.of(bar)
    exchange.execute(order_id, request, created, ts, prices, rest=reason)  # pre-sized, at once

Each of ``submit``, ``cancel`` and ``on_bar`` returns the order events it caused, in order
(``Submitted``, ``Accepted``, ``Rejected``, ``FillEvent``, ``CancelRequested``, ``Cancelled``,
``Expired``). Reads: ``orders`` (every order by client id), ``open_orders(symbol=None)``,
``cash``, ``balances`` (cash per currency: each fill settles in its instrument's currency),
``position(symbol)``, ``fills``, ``events`` (the whole log), ``notes`` (leverage
cuts by order id), ``has_working``, ``working_symbols()``, ``new_order_id()``. The leverage cap
values the other symbols at ``account.marks`` (the caller keeps them current);
``account.values[0]`` / ``account.quantities`` are numpy mirrors of the cash and positions for
compiled code. An order submitted on the bar at ``t`` first meets the market on the next
``on_bar`` call of its symbol; a DAY order expires at the first session close after
``t + config.bar_length``. The shells add: ``list_symbol``, ``restore`` / ``working_entries``
(a saved book), ``step_order`` (``this_close``; ``at_close``: the venue's cancel race),
``refuse``, ``link``, ``set_volume_cap``, ``check_margin(now)`` (a margin call at
``account.marks``, recorded in ``margin_calls``; its liquidations meet the next bar), and their
own ids through ``venue_ids`` and ``trade_ids``.

Perpetual swaps: :class:`FundingRates` (a checked funding-rate series) and
:func:`funding_payment` (what a position pays at a funding time) are the one funding rule.
"""

from quantstrata.exchange._currency import FxRates, MissingRateError
from quantstrata.exchange._funding import FundingRates, funding_payment
from quantstrata.exchange._margin import LIQUIDATION_TAG, MarginCall, MarginCallPolicy
from quantstrata.exchange._rules import EPSILON
from quantstrata.exchange.config import ExchangeConfig
from quantstrata.exchange.engine import Listener, Prices, SimulatedExchange

__all__ = [
    "EPSILON",
    "LIQUIDATION_TAG",
    "ExchangeConfig",
    "FundingRates",
    "FxRates",
    "Listener",
    "MarginCall",
    "MarginCallPolicy",
    "MissingRateError",
    "Prices",
    "SimulatedExchange",
    "funding_payment",
]
