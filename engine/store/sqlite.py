"""The default store: one SQLite file in WAL mode with ``synchronous=FULL``, driven from one worker thread.

WAL lets ``arbtui audit`` read while the engine writes; ``synchronous=FULL`` syncs the log on every commit,
so a recorded intent survives a crash of the process and of the machine. The stdlib ``sqlite3`` connection
lives on a single worker thread, which serialises every call without blocking the event loop. Every write
is one ``BEGIN IMMEDIATE`` transaction together with the audit event that describes it, so the log never
disagrees with the tables. If the awaiting coroutine is cancelled the write still completes or rolls back as
a whole; it is never half done.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
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
from engine.store.base import DuplicateOrderError, StoreError
from engine.store.location import MEMORY
from engine.store.migrations import MIGRATIONS, SCHEMA_TABLE, Migration

T = TypeVar("T")
BUSY_TIMEOUT_MS = 5000
"""How long a write waits for another process's write lock (e.g. a second engine) before failing."""

_SYNC_LEVELS = {0: "off", 1: "normal", 2: "full", 3: "extra"}
_ORDER_SELECT = f"SELECT {', '.join(codec.ORDER_COLUMNS)} FROM orders"
_FILL_SELECT = f"SELECT {', '.join(codec.FILL_COLUMNS)} FROM fills"
_SETTLEMENT_SELECT = f"SELECT {', '.join(codec.SETTLEMENT_COLUMNS)} FROM settlements"


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _connect(path: Path | str, migrations: Sequence[Migration], applied_at: str) -> sqlite3.Connection:
    if path != MEMORY:
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store's directory {Path(path).parent}: {exc.strerror}") from None
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the store {path}: {exc}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        _migrate(conn, migrations, applied_at)
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(f"cannot open the store {path}: {exc}") from None
    except BaseException:
        conn.close()
        raise
    return conn


def _migrate(conn: sqlite3.Connection, migrations: Sequence[Migration], applied_at: str) -> None:
    """Apply every migration newer than the file's version, each in its own transaction.

    The version is re-read under the write lock, so two processes opening the same new file at once apply
    each migration exactly once.
    """
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise StoreError(f"migrations must be numbered 1..n without gaps (got {versions})")
    conn.execute(SCHEMA_TABLE)
    current = _version(conn)
    if current > len(migrations):
        raise StoreError(
            f"the store is at schema version {current}, written by a newer arbtui "
            f"(this one knows up to {len(migrations)}); upgrade arbtui"
        )
    for migration in migrations[current:]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if _version(conn) < migration.version:
                for statement in migration.statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, applied_at),
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])


class SqliteStore:
    """:class:`engine.store.base.Store` on one SQLite file. Open with :meth:`open` (or ``open_store``)."""

    def __init__(self, path: Path | str, pool: ThreadPoolExecutor, conn: sqlite3.Connection) -> None:
        self._path = path
        self._pool = pool
        self._conn = conn
        self._closed = False

    @classmethod
    async def open(cls, path: Path | str, migrations: Sequence[Migration] = MIGRATIONS) -> SqliteStore:
        """Open (creating the file and its directory if needed) and migrate to the latest schema."""
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="arbtui-store")
        applied_at = codec.format_ts(datetime.now(UTC))
        try:
            conn = await asyncio.get_running_loop().run_in_executor(pool, _connect, path, migrations, applied_at)
        except BaseException:
            pool.shutdown(wait=False)
            raise
        return cls(path, pool, conn)

    @property
    def path(self) -> Path | str:
        return self._path

    async def __aenter__(self) -> SqliteStore:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # --- plumbing -----------------------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StoreError(f"the store {self._path} is closed")
        return await asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(self._guard, fn, *args))

    def _guard(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        except sqlite3.Error as exc:
            raise StoreError(f"store {self._path}: {exc}") from None

    def _tx(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``body`` in one write transaction: all of it is committed (and synced) or none of it."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = body(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    @staticmethod
    def _insert_audit(conn: sqlite3.Connection, event: AuditEvent) -> None:
        conn.execute(
            "INSERT INTO audit_events (ts, kind, ticker, data) VALUES (?, ?, ?, ?)", codec.audit_columns(event)
        )

    def _order_row(self, conn: sqlite3.Connection, client_order_id: str) -> OrderRecord | None:
        row = conn.execute(f"{_ORDER_SELECT} WHERE client_order_id = ?", (client_order_id,)).fetchone()
        return None if row is None else codec.order_from_row(row)

    # --- orders -------------------------------------------------------------------------------------------

    async def record_intent(self, intent: OrderIntent) -> OrderRecord:
        record = OrderRecord(intent=intent, state=OrderState.NEW, updated_at=intent.created_at)
        row = (*codec.intent_columns(intent), *codec.state_columns(record))
        event = codec.order_event(intent)

        def body(conn: sqlite3.Connection) -> OrderRecord | None:
            existing = self._order_row(conn, intent.client_order_id)
            if existing is not None:
                return existing
            conn.execute(f"INSERT INTO orders ({', '.join(codec.ORDER_COLUMNS)}) VALUES ({_marks(len(row))})", row)
            self._insert_audit(conn, event)
            return None

        existing = await self._call(self._tx, body)
        if existing is not None:
            raise DuplicateOrderError(existing)
        return record

    async def update_order(self, record: OrderRecord) -> None:
        cid = record.client_order_id
        values = codec.state_columns(record)

        def body(conn: sqlite3.Connection) -> None:
            existing = self._order_row(conn, cid)
            if existing is None:
                raise StoreError(f"order {cid} is not in the store; record its intent before updating it")
            if existing.intent != record.intent:
                raise StoreError(f"order {cid}: the intent differs from the one recorded; an intent never changes")
            if existing.state.terminal and not record.state.terminal:
                raise StoreError(
                    f"order {cid} is {existing.state.value}, a final state; it cannot become {record.state.value}"
                )
            assignments = ", ".join(f"{name} = ?" for name in codec.ORDER_STATE_COLUMNS)
            conn.execute(f"UPDATE orders SET {assignments} WHERE client_order_id = ?", (*values, cid))
            self._insert_audit(conn, codec.order_state_event(record, existing.state))

        await self._call(self._tx, body)

    async def order(self, client_order_id: str) -> OrderRecord | None:
        return await self._call(self._order_row, self._conn, client_order_id)

    async def orders(
        self, states: Collection[OrderState] | None = None, ticker: str | None = None
    ) -> list[OrderRecord]:
        clauses: list[str] = []
        params: list[Any] = []
        if states is not None:
            if not states:
                return []
            clauses.append(f"state IN ({_marks(len(states))})")
            params.extend(OrderState(s).value for s in states)
        if ticker is not None:
            clauses.append("ticker = ?")
            params.append(ticker)
        sql = f"{_ORDER_SELECT}{_where(clauses)} ORDER BY created_at, client_order_id"
        rows = await self._call(self._select, sql, params)
        return [codec.order_from_row(r) for r in rows]

    def _select(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return self._conn.execute(sql, params).fetchall()

    # --- fills and settlements ----------------------------------------------------------------------------

    async def record_fill(self, fill: FillRecord) -> bool:
        row = codec.fill_columns(fill)
        event = codec.fill_event(fill)

        def body(conn: sqlite3.Connection) -> bool:
            old = conn.execute(f"{_FILL_SELECT} WHERE fill_id = ?", (fill.fill_id,)).fetchone()
            if old is not None:
                if codec.fill_from_row(old) != fill:
                    raise StoreError(f"fill {fill.fill_id} is already recorded with different contents")
                return False
            conn.execute(f"INSERT INTO fills ({', '.join(codec.FILL_COLUMNS)}) VALUES ({_marks(len(row))})", row)
            self._insert_audit(conn, event)
            return True

        return await self._call(self._tx, body)

    async def fills(
        self, since: datetime | None = None, ticker: str | None = None, client_order_id: str | None = None
    ) -> list[FillRecord]:
        clauses: list[str] = []
        params: list[Any] = []
        if since is not None:
            clauses.append("ts >= ?")
            params.append(codec.format_ts(since, "since"))
        if ticker is not None:
            clauses.append("ticker = ?")
            params.append(ticker)
        if client_order_id is not None:
            clauses.append("client_order_id = ?")
            params.append(client_order_id)
        rows = await self._call(self._select, f"{_FILL_SELECT}{_where(clauses)} ORDER BY ts, fill_id", params)
        return [codec.fill_from_row(r) for r in rows]

    async def record_settlement(self, settlement: SettlementRecord) -> bool:
        row = codec.settlement_columns(settlement)
        event = codec.settlement_event(settlement)

        def body(conn: sqlite3.Connection) -> bool:
            old = conn.execute(f"{_SETTLEMENT_SELECT} WHERE ticker = ?", (settlement.ticker,)).fetchone()
            if old is not None:
                known = codec.settlement_from_row(old)
                if known.value != settlement.value or known.revenue != settlement.revenue:
                    raise StoreError(
                        f"{settlement.ticker} is already settled at {known.value} (revenue {known.revenue}); "
                        f"refusing {settlement.value} (revenue {settlement.revenue})"
                    )
                return False
            columns = ", ".join(codec.SETTLEMENT_COLUMNS)
            conn.execute(f"INSERT INTO settlements ({columns}) VALUES ({_marks(len(row))})", row)
            self._insert_audit(conn, event)
            return True

        return await self._call(self._tx, body)

    async def settlements(self) -> list[SettlementRecord]:
        rows = await self._call(self._select, f"{_SETTLEMENT_SELECT} ORDER BY ts, ticker", ())
        return [codec.settlement_from_row(r) for r in rows]

    # --- breaker, profile, audit --------------------------------------------------------------------------

    async def save_breaker(self, doc: Mapping[str, Any], ts: datetime) -> None:
        values = (codec.to_json(doc, "breaker state"), codec.format_ts(ts, "breaker state ts"))

        def body(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO breaker_state (id, doc, updated_at) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
                values,
            )

        await self._call(self._tx, body)

    async def load_breaker(self) -> dict[str, Any] | None:
        rows = await self._call(self._select, "SELECT doc FROM breaker_state WHERE id = 1", ())
        return codec.from_json(rows[0][0], "breaker state") if rows else None

    async def append_audit(self, event: AuditEvent) -> None:
        columns = codec.audit_columns(event)

        def body(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO audit_events (ts, kind, ticker, data) VALUES (?, ?, ?, ?)", columns)

        await self._call(self._tx, body)

    async def record_profile_change(self, name: str, overrides: Mapping[str, Any], ts: datetime) -> None:
        await self.append_audit(codec.profile_event(name, overrides, ts))

    async def audit(
        self,
        since: datetime | None = None,
        ticker: str | None = None,
        kinds: Collection[AuditKind] | None = None,
    ) -> list[AuditEvent]:
        clauses: list[str] = []
        params: list[Any] = []
        if since is not None:
            clauses.append("ts >= ?")
            params.append(codec.format_ts(since, "since"))
        if ticker is not None:
            clauses.append("ticker = ?")
            params.append(ticker)
        if kinds is not None:
            if not kinds:
                return []
            clauses.append(f"kind IN ({_marks(len(kinds))})")
            params.extend(AuditKind(k).value for k in kinds)
        sql = f"SELECT ts, kind, ticker, data FROM audit_events{_where(clauses)} ORDER BY ts, id"
        rows = await self._call(self._select, sql, params)
        return [codec.audit_from_row(r) for r in rows]

    async def schema_version(self) -> int:
        """The highest migration applied to this file (for diagnostics and tests)."""
        return await self._call(_version, self._conn)

    async def durability(self) -> dict[str, str]:
        """This connection's journal mode and sync level, as SQLite reports them (e.g. ``wal``, ``full``)."""

        def read() -> dict[str, str]:
            journal = str(self._conn.execute("PRAGMA journal_mode").fetchone()[0])
            sync = int(self._conn.execute("PRAGMA synchronous").fetchone()[0])
            return {"journal_mode": journal, "synchronous": _SYNC_LEVELS.get(sync, str(sync))}

        return await self._call(read)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._pool, self._conn.close)
        finally:
            self._pool.shutdown(wait=True)


def _where(clauses: list[str]) -> str:
    return f" WHERE {' AND '.join(clauses)}" if clauses else ""
