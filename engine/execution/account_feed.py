"""Live fills and order updates from the ``fill`` and ``user_orders`` WebSocket channels, with REST as the
backup.

Why a feed beside the executor: the live executor reads an order's fills over REST right after the
acknowledgement, which covers an IOC order that trades at once, but a resting order fills later, a cancel or
an expiry happens on the exchange's schedule, and an order left UNKNOWN by a reset may turn out to be
standing. The exchange tells all of that on its account channels the moment it happens; this feed carries
each message into the order manager, which records a fill once by its id (``trade_id`` on the WebSocket is
the REST ``fill_id``), whichever path brings it first.

A WebSocket can lose messages: the client counts account events it had to drop from a full queue
(``dropped_account_events``) and reconnects after a socket loss or a buffer overflow. Either one starts a
REST reconciliation of every order still open, and of the fills listed since, so nothing the channels missed
stays missing. A fill without its fee, or an order update that reports more contracts filled than the fills
seen, is settled over REST after a short grace (the fill message is usually just behind). A fill for no
order of this engine, still unmatched after the grace, is a position the store cannot explain: the breaker
halts (fail closed), as restart recovery does.

The feed owns its own connection (``run`` subscribes the two channels without a market filter, so every
fill of the account arrives): account messages never share a queue with market data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from engine.connectors.errors import ApiError, TransportError
from engine.connectors.kalshi.messages import FillUpdate, MarketLifecycle, UserOrderUpdate, WsMessage
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.connectors.kalshi.ws import KalshiWebSocket
from engine.errors import ArbError
from engine.execution.executor import Execution
from engine.execution.live import fill_record, state_of, ws_fill_record
from engine.execution.manager import OrderManager
from engine.execution.model import AuditEvent, AuditKind, OrderRecord, OrderState
from engine.execution.recovery import FailClosed, settlement_record

log = logging.getLogger(__name__)

ACCOUNT_CHANNELS = ("fill", "user_orders", "market_lifecycle_v2")
"""Our fills and orders, and every market's lifecycle: a ``settled`` market we traded has its settlement
read over REST (what it paid us) and counted by the breaker."""
OPEN_AT_EXCHANGE = (OrderState.ACKED, OrderState.PARTIAL, OrderState.UNKNOWN)
"""Orders a reconciliation asks about. NEW and SENT belong to the placement in flight (or, after a crash, to
restart recovery); asking about them here would race the acknowledgement."""


@dataclass(slots=True)
class FeedCounters:
    """What the feed did, for health views and tests."""

    contracts: int = 0
    """Contracts of the fills this feed recorded first (from a message or its own REST reads)."""
    order_updates: int = 0
    settlements: int = 0
    reconciliations: int = 0
    unmatched: int = 0
    last_reconcile: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Waiting:
    """A message that needs a second look: a fill whose order is not known yet, or an order whose fills are
    not all in."""

    since: float
    expected: int = 0
    message: FillUpdate | None = None


class AccountFeed:
    """``await feed.run()`` until cancelled; ``handle`` applies one message (the tests call it directly too).

    ``grace_s``: how long a fill may wait for its order's acknowledgement, or an order for its fill
    messages, before REST is asked. ``unknown_every_s``: how often orders left UNKNOWN are asked about by
    ``client_order_id`` (each one blocks its market until then)."""

    def __init__(
        self,
        manager: OrderManager,
        ws: KalshiWebSocket,
        rest: KalshiRestClient,
        breaker: FailClosed,
        now: Callable[[], datetime],
        *,
        grace_s: float = 2.0,
        check_every_s: float = 0.25,
        unknown_every_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.manager = manager
        self.ws = ws
        self.rest = rest
        self.breaker = breaker
        self._now = now
        self.grace_s = grace_s
        self.check_every_s = check_every_s
        self.unknown_every_s = unknown_every_s
        self._mono = monotonic
        self.counters = FeedCounters()
        self._orphans: dict[str, _Waiting] = {}  # trade_id -> the fill whose order is not known yet
        self._short: dict[str, _Waiting] = {}  # client_order_id -> fills the exchange counted that we lack
        self._connections = 0
        self._dropped = 0
        self._handle: int | None = None
        self._last_unknown_check = 0.0
        self.synced = asyncio.Event()
        """Set once the channels are subscribed and the first reconciliation is done."""

    # -- lifecycle --------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Subscribe, reconcile once, then apply messages and watch for gaps until cancelled; the feed's
        connection is closed on the way out."""
        self.ws.start()
        self._handle = await self.ws.subscribe(ACCOUNT_CHANNELS)
        watcher = asyncio.create_task(self._watch(), name="account-feed-watch")
        try:
            while True:
                msg = await self.ws.events.get()
                try:
                    await self.handle(msg)
                except (ArbError, ApiError, TransportError) as exc:  # one message, never the feed
                    self._error(f"{type(msg).__name__}: {exc}")
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await self.ws.close()

    def _error(self, text: str) -> None:
        log.error("account feed: %s", text)
        self.counters.errors = [*self.counters.errors[-19:], text]

    # -- messages ---------------------------------------------------------------------------------------

    async def handle(self, msg: WsMessage) -> None:
        if isinstance(msg, FillUpdate):
            await self._on_fill(msg)
        elif isinstance(msg, UserOrderUpdate):
            await self._on_order(msg)
        elif isinstance(msg, MarketLifecycle) and msg.event_type == "settled" and await self._traded(msg.ticker):
            await self.settle(msg.ticker)

    async def _traded(self, ticker: str) -> bool:
        return bool(await self.manager.store.fills(ticker=ticker))

    async def settle(self, ticker: str | None = None) -> int:
        """Record the exchange's settlements (of ``ticker``, or all) not recorded yet; the manager has the
        breaker count each one once. Returns how many were new."""
        added = 0
        for s in await self.rest.settlements(ticker=ticker):
            if await self.manager.record_settlement(settlement_record(s, self._now())):
                added += 1
        self.counters.settlements += added
        return added

    async def _find(self, client_order_id: str | None, order_id: str) -> OrderRecord | None:
        cid = client_order_id or self.manager.client_order_id_of(order_id)
        if not cid:
            return None
        record = await self.manager.store.order(cid)
        if record is None or record.intent.mode is not self.manager.executor.mode:
            return None
        return record

    async def _on_fill(self, msg: FillUpdate) -> None:
        record = await self._find(msg.client_order_id, msg.order_id)
        if record is None:
            self._orphans.setdefault(msg.trade_id, _Waiting(self._mono(), message=msg))
            return
        self._orphans.pop(msg.trade_id, None)
        if msg.ticker != record.intent.ticker:
            self._error(f"fill {msg.trade_id} on {msg.ticker} names order {record.client_order_id} on "
                        f"{record.intent.ticker}; reading the order over REST")  # fmt: skip
            self._expect(record.client_order_id, record.filled_count + 1)
            return
        fill = ws_fill_record(record.intent, msg, self._now())
        if fill is None:  # no fee in the message: only the REST fill is trusted
            self._expect(record.client_order_id, record.filled_count + 1)
            return
        before = record.filled_count
        updated = await self.manager.add_fill(record, fill)
        self.counters.contracts += max(0, updated.filled_count - before)
        self._settle_expectation(updated)

    async def _on_order(self, msg: UserOrderUpdate) -> None:
        record = await self._find(msg.client_order_id, msg.order_id)
        if record is None:
            log.debug("account feed: order %s (%s) is not one of ours", msg.order_id, msg.client_order_id)
            return
        if record.exchange_order_id not in (None, msg.order_id):
            self._error(f"order update {msg.order_id} names {record.client_order_id}, known as "
                        f"{record.exchange_order_id}; ignored")  # fmt: skip
            return
        filled = _whole(msg.fill_count)
        state = state_of(msg.status, _whole(msg.initial_count), filled, msg.remaining_count)
        execution = Execution(record.client_order_id, state, msg.order_id, (), f"exchange: {msg.status}")
        updated = await self.manager.apply(record, execution)
        self.counters.order_updates += 1
        if filled > updated.filled_count:
            self._expect(record.client_order_id, filled)
        else:
            self._settle_expectation(updated)

    def _expect(self, client_order_id: str, filled: int) -> None:
        known = self._short.get(client_order_id)
        if known is None:
            self._short[client_order_id] = _Waiting(self._mono(), expected=filled)
        else:
            known.expected = max(known.expected, filled)

    def _settle_expectation(self, record: OrderRecord) -> None:
        known = self._short.get(record.client_order_id)
        if known is not None and record.filled_count >= known.expected:
            del self._short[record.client_order_id]

    # -- the REST backup --------------------------------------------------------------------------------

    async def _watch(self) -> None:
        while True:
            try:
                await self.check()
            except (ArbError, ApiError, TransportError) as exc:
                self._error(f"reconciliation failed: {exc}")
            await asyncio.sleep(self.check_every_s)

    async def check(self) -> None:
        """One pass of the backup: a new connection or lost account events reconcile everything open;
        messages past their grace are settled over REST; UNKNOWN orders are asked about now and then."""
        ws = self.ws
        if ws.connections != self._connections and self._handle is not None:
            if not ws.is_subscribed(self._handle):
                return  # reconcile once the new connection carries the channels again
            first = self._connections == 0
            self._connections = ws.connections
            self._dropped = ws.dropped_account_events
            await self.reconcile("subscribed" if first else f"reconnected (connection {ws.connections})")
            self.synced.set()
        elif ws.dropped_account_events != self._dropped:
            lost = ws.dropped_account_events - self._dropped
            self._dropped = ws.dropped_account_events
            await self.reconcile(f"{lost} account event(s) dropped by the WebSocket client")
        now = self._mono()
        for trade_id, waiting in list(self._orphans.items()):
            message = waiting.message
            assert message is not None
            if await self._find(message.client_order_id, message.order_id) is not None:
                del self._orphans[trade_id]
                await self._on_fill(message)
            elif now - waiting.since > self.grace_s:
                del self._orphans[trade_id]
                await self._foreign(message)
        for cid, waiting in list(self._short.items()):
            if now - waiting.since > self.grace_s:
                record = await self.manager.store.order(cid)
                self._short.pop(cid, None)
                if record is not None and record.filled_count < waiting.expected:
                    await self._resolve(record)
        if now - self._last_unknown_check >= self.unknown_every_s:
            self._last_unknown_check = now
            for record in await self.manager.store.orders(states=(OrderState.UNKNOWN,)):
                if record.intent.mode is self.manager.executor.mode:
                    await self._resolve(record)

    async def _resolve(self, record: OrderRecord) -> None:
        before = record.filled_count
        updated = await self.manager.resolve(record)
        self.counters.contracts += max(0, updated.filled_count - before)

    async def _foreign(self, msg: FillUpdate) -> None:
        """A fill of an order this engine never placed: its position cannot be explained, so nothing new
        leaves until the operator looks (``resume`` after checking)."""
        self.counters.unmatched += 1
        reason = (f"account feed: fill {msg.trade_id} of {msg.count} on {msg.ticker} (order {msg.order_id}) "
                  "belongs to no order of this engine")  # fmt: skip
        self._error(reason)
        now = self._now()
        data = {"ok": False, "source": "account_feed", "mismatches": [reason]}
        await self.manager.store.append_audit(AuditEvent(now, AuditKind.RECONCILE, msg.ticker, data))
        await self.breaker.fail_closed(reason, now)

    async def reconcile(self, reason: str) -> int:
        """Ask REST about every order still open at the exchange, record the fills it lists for our orders
        and the settlements; returns the contracts of the fills added. Audited as one ``reconcile`` event."""
        self.counters.reconciliations += 1
        self.counters.last_reconcile = reason
        store = self.manager.store
        mode = self.manager.executor.mode
        added = 0
        resolved = 0
        for record in await store.orders(states=OPEN_AT_EXCHANGE):
            if record.intent.mode is mode:
                before = record.filled_count
                updated = await self.manager.resolve(record)
                added += max(0, updated.filled_count - before)
                resolved += 1
        mine = {r.exchange_order_id: r for r in await store.orders() if r.exchange_order_id and r.intent.mode is mode}
        for raw in await self.rest.fills():
            owner = mine.get(raw.order_id)
            if owner is None:
                continue
            try:
                current = await self.manager.store.order(owner.client_order_id) or owner
                before = current.filled_count
                updated = await self.manager.add_fill(current, fill_record(current.intent, raw, self._now()))
                added += max(0, updated.filled_count - before)
            except ArbError as exc:
                self._error(f"fill {raw.fill_id} listed by REST does not fit: {exc}")
        self.counters.contracts += added
        settled = await self.settle()
        data = {"ok": True, "source": "account_feed", "reason": reason, "resolved": resolved, "contracts_added": added,
                "settlements_added": settled}  # fmt: skip
        await store.append_audit(AuditEvent(self._now(), AuditKind.RECONCILE, None, data))
        if added:
            log.warning("account feed: %s; REST reconciliation recorded %d missed contract(s)", reason, added)
        else:
            log.info("account feed: %s; REST reconciliation found nothing missed", reason)
        return added


def _whole(count: Decimal) -> int:
    if count != count.to_integral_value():
        raise ArbError(f"fractional contract count {count} on a whole-contract order")
    return int(count)
