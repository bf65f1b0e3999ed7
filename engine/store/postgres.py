"""The production store: PostgreSQL through an asyncpg pool, the same :class:`~engine.store.base.Store`.

Rows hold exactly what the SQLite store holds (decimal text for money, fixed-width UTC text for time, via
:mod:`engine.store.codec`), so the two stores cannot disagree about a record and a test suite can run one
contract against both. Every write is one transaction with the audit event that describes it; concurrent
writers (several tasks, or several processes) are serialised per row by ``ON CONFLICT`` inserts and
``SELECT ... FOR UPDATE``, never by a lock in this process. Text is compared and sorted with ``COLLATE "C"``
so time order and key order are byte order whatever the database's collation.

A write runs in its own task and is awaited through :func:`asyncio.shield`: a cancelled caller never leaves
a transaction half sent; it commits or rolls back as a whole. Losing the server (a terminated backend, a
refused or timed-out connection) raises :class:`~engine.store.base.StoreUnavailableError`, which the
fail-closed wrapper turns into a halt and a queue; any other database error is a one-line
:class:`~engine.store.base.StoreError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

import asyncpg

from engine.store import codec, sql
from engine.store.base import StoreError, StoreUnavailableError
from engine.store.location import redact_url
from engine.store.migrations import MIGRATIONS, SCHEMA_TABLE, Migration, SchemaReport
from engine.store.sqlbase import SqlStore

T = TypeVar("T")

CONNECT_TIMEOUT_S = 5.0
"""How long opening one connection may take before the server counts as unreachable."""
COMMAND_TIMEOUT_S = 15.0
"""How long one statement may take; a server that stops answering is treated as lost, not waited on."""
POOL_SIZE = 4
"""Connections held: the engine's writes are few and short; reads (audit, status) get their own."""
MIGRATION_LOCK = 0x61726274756901
"""``pg_advisory_xact_lock`` key: two processes migrating one database apply each migration once."""

_LOST: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, terminated backend, cannot connect now
    asyncpg.exceptions.TooManyConnectionsError,
    OSError,  # refused, reset, unreachable
    TimeoutError,
)
"""What says the server is gone (or will not answer) rather than that the request was wrong."""

_SQL = sql.Statements.of(sql.POSTGRES)


def _translate(exc: BaseException, where: str) -> StoreError:
    if isinstance(exc, _LOST):
        detail = str(exc).strip() or type(exc).__name__
        return StoreUnavailableError(f"database {where} unreachable: {detail}")
    return StoreError(f"database {where}: {exc}")


async def _version(conn: Any) -> int:
    return int(await conn.fetchval(_SQL.schema_version))


async def migrate(conn: Any, migrations: Sequence[Migration], applied_at: str) -> SchemaReport:
    """Bring the database to the newest of ``migrations``, one transaction per migration, each under an
    advisory lock so concurrent openers apply it once. A database newer than ``migrations`` is refused
    untouched, naming both versions."""
    sql.check_numbering(migrations)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(SCHEMA_TABLE)
        before = await _version(conn)
    sql.refuse_newer(before, migrations, "database")
    applied: list[Migration] = []
    for migration in migrations[before:]:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            if await _version(conn) < migration.version:
                for statement in migration.statements_for(sql.POSTGRES.name):
                    await conn.execute(statement)
                await conn.execute(_SQL.record_migration, migration.version, migration.name, applied_at)
                applied.append(migration)
    async with conn.transaction():
        after = await _version(conn)
    return SchemaReport(before, after, tuple(applied))


async def _create_pool(url: str, size: int) -> Any:
    try:
        return await asyncpg.create_pool(
            dsn=url,
            min_size=1,
            max_size=size,
            timeout=CONNECT_TIMEOUT_S,
            command_timeout=COMMAND_TIMEOUT_S,
            server_settings={"application_name": "arbtui"},
        )
    except asyncpg.InvalidCatalogNameError:
        raise StoreError(f"database {redact_url(url)} does not exist; create it (createdb) first") from None
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as exc:
        raise StoreError(f"database {redact_url(url)} refused the login: {exc}") from None
    except (ValueError, asyncpg.ClientConfigurationError) as exc:
        raise StoreError(f"DATABASE_URL {redact_url(url)} is not a valid PostgreSQL URL: {exc}") from None
    except Exception as exc:
        raise _translate(exc, redact_url(url)) from None


class PostgresStore(SqlStore):
    """:class:`engine.store.base.Store` on a PostgreSQL database. Open with :meth:`open` (or ``open_store``)."""

    SQL = _SQL

    def __init__(self, url: str, pool: Any, report: SchemaReport) -> None:
        self._where = redact_url(url)
        self._pool = pool
        self.report = report
        """What opening did to the schema (``arbtui schema`` prints it)."""
        self._closed = False
        self._tasks: set[asyncio.Task[Any]] = set()

    @classmethod
    async def open(
        cls, url: str, migrations: Sequence[Migration] = MIGRATIONS, *, pool_size: int = POOL_SIZE
    ) -> PostgresStore:
        """Connect a pool and migrate to the latest schema (a database newer than the code is refused)."""
        pool = await _create_pool(url, pool_size)
        try:
            async with pool.acquire() as conn:
                report = await migrate(conn, migrations, codec.format_ts(datetime.now(UTC)))
        except StoreError:
            await pool.close()
            raise
        except Exception as exc:
            pool.terminate()
            raise _translate(exc, redact_url(url)) from None
        return cls(url, pool, report)

    @property
    def where(self) -> str:
        """The database's URL without its password, for messages."""
        return self._where

    async def __aenter__(self) -> PostgresStore:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # --- plumbing -----------------------------------------------------------------------------------------

    async def _run(self, body: Callable[[Any], Awaitable[T]], *, write: bool) -> T:
        """Run ``body(conn)`` on a pooled connection (inside one transaction when ``write``), shielded from the
        caller's cancellation so a transaction is never abandoned half sent."""
        if self._closed:
            raise StoreError(f"the store {self._where} is closed")
        task = asyncio.ensure_future(self._guarded(body, write))
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return await asyncio.shield(task)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a caller cancelled meanwhile must not leave it unobserved

    async def _guarded(self, body: Callable[[Any], Awaitable[T]], write: bool) -> T:
        try:
            async with self._pool.acquire() as conn:
                if not write:
                    return await body(conn)
                async with conn.transaction():
                    return await body(conn)
        except StoreError:
            raise
        except Exception as exc:
            raise _translate(exc, self._where) from None

    async def _select(self, read: sql.Read) -> list[Any]:
        async def body(conn: Any) -> list[Any]:
            return list(await conn.fetch(read.sql, *read.params))

        return await self._run(body, write=False)

    async def _insert_once(self, op: sql.InsertOnce[T]) -> T:
        async def body(conn: Any) -> T:
            if await conn.fetchval(op.insert, *op.row) is None:
                return op.known(await conn.fetchrow(op.lookup, op.key))
            await conn.execute(self.SQL.insert_audit, *op.audit)
            return op.inserted

        return await self._run(body, write=True)

    async def _update(self, op: sql.OrderUpdate) -> None:
        async def body(conn: Any) -> None:
            audit = op.audit_for(await conn.fetchrow(op.lookup, op.key))
            await conn.execute(op.update, *op.values)
            await conn.execute(self.SQL.insert_audit, *audit)

        await self._run(body, write=True)

    async def _execute(self, statement: str, params: tuple[Any, ...]) -> None:
        await self._run(lambda conn: conn.execute(statement, *params), write=True)

    async def schema_version(self) -> int:
        """The highest migration applied to this database (for diagnostics and tests)."""
        return await self._run(_version, write=False)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        try:
            await asyncio.wait_for(self._pool.close(), CONNECT_TIMEOUT_S)
        except _LOST:  # TimeoutError is one of them
            self._pool.terminate()
