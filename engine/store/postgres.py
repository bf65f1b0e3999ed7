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
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

import asyncpg

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
from engine.store.base import DuplicateOrderError, StoreError, StoreUnavailableError
from engine.store.location import redact_url
from engine.store.migrations import MIGRATIONS, SCHEMA_TABLE, Migration
from engine.store.schema import SchemaReport

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

_ORDER_SELECT = f"SELECT {', '.join(codec.ORDER_COLUMNS)} FROM orders"
_FILL_SELECT = f"SELECT {', '.join(codec.FILL_COLUMNS)} FROM fills"
_SETTLEMENT_SELECT = f"SELECT {', '.join(codec.SETTLEMENT_COLUMNS)} FROM settlements"
_AUDIT_INSERT = "INSERT INTO audit_events (ts, kind, ticker, data) VALUES ($1, $2, $3, $4)"
_C = ' COLLATE "C"'


def _marks(n: int, start: int = 1) -> str:
    return ", ".join(f"${i}" for i in range(start, start + n))


def _where(clauses: list[str]) -> str:
    return f" WHERE {' AND '.join(clauses)}" if clauses else ""


def _translate(exc: BaseException, where: str) -> StoreError:
    if isinstance(exc, _LOST):
        detail = str(exc).strip() or type(exc).__name__
        return StoreUnavailableError(f"database {where} unreachable: {detail}")
    return StoreError(f"database {where}: {exc}")


async def _version(conn: Any) -> int:
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))


async def migrate(conn: Any, migrations: Sequence[Migration], applied_at: str) -> SchemaReport:
    """Bring the database to the newest of ``migrations``, one transaction per migration, each under an
    advisory lock so concurrent openers apply it once. A database newer than ``migrations`` is refused
    untouched, naming both versions."""
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise StoreError(f"migrations must be numbered 1..n without gaps (got {versions})")
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(SCHEMA_TABLE)
        before = await _version(conn)
    if before > len(migrations):
        raise StoreError(
            f"the database is at schema version {before}, written by a newer arbtui "
            f"(this one knows up to {len(migrations)}); upgrade arbtui"
        )
    applied: list[Migration] = []
    for migration in migrations[before:]:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            if await _version(conn) < migration.version:
                for statement in migration.statements_for("postgresql"):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    applied_at,
                )
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


class PostgresStore:
    """:class:`engine.store.base.Store` on a PostgreSQL database. Open with :meth:`open` (or ``open_store``)."""

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

    async def _order_row(self, conn: Any, client_order_id: str, *, lock: bool = False) -> OrderRecord | None:
        sql = f"{_ORDER_SELECT} WHERE client_order_id = $1" + (" FOR UPDATE" if lock else "")
        row = await conn.fetchrow(sql, client_order_id)
        return None if row is None else codec.order_from_row(row)

    async def _select(self, sql: str, params: Sequence[Any]) -> list[Any]:
        async def body(conn: Any) -> list[Any]:
            return list(await conn.fetch(sql, *params))

        return await self._run(body, write=False)

    # --- orders -------------------------------------------------------------------------------------------

    async def record_intent(self, intent: OrderIntent) -> OrderRecord:
        record = OrderRecord(intent=intent, state=OrderState.NEW, updated_at=intent.created_at)
        row = (*codec.intent_columns(intent), *codec.state_columns(record))
        event = codec.audit_columns(codec.order_event(intent))
        insert = (
            f"INSERT INTO orders ({', '.join(codec.ORDER_COLUMNS)}) VALUES ({_marks(len(row))}) "
            "ON CONFLICT (client_order_id) DO NOTHING RETURNING client_order_id"
        )

        async def body(conn: Any) -> OrderRecord | None:
            if await conn.fetchval(insert, *row) is None:
                return await self._order_row(conn, intent.client_order_id)
            await conn.execute(_AUDIT_INSERT, *event)
            return None

        existing = await self._run(body, write=True)
        if existing is not None:
            raise DuplicateOrderError(existing)
        return record

    async def update_order(self, record: OrderRecord) -> None:
        cid = record.client_order_id
        values = codec.state_columns(record)
        assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(codec.ORDER_STATE_COLUMNS, start=1))
        update = f"UPDATE orders SET {assignments} WHERE client_order_id = ${len(values) + 1}"

        async def body(conn: Any) -> None:
            existing = await self._order_row(conn, cid, lock=True)
            if existing is None:
                raise StoreError(f"order {cid} is not in the store; record its intent before updating it")
            if existing.intent != record.intent:
                raise StoreError(f"order {cid}: the intent differs from the one recorded; an intent never changes")
            if existing.state.terminal and not record.state.terminal:
                raise StoreError(
                    f"order {cid} is {existing.state.value}, a final state; it cannot become {record.state.value}"
                )
            await conn.execute(update, *values, cid)
            await conn.execute(_AUDIT_INSERT, *codec.audit_columns(codec.order_state_event(record, existing.state)))

        await self._run(body, write=True)

    async def order(self, client_order_id: str) -> OrderRecord | None:
        rows = await self._select(f"{_ORDER_SELECT} WHERE client_order_id = $1", (client_order_id,))
        return codec.order_from_row(rows[0]) if rows else None

    async def orders(
        self, states: Collection[OrderState] | None = None, ticker: str | None = None
    ) -> list[OrderRecord]:
        clauses: list[str] = []
        params: list[Any] = []
        if states is not None:
            if not states:
                return []
            params.append([OrderState(s).value for s in states])
            clauses.append(f"state = ANY(${len(params)}::text[])")
        if ticker is not None:
            params.append(ticker)
            clauses.append(f"ticker = ${len(params)}")
        sql = f"{_ORDER_SELECT}{_where(clauses)} ORDER BY created_at{_C}, client_order_id{_C}"
        return [codec.order_from_row(r) for r in await self._select(sql, params)]

    # --- fills and settlements ----------------------------------------------------------------------------

    async def record_fill(self, fill: FillRecord) -> bool:
        row = codec.fill_columns(fill)
        event = codec.audit_columns(codec.fill_event(fill))
        insert = (
            f"INSERT INTO fills ({', '.join(codec.FILL_COLUMNS)}) VALUES ({_marks(len(row))}) "
            "ON CONFLICT (fill_id) DO NOTHING RETURNING fill_id"
        )

        async def body(conn: Any) -> bool:
            if await conn.fetchval(insert, *row) is None:
                old = await conn.fetchrow(f"{_FILL_SELECT} WHERE fill_id = $1", fill.fill_id)
                if old is not None and codec.fill_from_row(old) != fill:
                    raise StoreError(f"fill {fill.fill_id} is already recorded with different contents")
                return False
            await conn.execute(_AUDIT_INSERT, *event)
            return True

        return await self._run(body, write=True)

    async def fills(
        self, since: datetime | None = None, ticker: str | None = None, client_order_id: str | None = None
    ) -> list[FillRecord]:
        clauses: list[str] = []
        params: list[Any] = []
        if since is not None:
            params.append(codec.format_ts(since, "since"))
            clauses.append(f"ts{_C} >= ${len(params)}")
        if ticker is not None:
            params.append(ticker)
            clauses.append(f"ticker = ${len(params)}")
        if client_order_id is not None:
            params.append(client_order_id)
            clauses.append(f"client_order_id = ${len(params)}")
        sql = f"{_FILL_SELECT}{_where(clauses)} ORDER BY ts{_C}, fill_id{_C}"
        return [codec.fill_from_row(r) for r in await self._select(sql, params)]

    async def record_settlement(self, settlement: SettlementRecord) -> bool:
        row = codec.settlement_columns(settlement)
        event = codec.audit_columns(codec.settlement_event(settlement))
        insert = (
            f"INSERT INTO settlements ({', '.join(codec.SETTLEMENT_COLUMNS)}) VALUES ({_marks(len(row))}) "
            "ON CONFLICT (ticker) DO NOTHING RETURNING ticker"
        )

        async def body(conn: Any) -> bool:
            if await conn.fetchval(insert, *row) is None:
                old = await conn.fetchrow(f"{_SETTLEMENT_SELECT} WHERE ticker = $1", settlement.ticker)
                known = codec.settlement_from_row(old)
                if known.value != settlement.value or known.revenue != settlement.revenue:
                    raise StoreError(
                        f"{settlement.ticker} is already settled at {known.value} (revenue {known.revenue}); "
                        f"refusing {settlement.value} (revenue {settlement.revenue})"
                    )
                return False
            await conn.execute(_AUDIT_INSERT, *event)
            return True

        return await self._run(body, write=True)

    async def settlements(self) -> list[SettlementRecord]:
        rows = await self._select(f"{_SETTLEMENT_SELECT} ORDER BY ts{_C}, ticker{_C}", ())
        return [codec.settlement_from_row(r) for r in rows]

    # --- breaker, profile, audit --------------------------------------------------------------------------

    async def save_breaker(self, doc: Mapping[str, Any], ts: datetime) -> None:
        values = (codec.to_json(doc, "breaker state"), codec.format_ts(ts, "breaker state ts"))

        async def body(conn: Any) -> None:
            await conn.execute(
                "INSERT INTO breaker_state (id, doc, updated_at) VALUES (1, $1, $2) "
                "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
                *values,
            )

        await self._run(body, write=True)

    async def load_breaker(self) -> dict[str, Any] | None:
        rows = await self._select("SELECT doc FROM breaker_state WHERE id = 1", ())
        return codec.from_json(rows[0][0], "breaker state") if rows else None

    async def append_audit(self, event: AuditEvent) -> None:
        columns = codec.audit_columns(event)

        async def body(conn: Any) -> None:
            await conn.execute(_AUDIT_INSERT, *columns)

        await self._run(body, write=True)

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
            params.append(codec.format_ts(since, "since"))
            clauses.append(f"ts{_C} >= ${len(params)}")
        if ticker is not None:
            params.append(ticker)
            clauses.append(f"ticker = ${len(params)}")
        if kinds is not None:
            if not kinds:
                return []
            params.append([AuditKind(k).value for k in kinds])
            clauses.append(f"kind = ANY(${len(params)}::text[])")
        sql = f"SELECT ts, kind, ticker, data FROM audit_events{_where(clauses)} ORDER BY ts{_C}, id"
        return [codec.audit_from_row(r) for r in await self._select(sql, params)]

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
