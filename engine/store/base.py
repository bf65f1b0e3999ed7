"""The store interface: what must survive a crash, behind one async Protocol free of any database's types.

The order manager commits an order's intent here BEFORE sending it, so a process that dies between the send
and the acknowledgement still knows the order exists and can resolve it against the exchange by
``client_order_id`` on restart. SQLite is the default implementation (:mod:`engine.store.sqlite`);
PostgreSQL comes later behind the same Protocol, which is why nothing here names a SQLite type.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, Protocol

from engine.errors import ArbError
from engine.execution.model import (
    AuditEvent,
    AuditKind,
    FillRecord,
    OrderIntent,
    OrderRecord,
    OrderState,
    SettlementRecord,
)


class StoreError(ArbError):
    """The store cannot do what was asked (missing or corrupt file, newer schema, bad record); one line."""


class DuplicateOrderError(StoreError):
    """``record_intent`` for a ``client_order_id`` the store already holds.

    Raised instead of returning the old record so that a caller can never mistake an order that may already
    be at the exchange for a fresh one and send it a second time. ``existing`` is what the store holds.
    """

    def __init__(self, existing: OrderRecord) -> None:
        self.existing = existing
        super().__init__(
            f"order {existing.client_order_id} is already recorded (state {existing.state.value}); not sending it again"
        )


class StoreUnavailableError(StoreError):
    """The database cannot be reached (connection lost, refused or timed out): the write was not committed.

    Distinct from :class:`StoreError` because it is temporary and says nothing about the record: the
    fail-closed wrapper (:mod:`engine.store.failclosed`) queues the write and halts new entries on it, where a
    plain :class:`StoreError` (a bad record) must reach the caller.
    """


class Store(Protocol):
    """Durable record of orders, fills, settlements, breaker state and the audit log.

    Every write is committed (and, on SQLite, synced to disk) before the coroutine returns. Timestamps are
    timezone-aware; a naive ``datetime`` is refused with :class:`StoreError`. Money round-trips exactly
    (``Decimal`` in, the same ``Decimal`` out).
    """

    async def record_intent(self, intent: OrderIntent) -> OrderRecord:
        """Commit a new order (state NEW, ``updated_at`` = ``intent.created_at``) and an ``order`` audit event,
        before anything is sent; returns the record as stored.

        Raises :class:`DuplicateOrderError` if the ``client_order_id`` is already known, whatever its state.
        """
        ...

    async def update_order(self, record: OrderRecord) -> None:
        """Replace an order's state, fill totals and exchange id; appends an ``order_state`` audit event.

        Raises :class:`StoreError` for an unknown ``client_order_id`` or an intent that differs from the one
        recorded (an intent never changes after it is committed).
        """
        ...

    async def record_fill(self, fill: FillRecord) -> bool:
        """Commit a fill and its ``fill`` audit event; False (and nothing written) when ``fill_id`` is known.

        A known ``fill_id`` with different contents raises :class:`StoreError`: the exchange never changes a
        fill, so a mismatch is a bug or a mapping error and must not be silently dropped.
        """
        ...

    async def record_settlement(self, settlement: SettlementRecord) -> bool:
        """Commit a market's settlement and its audit event; False when the ticker is already settled the
        same way, :class:`StoreError` when it is already settled at a different value."""
        ...

    async def order(self, client_order_id: str) -> OrderRecord | None: ...

    async def orders(
        self, states: Collection[OrderState] | None = None, ticker: str | None = None
    ) -> list[OrderRecord]:
        """Orders in creation order, optionally only those in ``states`` and/or on ``ticker``."""
        ...

    async def fills(
        self, since: datetime | None = None, ticker: str | None = None, client_order_id: str | None = None
    ) -> list[FillRecord]:
        """Fills in time order (``ts >= since``), optionally one market's or one order's."""
        ...

    async def settlements(self) -> list[SettlementRecord]:
        """Every settlement, in time order."""
        ...

    async def save_breaker(self, doc: Mapping[str, Any], ts: datetime) -> None:
        """Replace the persisted breaker state; ``doc`` is JSON-ready and its shape is ``engine.risk``'s."""
        ...

    async def load_breaker(self) -> dict[str, Any] | None:
        """The last saved breaker document, or None if none was ever saved."""
        ...

    async def append_audit(self, event: AuditEvent) -> None:
        """Commit one audit event. Kinds with required fields (``order``, ``order_state``, ``decision``,
        ``fill``) are refused with :class:`StoreError` when one is missing; ``Decimal`` and ``datetime``
        values in ``data`` are stored as strings."""
        ...

    async def audit(
        self,
        since: datetime | None = None,
        ticker: str | None = None,
        kinds: Collection[AuditKind] | None = None,
    ) -> list[AuditEvent]:
        """Audit events in time order (``ts >= since``), optionally one market's and/or some kinds only."""
        ...

    async def record_profile_change(self, name: str, overrides: Mapping[str, Any], ts: datetime) -> None:
        """Commit a trading-profile switch (a ``profile`` audit event with the name and overrides)."""
        ...

    async def close(self) -> None:
        """Release the database; any later call raises :class:`StoreError`. Idempotent."""
        ...
