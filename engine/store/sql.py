"""The SQL stores' shared core: every statement, every filter and every record check, written once.

SQLite and PostgreSQL hold the same rows (:mod:`engine.store.codec`) and must answer the same contract, so
what they say to the database and how they judge what comes back must not be written twice. What differs
between them is small and lives in a :class:`Dialect`: how a parameter is marked, how text is compared (byte
order on PostgreSQL needs ``COLLATE "C"``), how a row is locked before it is replaced, and how a set of
values is passed. Each backend keeps only its driver, its transactions and its connection handling; a
write is described here as data (:class:`InsertOnce`, :class:`OrderUpdate`) that the backend carries out
inside one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

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
from engine.store.base import DuplicateOrderError, StoreError
from engine.store.migrations import Migration

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Dialect:
    """What one database's SQL needs that the other's does not."""

    name: str
    """``"sqlite"`` or ``"postgresql"`` (the key :meth:`Migration.statements_for` takes)."""
    numbered: bool
    """Parameters are ``$1, $2`` (PostgreSQL) rather than ``?``."""
    collate: str
    """Appended to a text column that is compared or sorted, so time and key order are byte order."""
    lock: str
    """Appended to the read of an order that is about to be replaced, so concurrent writers queue on it."""
    arrays: bool
    """A set of values is one array parameter (``= ANY($n::text[])``) rather than one mark per value."""

    def mark(self, position: int) -> str:
        """The placeholder of the ``position``-th parameter (1-based)."""
        return f"${position}" if self.numbered else "?"

    def marks(self, count: int, start: int = 1) -> str:
        return ", ".join(self.mark(i) for i in range(start, start + count))


SQLITE = Dialect("sqlite", numbered=False, collate="", lock="", arrays=False)
POSTGRES = Dialect("postgresql", numbered=True, collate=' COLLATE "C"', lock=" FOR UPDATE", arrays=True)

_AUDIT_COLUMNS = ("ts", "kind", "ticker", "data")


def _insert_once(d: Dialect, table: str, columns: Sequence[str], key: str) -> str:
    """An insert that does nothing when ``key`` is taken and returns the key only when it inserted."""
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({d.marks(len(columns))}) "
        f"ON CONFLICT ({key}) DO NOTHING RETURNING {key}"
    )


def _select(columns: Sequence[str], table: str) -> str:
    return f"SELECT {', '.join(columns)} FROM {table}"


@dataclass(frozen=True, slots=True)
class Statements:
    """Every fixed statement of one dialect, built once when the backend module loads."""

    dialect: Dialect
    select_orders: str
    select_fills: str
    select_settlements: str
    order_by_id: str
    order_by_id_locked: str
    fill_by_id: str
    settlement_by_ticker: str
    insert_order: str
    insert_fill: str
    insert_settlement: str
    update_order: str
    """The state columns then the ``client_order_id``."""
    insert_audit: str
    save_breaker: str
    load_breaker: str
    all_settlements: str
    schema_version: str
    record_migration: str

    @classmethod
    def of(cls, d: Dialect) -> Statements:
        orders = _select(codec.ORDER_COLUMNS, "orders")
        fills = _select(codec.FILL_COLUMNS, "fills")
        settlements = _select(codec.SETTLEMENT_COLUMNS, "settlements")
        assignments = ", ".join(f"{name} = {d.mark(i)}" for i, name in enumerate(codec.ORDER_STATE_COLUMNS, 1))
        by_id = f"{orders} WHERE client_order_id = {d.mark(1)}"
        c = d.collate
        return cls(
            dialect=d,
            select_orders=orders,
            select_fills=fills,
            select_settlements=settlements,
            order_by_id=by_id,
            order_by_id_locked=by_id + d.lock,
            fill_by_id=f"{fills} WHERE fill_id = {d.mark(1)}",
            settlement_by_ticker=f"{settlements} WHERE ticker = {d.mark(1)}",
            insert_order=_insert_once(d, "orders", codec.ORDER_COLUMNS, "client_order_id"),
            insert_fill=_insert_once(d, "fills", codec.FILL_COLUMNS, "fill_id"),
            insert_settlement=_insert_once(d, "settlements", codec.SETTLEMENT_COLUMNS, "ticker"),
            update_order=(
                f"UPDATE orders SET {assignments} WHERE client_order_id = {d.mark(len(codec.ORDER_STATE_COLUMNS) + 1)}"
            ),
            insert_audit=f"INSERT INTO audit_events ({', '.join(_AUDIT_COLUMNS)}) VALUES ({d.marks(4)})",
            save_breaker=(
                f"INSERT INTO breaker_state (id, doc, updated_at) VALUES (1, {d.marks(2)}) "
                "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at"
            ),
            load_breaker="SELECT doc FROM breaker_state WHERE id = 1",
            all_settlements=f"{settlements} ORDER BY ts{c}, ticker{c}",
            schema_version="SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            record_migration=f"INSERT INTO schema_migrations (version, name, applied_at) VALUES ({d.marks(3)})",
        )


# --- writes, as data ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InsertOnce(Generic[R]):
    """Insert ``row`` with its audit event unless ``key`` is already stored.

    The backend runs ``insert`` (which returns a row only when it inserted); if it inserted, it appends
    ``audit`` and the call returns ``inserted``; if not, it reads ``lookup`` for ``key`` and the call returns
    ``known(that_row)``, which raises when the stored record conflicts with the new one.
    """

    insert: str
    row: tuple[Any, ...]
    audit: tuple[Any, ...]
    inserted: R
    lookup: str
    key: str
    known: Callable[[Any], R]


def intent_write(st: Statements, intent: OrderIntent) -> InsertOnce[OrderRecord]:
    """A new order (state NEW); a known ``client_order_id`` raises :class:`DuplicateOrderError`."""
    record = OrderRecord(intent=intent, state=OrderState.NEW, updated_at=intent.created_at)

    def known(row: Any) -> OrderRecord:
        raise DuplicateOrderError(codec.order_from_row(row))

    return InsertOnce(
        insert=st.insert_order,
        row=(*codec.intent_columns(intent), *codec.state_columns(record)),
        audit=codec.audit_columns(codec.order_event(intent)),
        inserted=record,
        lookup=st.order_by_id,
        key=intent.client_order_id,
        known=known,
    )


def fill_write(st: Statements, fill: FillRecord) -> InsertOnce[bool]:
    """A fill, True when new; a known ``fill_id`` is False, or an error if its contents differ."""

    def known(row: Any) -> bool:
        if row is not None and codec.fill_from_row(row) != fill:
            raise StoreError(f"fill {fill.fill_id} is already recorded with different contents")
        return False

    return InsertOnce(
        insert=st.insert_fill,
        row=codec.fill_columns(fill),
        audit=codec.audit_columns(codec.fill_event(fill)),
        inserted=True,
        lookup=st.fill_by_id,
        key=fill.fill_id,
        known=known,
    )


def settlement_write(st: Statements, settlement: SettlementRecord) -> InsertOnce[bool]:
    """A settlement, True when new; the same one again is False, a different value or revenue an error."""

    def known(row: Any) -> bool:
        stored = codec.settlement_from_row(row)
        if stored.value != settlement.value or stored.revenue != settlement.revenue:
            raise StoreError(
                f"{settlement.ticker} is already settled at {stored.value} (revenue {stored.revenue}); "
                f"refusing {settlement.value} (revenue {settlement.revenue})"
            )
        return False

    return InsertOnce(
        insert=st.insert_settlement,
        row=codec.settlement_columns(settlement),
        audit=codec.audit_columns(codec.settlement_event(settlement)),
        inserted=True,
        lookup=st.settlement_by_ticker,
        key=settlement.ticker,
        known=known,
    )


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """Replace an order's state: the backend reads ``lookup`` (locked) for ``key``, passes the stored record
    (or None) to :meth:`audit_for`, then runs ``update`` with ``values`` and appends that audit event."""

    record: OrderRecord
    lookup: str
    key: str
    update: str
    values: tuple[Any, ...]

    def audit_for(self, row: Any) -> tuple[Any, ...]:
        """The audit columns of the change from the stored ``row``; raises when the change is not allowed."""
        record, cid = self.record, self.key
        if row is None:
            raise StoreError(f"order {cid} is not in the store; record its intent before updating it")
        existing = codec.order_from_row(row)
        if existing.intent != record.intent:
            raise StoreError(f"order {cid}: the intent differs from the one recorded; an intent never changes")
        if existing.state.terminal and not record.state.terminal:
            raise StoreError(
                f"order {cid} is {existing.state.value}, a final state; it cannot become {record.state.value}"
            )
        return codec.audit_columns(codec.order_state_event(record, existing.state))


def order_update(st: Statements, record: OrderRecord) -> OrderUpdate:
    cid = record.client_order_id
    return OrderUpdate(record, st.order_by_id_locked, cid, st.update_order, (*codec.state_columns(record), cid))


def breaker_values(doc: Any, ts: datetime) -> tuple[str, str]:
    """The breaker document and its time as stored (checked first: a bad document is refused, not written)."""
    return codec.to_json(doc, "breaker state"), codec.format_ts(ts, "breaker state ts")


# --- reads ----------------------------------------------------------------------------------------------------


class _Filter:
    """The WHERE clause of a read, with its parameters numbered the way the dialect wants them."""

    def __init__(self, d: Dialect) -> None:
        self._d = d
        self.clauses: list[str] = []
        self.params: list[Any] = []
        self.empty = False
        """A filter on an empty set: the read matches nothing and need not be sent."""

    def _next(self, value: Any) -> str:
        self.params.append(value)
        return self._d.mark(len(self.params))

    def equals(self, column: str, value: str | None) -> None:
        if value is not None:
            self.clauses.append(f"{column} = {self._next(value)}")

    def since(self, column: str, since: datetime | None) -> None:
        if since is not None:
            self.clauses.append(f"{column}{self._d.collate} >= {self._next(codec.format_ts(since, 'since'))}")

    def any_of(self, column: str, values: Collection[str] | None) -> None:
        if values is None:
            return
        if not values:
            self.empty = True
        elif self._d.arrays:
            self.clauses.append(f"{column} = ANY({self._next(list(values))}::text[])")
        else:
            start = len(self.params) + 1
            self.params.extend(values)
            self.clauses.append(f"{column} IN ({self._d.marks(len(values), start)})")

    def read(self, head: str, order: Sequence[str]) -> Read | None:
        if self.empty:
            return None
        where = f" WHERE {' AND '.join(self.clauses)}" if self.clauses else ""
        return Read(f"{head}{where} ORDER BY {', '.join(order)}", tuple(self.params))


@dataclass(frozen=True, slots=True)
class Read:
    """One SELECT and its parameters."""

    sql: str
    params: tuple[Any, ...]


def orders_read(st: Statements, states: Collection[OrderState] | None, ticker: str | None) -> Read | None:
    """Orders in creation order, optionally in ``states`` and/or on ``ticker``; None when ``states`` is empty."""
    f = _Filter(st.dialect)
    f.any_of("state", None if states is None else [OrderState(s).value for s in states])
    f.equals("ticker", ticker)
    c = st.dialect.collate
    return f.read(st.select_orders, (f"created_at{c}", f"client_order_id{c}"))


def fills_read(st: Statements, since: datetime | None, ticker: str | None, client_order_id: str | None) -> Read | None:
    f = _Filter(st.dialect)
    f.since("ts", since)
    f.equals("ticker", ticker)
    f.equals("client_order_id", client_order_id)
    c = st.dialect.collate
    return f.read(st.select_fills, (f"ts{c}", f"fill_id{c}"))


def audit_read(
    st: Statements, since: datetime | None, ticker: str | None, kinds: Collection[AuditKind] | None
) -> Read | None:
    f = _Filter(st.dialect)
    f.since("ts", since)
    f.equals("ticker", ticker)
    f.any_of("kind", None if kinds is None else [AuditKind(k).value for k in kinds])
    return f.read(_select(_AUDIT_COLUMNS, "audit_events"), (f"ts{st.dialect.collate}", "id"))


def decode_orders(rows: Sequence[Any]) -> list[OrderRecord]:
    return [codec.order_from_row(r) for r in rows]


def decode_fills(rows: Sequence[Any]) -> list[FillRecord]:
    return [codec.fill_from_row(r) for r in rows]


def decode_settlements(rows: Sequence[Any]) -> list[SettlementRecord]:
    return [codec.settlement_from_row(r) for r in rows]


def decode_audit(rows: Sequence[Any]) -> list[AuditEvent]:
    return [codec.audit_from_row(r) for r in rows]


# --- migrations -----------------------------------------------------------------------------------------------


def check_numbering(migrations: Sequence[Migration]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise StoreError(f"migrations must be numbered 1..n without gaps (got {versions})")


def refuse_newer(current: int, migrations: Sequence[Migration], what: str) -> None:
    """A schema newer than this code knows is left untouched and refused, naming both versions."""
    if current > len(migrations):
        raise StoreError(
            f"the {what} is at schema version {current}, written by a newer arbtui "
            f"(this one knows up to {len(migrations)}); upgrade arbtui"
        )
