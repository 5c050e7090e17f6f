"""One entry point for live and paper trading: ``Live(strategy, feed, broker, config).run()``.

One asyncio process. Bars from the feed are grouped by open time and handed to the strategy
runner (the same calls a backtest makes); its intents become orders — targets sized by
:func:`~quantstrata.execution.targets.orders_for_targets`, netted against positions and working
orders — that pass the risk engine and the order manager (journal first) to the broker. Beside
that loop run the broker's update stream, the reconciler (at start and every
``reconcile_interval`` seconds) and the health loop, whose alerts go to the log and an optional
webhook. SIGINT/SIGTERM stop it gracefully: no new orders, open orders optionally cancelled,
the journal closed.

Orders decided on a bar's close meet the market at the next bar, as in a backtest: before each
decision the runtime asks the broker about its open orders (``sync_orders``), so the fills of
the new bar's open are booked before the strategy looks at its position.

After each bar time the runtime journals a :class:`~quantstrata.live.journal.BarHandled` mark
(the bar time and the targets held). A run restarted on the same journal resumes after the last
one: it holds those targets, warms up on the bars up to it and asks the feed for the bars after
it (a streaming feed backfills what the dead run missed), so no bar time is lost or traded
twice. A feed that stops is restarted the same way, after the last bar time handled; a bar
time too late to trade on (``LiveConfig.max_bar_delay``) updates the strategy without trading
(see :mod:`quantstrata.live._supervisor`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import tempfile
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from itertools import islice
from pathlib import Path

import polars as pl

from quantstrata.core.clock import Clock, LiveClock
from quantstrata.core.config import DEFAULT_CASH
from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret, SecretUrl
from quantstrata.execution.config import CommissionConfig
from quantstrata.execution.risk import RiskEngine, RiskViolation, TradingState
from quantstrata.execution.targets import TargetBook, orders_for_targets
from quantstrata.live._bar_times import BarGrouper
from quantstrata.live._linked_orders import LinkedOrders
from quantstrata.live._supervisor import FeedSupervisor
from quantstrata.live.alerts import AlertLevel, AlertRouter, AlertSink, default_sinks
from quantstrata.live.broker import Broker
from quantstrata.live.brokers.paper import PaperBroker
from quantstrata.live.config import LiveConfig
from quantstrata.live.context import Intents
from quantstrata.live.dashboard import (
    ControlOutcome,
    ControlQueue,
    ControlRequest,
    DashboardServer,
    RuntimeView,
)
from quantstrata.live.feed import Feed
from quantstrata.live.health import HealthMonitor
from quantstrata.live.journal import BarHandled, Journal
from quantstrata.live.orders import OrderManager
from quantstrata.live.paper import PaperConfig, open_journal, paper_parts
from quantstrata.live.reconcile import reconcile
from quantstrata.live.runner import StrategyRunner
from quantstrata.live.state import StateAccount
from quantstrata.live.summary import LiveSummary
from quantstrata.model.bar import Bar
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.interval import Interval
from quantstrata.model.orders import Fill, Order, OrderRequest, OrderStatus
from quantstrata.strategy.event import EventStrategy
from quantstrata.strategy.signal import SignalStrategy

__all__ = ["Live", "LiveSummary"]


class Live:
    """Run ``strategy`` on ``feed``'s bars, trading through ``broker``."""

    def __init__(
        self,
        strategy: SignalStrategy | EventStrategy,
        feed: Feed,
        broker: Broker,
        config: LiveConfig,
        *,
        clock: Clock | None = None,
        journal: Journal | None = None,
        alert_sinks: Sequence[AlertSink] | None = None,
    ) -> None:
        """Check the inputs and open the journal; nothing else connects until :meth:`run`."""
        if not isinstance(config, LiveConfig):
            raise ConfigError(f"config must be a LiveConfig, got {type(config).__name__}")
        self.strategy = strategy
        self.feed = feed
        self.broker = broker
        self.config = config
        self.clock = clock if clock is not None else LiveClock()
        self.journal = journal if journal is not None else open_journal(config)
        sinks = alert_sinks if alert_sinks is not None else default_sinks(config.webhook_env)
        self.alerts = AlertRouter(list(sinks), self.clock)
        self.manager = OrderManager(
            broker,
            self.journal,
            run_id=config.run_id,
            clock=self.clock,
            risk=RiskEngine(config.risk, config.instruments),
            multipliers={s: i.multiplier for s, i in config.instruments.items()},
        )
        self.health = HealthMonitor(config.health, self.clock, self.alerts)
        self.supervisor = FeedSupervisor(feed, config, self.clock, self.alerts, self.health)
        self.runner = StrategyRunner(
            strategy,
            config.symbols,
            StateAccount(self.manager.state),
            self.manager.new_order_id,
            window=config.window,
        )
        self.sizing = config.sizing(self.runner.units)
        self.linked = LinkedOrders(self.manager, self._send)
        self._acting = asyncio.Lock()
        """Held while an update or a bar's sync acts on orders (one at a time): a bar's sync
        never asks the venue about an order an update is still sending (a bracket's exit would
        look lost and be booked rejected), and the bar waits for those orders before it is
        decided and acknowledged."""
        self._targets: dict[str, float] = {}
        self._orders_sent = 0
        self._rejections = 0
        self._reconciliations = 0
        self._bar_times = 0
        self._carried_targets: dict[str, float] = {}
        self._warmed_until: datetime | None = None
        self._dropped_bars = 0
        self._fills: list[Fill] = []
        self._resumed_after: datetime | None = None
        self.manager.fill_listeners.append(self._fills.append)
        self.controls = ControlQueue()
        self.view: RuntimeView | None = None
        self.dashboard: DashboardServer | None = None
        if config.dashboard is not None:
            self.view = RuntimeView(
                self.manager,
                self.health,
                self.alerts,
                config.symbols,
                self._prices,
                config=config.dashboard,
            )
            self.manager.fill_listeners.append(self.view.fill_booked)
            self.dashboard = DashboardServer(self.view, self.controls, config.dashboard)

    @classmethod
    def for_paper(
        cls,
        strategy: SignalStrategy | EventStrategy,
        bars: pl.DataFrame,
        *,
        journal: str | Path | SecretUrl,
        cash: float = DEFAULT_CASH,
        commission: float | CommissionConfig = 0.0,
        start: datetime | None = None,
        config: LiveConfig | None = None,
        pause: float = 0.0,
        calendar: str | None = None,
        base_currency: str | None = None,
    ) -> Live:
        """Return a paper run of ``strategy`` on ``bars`` through an in-process paper broker.

        The broker fills with the backtest's fill model; bars before ``start`` warm the
        strategy up. A ``journal`` that already traded some bar times is resumed after the last
        one (see :meth:`paper`). ``calendar`` (an exchange-calendars code) ends DAY orders at
        its session close, as :attr:`BacktestConfig.calendar <quantstrata.backtest.BacktestConfig>`
        does (``None``: the UTC day). ``config`` sets everything else (risk, sizing, run id);
        its ``instruments`` also say where the paper broker's fills settle (cash per currency
        of ``base_currency``, as in the backtest).
        """
        rules = commission if isinstance(commission, CommissionConfig) else None
        symbols = tuple(sorted(bars["symbol"].unique().to_list())) if "symbol" in bars else ()
        base = dict(config) if config is not None else {"symbols": symbols}
        chosen = LiveConfig.build(**{**base, "journal": journal})
        settings = PaperConfig.build(
            cash=cash,
            commission=rules or CommissionConfig.build(rate=commission),
            calendar=calendar,
            instruments=chosen.instruments,
            base_currency=base_currency,
        )
        parts = paper_parts(strategy.name, bars, settings, chosen, start=start, pause=pause)
        return cls(
            strategy,
            parts.feed,
            parts.broker,
            parts.config,
            clock=parts.clock,
            journal=parts.journal,
        )

    @classmethod
    def paper(
        cls,
        strategy: SignalStrategy | EventStrategy,
        bars: pl.DataFrame,
        *,
        cash: float = DEFAULT_CASH,
        commission: float | CommissionConfig = 0.0,
        start: datetime | None = None,
        journal: str | Path | SecretUrl | None = None,
        config: LiveConfig | None = None,
        calendar: str | None = None,
    ) -> LiveSummary:
        """Paper-trade ``strategy`` on ``bars`` in one call; return the run's summary.

        The bars are replayed into the in-process paper broker as fast as the runtime takes
        them, through the risk checks, the order manager and the journal, exactly as live
        trading runs. ``journal``: a SQLite file or a PostgreSQL DSN (``None``: a temporary
        file, removed afterwards). Run again on the same journal, it resumes after the last
        bar time the journal handled, holding its cash, positions and orders: a bar time is
        never traded twice. A journal started with another cash, strategy or symbols is refused.
        ``calendar`` ends DAY orders at its session close (see :meth:`for_paper`).
        """
        with tempfile.TemporaryDirectory(prefix="quantstrata-paper-") as folder:
            location = journal
            if location is None:
                location = config.journal if config is not None else Path(folder) / "paper.sqlite"
            live = cls.for_paper(
                strategy,
                bars,
                journal=location,
                cash=cash,
                commission=commission,
                start=start,
                config=config,
                calendar=calendar,
            )
            return live.run()

    @classmethod
    def for_venue(
        cls,
        strategy: SignalStrategy | EventStrategy,
        url: str,
        key: Secret,
        config: LiveConfig,
    ) -> Live:
        """Return a run of ``strategy`` on the local simulated venue at ``url`` (its ``key``)."""
        # imported here: the venue client (httpx, websockets) loads only for a venue run
        from quantstrata.live.brokers.venue import VenueBroker
        from quantstrata.live.feeds.venue import VenueFeed

        return cls(strategy, VenueFeed(url, key), VenueBroker(url, key), config)

    @classmethod
    def on_venue(
        cls,
        strategy: SignalStrategy | EventStrategy,
        url: str,
        key: Secret,
        config: LiveConfig,
    ) -> LiveSummary:
        """Trade ``strategy`` on the local simulated venue until its feed ends; return the summary.

        The venue (``quantstrata venue serve``) replays its bars and fills by the backtest's
        fill model; ``config`` names the symbols, the interval and the journal.
        """
        return cls.for_venue(strategy, url, key, config).run()

    def run(self) -> LiveSummary:
        """Run until the feed ends or SIGINT/SIGTERM; return the summary."""
        return asyncio.run(self.run_async(handle_signals=True))

    async def run_async(
        self, stop: asyncio.Event | None = None, *, handle_signals: bool = False
    ) -> LiveSummary:
        """Run until the feed ends or ``stop`` is set; return the summary."""
        stop = stop if stop is not None else asyncio.Event()
        if handle_signals:
            loop = asyncio.get_running_loop()
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(number, stop.set)
        background: list[asyncio.Task[None]] = []
        reason = "feed ended"
        try:
            if self.dashboard is not None:
                await self.dashboard.start()
                self.manager.log.info("live dashboard at %s", self.dashboard.url)
            await self.broker.connect()
            await self._start()
            background = [
                asyncio.create_task(self._consume_updates(), name="updates"),
                asyncio.create_task(self._reconcile_loop(stop), name="reconcile"),
                asyncio.create_task(self.health.run(stop), name="health"),
                asyncio.create_task(self._control_loop(), name="controls"),
            ]
            self.controls.open = True
            self._progress("trading")
            trading = asyncio.create_task(self._trade(), name="bars")
            stopping = asyncio.create_task(stop.wait(), name="stop")
            done, _ = await asyncio.wait({trading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if stopping in done:
                reason = "stop requested"
                trading.cancel()
            else:
                stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await trading
            self.controls.close()
            self._progress("stopping")
            await self._finish()
        finally:
            stop.set()
            self.controls.close()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await self.feed.close()
            await self.broker.close()
            self._progress("stopped")
            if self.dashboard is not None:
                await self.dashboard.stop()
            self.journal.close()
        return self._summary(reason)

    # ------------------------------------------------------------------ start and stop

    async def _start(self) -> None:
        await self.manager.start()
        self.health.broker_succeeded()
        if self.manager.state.cash == 0.0 and not self.manager.state.orders:
            account = await self.broker.account()
            self.manager.set_cash(account.cash, f"start-up: {self.broker.name} cash")
        await self._reconcile()
        self.runner.start()
        resumed = self.manager.state.last_bar
        self._resumed_after = resumed
        if resumed is not None:
            # a restart on this journal: hold the targets it held, trade only later bar times
            self._targets = dict(self.manager.state.bar_targets)
            self._warmed_until = resumed
        if self.config.warm_up:
            interval = Interval.parse(self.config.interval)
            # after a restart, warm up to the last bar handled: the feed delivers the rest
            end = self.clock.now() if resumed is None else resumed + interval.duration
            history = await self.feed.history(
                self.config.symbols, interval, end, self.strategy.warmup_bars() + 1
            )
            if history.height:
                self._carried_targets = self.runner.warm_up(history)
                warmed_until: datetime = history["ts"].max()  # type: ignore[assignment]
                self._warmed_until = max(warmed_until, resumed or warmed_until)
                await self.feed.ack(warmed_until)
        self.health.watch_symbols(list(self.config.symbols))

    async def _finish(self) -> None:
        """Stop new orders; cancel open ones when configured; settle what the venue knows."""
        self.runner.stop()
        await self.health.check()
        await self.manager.resolve_open()
        if self.config.cancel_on_shutdown:
            for order in list(self.manager.state.open_orders()):
                await self.manager.cancel(order.order_id)
            await self.manager.resolve_open()

    def _summary(self, reason: str) -> LiveSummary:
        positions = {
            str(symbol): position.quantity
            for symbol, position in sorted(self.manager.positions.items())
            if not position.is_flat
        }
        return LiveSummary(
            run_id=self.config.run_id,
            bar_times=self._bar_times,
            orders_sent=self._orders_sent,
            risk_rejections=self._rejections,
            cash=self.manager.state.cash,
            positions=positions,
            stopped_by=reason,
            reconciliations=self._reconciliations,
            late_bars=self.supervisor.late_bars,
            alerts=tuple(alert.text() for alert in self.alerts.history),
            equity=self.manager.state.equity(self._prices()),
            fills=tuple(self._fills),
            resumed_after=self._resumed_after,
            dropped_bars=self._dropped_bars,
            feed_restarts=self.supervisor.restarts,
        )

    # ------------------------------------------------------------------ loops

    async def _trade(self) -> None:
        symbols = self.config.symbols
        grouper = BarGrouper(symbols, grace=self.config.bar_grace, after=self._warmed_until)
        stream = self.supervisor.bars(
            symbols, lambda: self.manager.state.last_bar or self._warmed_until
        )
        async for group in grouper.groups(stream):
            await self._handle(group)
            self._dropped_bars = grouper.late_bars

    async def _handle(self, bars: Sequence[Bar]) -> None:
        ts = bars[0].ts
        on_time = await self.supervisor.on_time(ts)
        if isinstance(self.broker, PaperBroker):
            for bar in bars:
                await self.broker.on_bar(bar)
        await asyncio.sleep(0)  # let the update stream apply what already arrived
        async with self._acting:
            if self.config.sync_orders and self.manager.state.open_orders():
                await self.manager.resolve_open()
            await self.linked.update()
        self.runner.context.begin(ts)
        self._report_order_changes()
        for bar in bars:
            self.health.bar_received(bar.symbol)
        intents = self.runner.handle(bars)
        targets = {**self._carried_targets, **intents.targets}
        if on_time:
            intents.targets, self._carried_targets = targets, {}
            before = len(self.manager.state.orders)
            await self._execute(intents)
            await self._place_in_doubt(ts, _added_since(self.manager.state.orders, before))
        else:  # as in warm-up: orders and cancels dropped, targets wait for a bar on time
            self._carried_targets = targets
        self.manager.record(BarHandled(ts, self._targets))
        self._bar_times += 1
        if self.view is not None:
            self.view.bar_done(ts)
            self._progress("trading")
        await self.feed.ack(ts)

    async def _execute(self, intents: Intents) -> None:
        for order_id in intents.cancels:
            await self.manager.cancel(order_id)
        for order_id, request in intents.submits:
            if isinstance(request, OrderRequest):
                await self._send(request, order_id)
            else:
                await self.linked.submit(order_id, request)
        changed = {
            symbol: target
            for symbol, target in intents.targets.items()
            if self._targets.get(symbol) != target
        }
        if not changed:
            return
        self._targets.update(changed)
        prices = self._prices()
        book = TargetBook(
            self.manager.state.cash,
            {str(s): p.quantity for s, p in self.manager.positions.items()},
            self.manager.state.open_orders(),
            prices,
        )
        for request in orders_for_targets(changed, book, self.sizing):
            await self._send(request, None)

    async def _place_in_doubt(self, ts: datetime, sent: Sequence[ClientOrderId]) -> None:
        """Place the orders of bar time ``ts`` whose submit met no venue, before ``ts`` is acked.

        Else a lockstep venue that restarted after publishing ``ts`` fills the next bar without
        them (:meth:`OrderManager.place`, :meth:`FeedSupervisor.retry_in_time`).
        """
        for order_id in sent:
            if self.manager.state.orders[order_id].status is OrderStatus.UNKNOWN:
                await self.supervisor.retry_in_time(ts, partial(self._placed, order_id))

    async def _placed(self, order_id: ClientOrderId) -> bool:
        return (await self.manager.place(order_id)).status is not OrderStatus.UNKNOWN

    async def _control_loop(self) -> None:
        """Apply the dashboard's kill-switch requests, one at a time, on this event loop."""
        while True:
            request = await self.controls.next()
            try:
                await self._apply_control(request)
            except Exception as error:  # noqa: BLE001 - the caller hears of it, the loop goes on
                if not request.answer.done():
                    request.answer.set_exception(error)

    async def _apply_control(self, request: ControlRequest) -> None:
        """Set the trading state through the order manager (journal, risk engine), alert it."""
        state = request.action.state
        self.manager.set_trading_state(request.symbol, state, f"dashboard: {request.reason}")
        cancelled = 0
        if request.cancel_open:
            for order in list(self.manager.state.open_orders()):
                if request.symbol is None or order.symbol == request.symbol:
                    await self.manager.cancel(order.order_id)
                    cancelled += 1
        scope = request.symbol or "all symbols"
        level = AlertLevel.INFO if state is TradingState.ACTIVE else AlertLevel.WARNING
        await self.alerts.raise_alert(
            level,
            f"kill switch: {request.action.value} {scope}",
            f"trading in {scope} is now {state.value}"
            + (f", {cancelled} working orders cancelled" if request.cancel_open else "")
            + f": {request.reason}",
            source="dashboard",
            symbol=request.symbol,
        )
        if not request.answer.done():
            request.answer.set_result(ControlOutcome(state, cancelled))

    def _progress(self, status: str) -> None:
        if self.view is None:
            return
        progress = self.view.progress
        progress.status = status
        progress.orders_sent = self._orders_sent
        progress.risk_rejections = self._rejections

    async def _consume_updates(self) -> None:
        async for event in self.broker.updates():
            async with self._acting:
                await self.manager.apply_update(event)
                await self.linked.update()

    def _report_order_changes(self) -> None:
        """Call the strategy's ``on_order`` and ``on_fill`` with what changed since last time."""
        manager = self.manager
        changed = list(dict.fromkeys(manager.changed_orders))
        fills, manager.booked_fills, manager.changed_orders = manager.booked_fills, [], []
        strategy = self.strategy
        if not isinstance(strategy, EventStrategy):
            return
        for order_id in changed:
            strategy.on_order(manager.orders[order_id], self.runner.context)
        for fill in fills:
            strategy.on_fill(fill, self.runner.context)

    async def _send(self, request: OrderRequest, order_id: ClientOrderId | None) -> bool:
        prices = self._prices()
        try:
            await self.manager.submit(
                request,
                last_price=prices.get(request.symbol),
                marks=prices,
                order_id=order_id,
            )
        except RiskViolation as violation:
            self._rejections += 1
            await self.alerts.raise_alert(
                AlertLevel.WARNING,
                "order refused by the risk checks",
                str(violation),
                source="risk",
                symbol=request.symbol,
            )
            self._progress("trading")
            return False
        self._orders_sent += 1
        self._progress("trading")
        self.health.broker_succeeded()
        return True

    def _prices(self) -> dict[str, float]:
        return {
            symbol: window[-1].close for symbol, window in self.runner.windows.items() if window
        }

    async def _reconcile(self) -> None:
        instruments = self.config.instruments
        currency_of = {s: item.settlement_currency for s, item in instruments.items()}
        report = await reconcile(self.manager, currency_of=currency_of)
        self._reconciliations += 1
        if self.view is not None:
            self.view.reconciled(report)
        if report.skipped:
            self.health.broker_failed(report.reason or "reconciliation query failed")
            return
        self.health.broker_succeeded()
        for mismatch in report.mismatches:
            await self.alerts.raise_alert(
                AlertLevel.CRITICAL,
                f"reconciliation: {mismatch.kind}",
                mismatch.message,
                source="reconcile",
                symbol=mismatch.symbol,
            )

    async def _reconcile_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.config.reconcile_interval)
            except TimeoutError:
                await self._reconcile()


def _added_since(orders: dict[ClientOrderId, Order], before: int) -> list[ClientOrderId]:
    """Return the ids of the orders added after the first ``before``, oldest first.

    A dict keeps insertion order, so this costs the orders of one bar, not the run's history.
    """
    return list(islice(reversed(orders), len(orders) - before))[::-1]
