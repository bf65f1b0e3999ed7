"""Every :class:`~engine.store.base.Store` call of the SQL stores, written once over four driver primitives.

What a call writes, reads and checks is the same on SQLite and PostgreSQL (:mod:`engine.store.sql`); only
how a statement reaches the database differs: a worker thread and ``BEGIN IMMEDIATE`` for SQLite, a pooled
connection, a transaction and :func:`asyncio.shield` for PostgreSQL. So a backend subclasses
:class:`SqlStore` and supplies its dialect's statements and the primitives, each of which runs one whole
transaction; it never re-implements a Store method.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from engine.execution.model import (
    AuditEvent,
    AuditKind,
    FillRecord,
    OrderIntent,
    OrderRecord,
    OrderState,
    SettlementRecord,
)
from engine.store import codec, sql

T = TypeVar("T")


class SqlStore(ABC):
    """A Store whose backend provides :attr:`SQL` and the four transaction primitives below."""

    SQL: ClassVar[sql.Statements]

    @abstractmethod
    async def _insert_once(self, op: sql.InsertOnce[T]) -> T:
        """Carry out ``op`` (see :class:`~engine.store.sql.InsertOnce`) as one write transaction."""

    @abstractmethod
    async def _update(self, op: sql.OrderUpdate) -> None:
        """Carry out ``op`` (see :class:`~engine.store.sql.OrderUpdate`) as one write transaction."""

    @abstractmethod
    async def _execute(self, statement: str, params: tuple[Any, ...]) -> None:
        """One statement as one write transaction."""

    @abstractmethod
    async def _select(self, read: sql.Read) -> list[Any]:
        """The rows of one read."""

    async def _rows(self, read: sql.Read | None) -> list[Any]:
        return [] if read is None else await self._select(read)

    # --- orders -------------------------------------------------------------------------------------------

    async def record_intent(self, intent: OrderIntent) -> OrderRecord:
        return await self._insert_once(sql.intent_write(self.SQL, intent))

    async def update_order(self, record: OrderRecord) -> None:
        await self._update(sql.order_update(self.SQL, record))

    async def order(self, client_order_id: str) -> OrderRecord | None:
        rows = await self._select(sql.Read(self.SQL.order_by_id, (client_order_id,)))
        return sql.decode_orders(rows)[0] if rows else None

    async def orders(
        self, states: Collection[OrderState] | None = None, ticker: str | None = None
    ) -> list[OrderRecord]:
        return sql.decode_orders(await self._rows(sql.orders_read(self.SQL, states, ticker)))

    # --- fills and settlements ----------------------------------------------------------------------------

    async def record_fill(self, fill: FillRecord) -> bool:
        return await self._insert_once(sql.fill_write(self.SQL, fill))

    async def fills(
        self, since: datetime | None = None, ticker: str | None = None, client_order_id: str | None = None
    ) -> list[FillRecord]:
        return sql.decode_fills(await self._rows(sql.fills_read(self.SQL, since, ticker, client_order_id)))

    async def record_settlement(self, settlement: SettlementRecord) -> bool:
        return await self._insert_once(sql.settlement_write(self.SQL, settlement))

    async def settlements(self) -> list[SettlementRecord]:
        return sql.decode_settlements(await self._select(sql.Read(self.SQL.all_settlements, ())))

    # --- breaker, profile, audit --------------------------------------------------------------------------

    async def save_breaker(self, doc: Mapping[str, Any], ts: datetime) -> None:
        await self._execute(self.SQL.save_breaker, sql.breaker_values(doc, ts))

    async def load_breaker(self) -> dict[str, Any] | None:
        rows = await self._select(sql.Read(self.SQL.load_breaker, ()))
        return codec.from_json(rows[0][0], "breaker state") if rows else None

    async def append_audit(self, event: AuditEvent) -> None:
        await self._execute(self.SQL.insert_audit, codec.audit_columns(event))

    async def record_profile_change(self, name: str, overrides: Mapping[str, Any], ts: datetime) -> None:
        await self.append_audit(codec.profile_event(name, overrides, ts))

    async def audit(
        self,
        since: datetime | None = None,
        ticker: str | None = None,
        kinds: Collection[AuditKind] | None = None,
    ) -> list[AuditEvent]:
        return sql.decode_audit(await self._rows(sql.audit_read(self.SQL, since, ticker, kinds)))

    @abstractmethod
    async def close(self) -> None:
        """Release the database; any later call raises :class:`~engine.store.base.StoreError`. Idempotent."""
