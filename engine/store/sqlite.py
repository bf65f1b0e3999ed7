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
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from engine.store import codec, sql
from engine.store.base import StoreError
from engine.store.location import MEMORY
from engine.store.migrations import MIGRATIONS, SCHEMA_TABLE, Migration
from engine.store.sqlbase import SqlStore

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


class SqliteStore(SqlStore):
    """:class:`engine.store.base.Store` on one SQLite file. Open with :meth:`open` (or ``open_store``)."""

    SQL = _SQL

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

    def _insert_once_in(self, conn: sqlite3.Connection, op: sql.InsertOnce[T]) -> T:
        if not conn.execute(op.insert, op.row).fetchall():
            return op.known(conn.execute(op.lookup, (op.key,)).fetchone())
        conn.execute(self.SQL.insert_audit, op.audit)
        return op.inserted

    def _update_in(self, conn: sqlite3.Connection, op: sql.OrderUpdate) -> None:
        audit = op.audit_for(conn.execute(op.lookup, (op.key,)).fetchone())
        conn.execute(op.update, op.values)
        conn.execute(self.SQL.insert_audit, audit)

    async def _insert_once(self, op: sql.InsertOnce[T]) -> T:
        return await self._call(self._tx, functools.partial(self._insert_once_in, op=op))

    async def _update(self, op: sql.OrderUpdate) -> None:
        await self._call(self._tx, functools.partial(self._update_in, op=op))

    async def _execute(self, statement: str, params: tuple[Any, ...]) -> None:
        await self._call(self._tx, lambda conn: conn.execute(statement, params))

    async def _select(self, read: sql.Read) -> list[Any]:
        return await self._call(lambda: self._conn.execute(read.sql, read.params).fetchall())

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
