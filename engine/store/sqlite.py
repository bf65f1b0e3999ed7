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
from engine.store import codec, sql
from engine.store.base import StoreError
from engine.store.location import MEMORY
from engine.store.migrations import MIGRATIONS, SCHEMA_TABLE, Migration

T = TypeVar("T")
BUSY_TIMEOUT_MS = 5000
"""How long a write waits for another process's write lock (e.g. a second engine) before failing."""

_SYNC_LEVELS = {0: "off", 1: "normal", 2: "full", 3: "extra"}
_SQL = sql.Statements.of(sql.SQLITE)


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
    sql.check_numbering(migrations)
    conn.execute(SCHEMA_TABLE)
    current = _version(conn)
    sql.refuse_newer(current, migrations, "store")
    for migration in migrations[current:]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if _version(conn) < migration.version:
                for statement in migration.statements_for(sql.SQLITE.name):
                    conn.execute(statement)
                conn.execute(_SQL.record_migration, (migration.version, migration.name, applied_at))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute(_SQL.schema_version).fetchone()[0])


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

    def _insert_once(self, conn: sqlite3.Connection, op: sql.InsertOnce[T]) -> T:
        if not conn.execute(op.insert, op.row).fetchall():
            return op.known(conn.execute(op.lookup, (op.key,)).fetchone())
        conn.execute(_SQL.insert_audit, op.audit)
        return op.inserted

    def _update(self, conn: sqlite3.Connection, op: sql.OrderUpdate) -> None:
        audit = op.audit_for(conn.execute(op.lookup, (op.key,)).fetchone())
        conn.execute(op.update, op.values)
        conn.execute(_SQL.insert_audit, audit)

    def _select(self, read: sql.Read) -> list[Any]:
        return self._conn.execute(read.sql, read.params).fetchall()

    async def _read(self, read: sql.Read | None) -> list[Any]:
        return [] if read is None else await self._call(self._select, read)

    # --- orders -------------------------------------------------------------------------------------------

    async def record_intent(self, intent: OrderIntent) -> OrderRecord:
        op = sql.intent_write(_SQL, intent)
        return await self._call(self._tx, lambda conn: self._insert_once(conn, op))

    async def update_order(self, record: OrderRecord) -> None:
        op = sql.order_update(_SQL, record)
        await self._call(self._tx, lambda conn: self._update(conn, op))

    async def order(self, client_order_id: str) -> OrderRecord | None:
        rows = await self._read(sql.Read(_SQL.order_by_id, (client_order_id,)))
        return sql.decode_orders(rows)[0] if rows else None

    async def orders(
        self, states: Collection[OrderState] | None = None, ticker: str | None = None
    ) -> list[OrderRecord]:
        return sql.decode_orders(await self._read(sql.orders_read(_SQL, states, ticker)))

    # --- fills and settlements ----------------------------------------------------------------------------

    async def record_fill(self, fill: FillRecord) -> bool:
        op = sql.fill_write(_SQL, fill)
        return await self._call(self._tx, lambda conn: self._insert_once(conn, op))

    async def fills(
        self, since: datetime | None = None, ticker: str | None = None, client_order_id: str | None = None
    ) -> list[FillRecord]:
        return sql.decode_fills(await self._read(sql.fills_read(_SQL, since, ticker, client_order_id)))

    async def record_settlement(self, settlement: SettlementRecord) -> bool:
        op = sql.settlement_write(_SQL, settlement)
        return await self._call(self._tx, lambda conn: self._insert_once(conn, op))

    async def settlements(self) -> list[SettlementRecord]:
        return sql.decode_settlements(await self._read(sql.Read(_SQL.all_settlements, ())))

    # --- breaker, profile, audit --------------------------------------------------------------------------

    async def save_breaker(self, doc: Mapping[str, Any], ts: datetime) -> None:
        values = sql.breaker_values(doc, ts)
        await self._call(self._tx, lambda conn: conn.execute(_SQL.save_breaker, values))

    async def load_breaker(self) -> dict[str, Any] | None:
        rows = await self._read(sql.Read(_SQL.load_breaker, ()))
        return codec.from_json(rows[0][0], "breaker state") if rows else None

    async def append_audit(self, event: AuditEvent) -> None:
        columns = codec.audit_columns(event)
        await self._call(self._tx, lambda conn: conn.execute(_SQL.insert_audit, columns))

    async def record_profile_change(self, name: str, overrides: Mapping[str, Any], ts: datetime) -> None:
        await self.append_audit(codec.profile_event(name, overrides, ts))

    async def audit(
        self,
        since: datetime | None = None,
        ticker: str | None = None,
        kinds: Collection[AuditKind] | None = None,
    ) -> list[AuditEvent]:
        return sql.decode_audit(await self._read(sql.audit_read(_SQL, since, ticker, kinds)))

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
