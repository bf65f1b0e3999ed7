"""Fail closed when the database goes away: queue the writes in order, refuse new orders, replay when back.

The order manager must never send an order whose intent is not committed, and must never forget a fill the
exchange has acknowledged. When the server is lost (:class:`~engine.store.base.StoreUnavailableError`) this
wrapper therefore:

- refuses ``record_intent`` (no new order can be sent), and every read (a read would miss queued writes);
- queues every other write (order states, fills, settlements, breaker state, audit events) in call order,
  answering as the store would have from what it has seen (a ``fill_id`` already recorded or queued is not new);
- tells its listeners (the engine, which halts the breaker for new entries with the reason);
- retries in the background and, once the server answers, replays the queue in order before anything new is
  written, then tells the listeners it is back.

A write whose connection died during COMMIT may have committed: the replay is safe because fills and
settlements are idempotent by key and an order state is a replacement; at worst an audit event is doubled.
Records are validated before they are queued, so a bad record is refused to its caller at once, not later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from engine.execution.model import (
    AuditEvent,
    AuditKind,
    FillRecord,
    OrderIntent,
    OrderRecord,
    OrderState,
    SettlementRecord,
)
from engine.store import codec
from engine.store.base import Store, StoreError, StoreUnavailableError

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_S = 0.5
"""First pause before asking the server again; doubled after each failure up to :data:`MAX_RETRY_S`."""
MAX_RETRY_S = 5.0


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """Whether the database is reachable, why not, and how many writes wait for it.

    ``replayed`` is how many queued writes were committed when it came back; ``refused`` names queued writes
    the database rejected on replay (a conflicting record: a bug to look at, never silently dropped).
    """

    available: bool
    reason: str = ""
    queued: int = 0
    replayed: int = 0
    refused: tuple[str, ...] = ()


Listener = Callable[[StoreStatus], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Write:
    what: str
    run: Callable[[Store], Awaitable[Any]]


class FailClosedStore:
    """A :class:`~engine.store.base.Store` over ``inner`` that survives losing the database (see module doc)."""

    def __init__(self, inner: Store, *, retry_s: float = RETRY_S, max_retry_s: float = MAX_RETRY_S) -> None:
        self.inner = inner
        self._retry_s = retry_s
        self._max_retry_s = max(retry_s, max_retry_s)
        self._lock = asyncio.Lock()
        self._queue: deque[_Write] = deque()
        self._down: str | None = None
        self._listeners: list[Listener] = []
        self._recovery: asyncio.Task[None] | None = None
        self._up = asyncio.Event()
        self._up.set()
        self._fills_seen: set[str] = set()
        self._settled: dict[str, tuple[Decimal, Decimal]] = {}
        self._closed = False

    # --- status ---------------------------------------------------------------------------------------

    @property
    def status(self) -> StoreStatus:
        if self._down is None:
            return StoreStatus(True)
        return StoreStatus(False, self._down, len(self._queue))

    def add_listener(self, listener: Listener) -> None:
        """``listener`` is awaited with the new status when the database is lost and when it is back."""
        self._listeners.append(listener)

    async def wait_available(self) -> None:
        """Return once the database is reachable and every queued write is committed."""
        await self._up.wait()

    async def _notify(self, status: StoreStatus) -> None:
        for listener in list(self._listeners):
            try:
                await listener(status)
            except Exception:
                log.exception("store status listener failed")

    def _go_down(self, reason: str) -> bool:
        """Mark the database lost (caller holds the lock); True when this is news."""
        if self._down is not None:
            return False
        self._down = reason
        self._up.clear()
        log.error("database lost: %s; new orders refused, writes queued", reason)
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.get_running_loop().create_task(self._recover(), name="arbtui-store-recovery")
        return True

    # --- plumbing -------------------------------------------------------------------------------------

    def _unavailable(self) -> StoreUnavailableError:
        queued = f"; {len(self._queue)} writes queued" if self._queue else ""
        return StoreUnavailableError(f"{self._down}{queued}")

    async def _write(self, write: _Write, queued: T) -> T:
        """Run ``write`` now, or queue it behind earlier ones and answer ``queued``."""
        if self._closed:
            raise StoreError("the store is closed")
        async with self._lock:
            if self._down is not None:
                self._queue.append(write)
                return queued
            try:
                result: T = await write.run(self.inner)
                return result
            except StoreUnavailableError as exc:
                self._queue.append(write)
                news = self._go_down(str(exc))
        if news:
            await self._notify(self.status)
        return queued

    async def _read(self, read: Callable[[Store], Awaitable[T]]) -> T:
        if self._closed:
            raise StoreError("the store is closed")
        if self._down is not None:
            raise self._unavailable()
        try:
            return await read(self.inner)
        except StoreUnavailableError as exc:
            async with self._lock:
                news = self._go_down(str(exc))
            if news:
                await self._notify(self.status)
            raise

    async def _recover(self) -> None:
        delay = self._retry_s
        while True:
            await asyncio.sleep(delay)
            refused: list[str] = []
            replayed = 0
            async with self._lock:
                try:
                    while self._queue:
                        write = self._queue[0]
                        try:
                            await write.run(self.inner)
                            replayed += 1
                        except StoreUnavailableError:
                            raise
                        except StoreError as exc:
                            log.error("queued write %s refused on replay: %s", write.what, exc)
                            refused.append(f"{write.what}: {exc}")
                        self._queue.popleft()
                    await self.inner.load_breaker()  # the queue may have been empty: prove the server answers
                except StoreUnavailableError as exc:
                    self._down = str(exc)
                    delay = min(delay * 2, self._max_retry_s)
                    continue
                self._down = None
                self._up.set()
            log.warning("database back: %d queued writes committed in order", replayed)
            await self._notify(StoreStatus(True, replayed=replayed, refused=tuple(refused)))
            return

    # --- orders ---------------------------------------------------------------------------------------

    async def record_intent(self, intent: OrderIntent) -> OrderRecord:
        """Never queued: an order whose intent is not committed must not be sent."""
        if self._closed:
            raise StoreError("the store is closed")
        if self._down is not None:
            raise StoreUnavailableError(f"order {intent.client_order_id} not recorded, so not sent: {self._down}")
        try:
            return await self.inner.record_intent(intent)
        except StoreUnavailableError as exc:
            async with self._lock:
                news = self._go_down(str(exc))
            if news:
                await self._notify(self.status)
            raise

    async def update_order(self, record: OrderRecord) -> None:
        codec.intent_columns(record.intent)
        codec.state_columns(record)  # a bad record is refused now, not on replay
        await self._write(_Write(f"order {record.client_order_id} {record.state.value}",
                                 lambda s: s.update_order(record)), None)  # fmt: skip

    async def order(self, client_order_id: str) -> OrderRecord | None:
        return await self._read(lambda s: s.order(client_order_id))

    async def orders(
        self, states: Collection[OrderState] | None = None, ticker: str | None = None
    ) -> list[OrderRecord]:
        return await self._read(lambda s: s.orders(states, ticker))

    # --- fills and settlements ------------------------------------------------------------------------

    async def record_fill(self, fill: FillRecord) -> bool:
        codec.fill_columns(fill)
        if self._down is not None and fill.fill_id in self._fills_seen:
            return False
        new: bool = await self._write(_Write(f"fill {fill.fill_id}", lambda s: s.record_fill(fill)), True)
        self._fills_seen.add(fill.fill_id)
        return new

    async def fills(
        self, since: datetime | None = None, ticker: str | None = None, client_order_id: str | None = None
    ) -> list[FillRecord]:
        found = await self._read(lambda s: s.fills(since, ticker, client_order_id))
        self._fills_seen.update(f.fill_id for f in found)
        return found

    async def record_settlement(self, settlement: SettlementRecord) -> bool:
        codec.settlement_columns(settlement)
        known = self._settled.get(settlement.ticker)
        if self._down is not None and known is not None:
            if known != (settlement.value, settlement.revenue):
                raise StoreError(
                    f"{settlement.ticker} is already settled at {known[0]} (revenue {known[1]}); "
                    f"refusing {settlement.value} (revenue {settlement.revenue})"
                )
            return False
        write = _Write(f"settlement {settlement.ticker}", lambda s: s.record_settlement(settlement))
        new: bool = await self._write(write, True)
        self._settled[settlement.ticker] = (settlement.value, settlement.revenue)
        return new

    async def settlements(self) -> list[SettlementRecord]:
        found = await self._read(lambda s: s.settlements())
        self._settled.update({s.ticker: (s.value, s.revenue) for s in found})
        return found

    # --- breaker, profile, audit ----------------------------------------------------------------------

    async def save_breaker(self, doc: Mapping[str, Any], ts: datetime) -> None:
        codec.to_json(doc, "breaker state")
        codec.format_ts(ts, "breaker state ts")
        frozen = dict(doc)
        await self._write(_Write("breaker state", lambda s: s.save_breaker(frozen, ts)), None)

    async def load_breaker(self) -> dict[str, Any] | None:
        return await self._read(lambda s: s.load_breaker())

    async def append_audit(self, event: AuditEvent) -> None:
        codec.audit_columns(event)
        await self._write(_Write(f"audit {AuditKind(event.kind).value}", lambda s: s.append_audit(event)), None)

    async def record_profile_change(self, name: str, overrides: Mapping[str, Any], ts: datetime) -> None:
        await self.append_audit(codec.profile_event(name, overrides, ts))

    async def audit(
        self,
        since: datetime | None = None,
        ticker: str | None = None,
        kinds: Collection[AuditKind] | None = None,
    ) -> list[AuditEvent]:
        return await self._read(lambda s: s.audit(since, ticker, kinds))

    async def close(self) -> None:
        """Close; writes still queued get one last attempt, and if the server is still gone the error names
        how many were not stored (restart reconciliation then rebuilds from the exchange)."""
        if self._closed:
            return
        self._closed = True
        task, self._recovery = self._recovery, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        pending = 0
        try:
            async with self._lock:
                while self._queue:
                    try:
                        await self._queue[0].run(self.inner)
                    except StoreUnavailableError:
                        break
                    except StoreError as exc:
                        log.error("queued write %s refused at close: %s", self._queue[0].what, exc)
                    self._queue.popleft()
                pending = len(self._queue)
        finally:
            await self.inner.close()
        if pending:
            raise StoreError(
                f"{pending} writes could not reach the database ({self._down}); they are not stored; "
                "the next start reconciles with the exchange"
            )
