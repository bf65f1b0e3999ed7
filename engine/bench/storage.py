"""Storage benchmark (reported, never asserted): order+fill writes per second and commit latency of the SQL
stores, SQLite and PostgreSQL, through the same :class:`~engine.store.base.Store` calls the order manager
makes.

One order's life is four commits, as the manager writes them: the intent (before the send), SENT, the fill
with its audit event, FILLED. Each is awaited before the next (the manager never sends before the intent is
durable), so the figures are per-commit latency on one writer; on PostgreSQL they include the loopback round
trips and the server's WAL flush (``synchronous_commit`` as the server has it).

PostgreSQL runs in a throwaway database created next to the one ``DATABASE_URL`` names (or the local server's
``postgres`` database) and dropped afterwards; without a server the result says why instead of a number.
"""

from __future__ import annotations

import secrets
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from engine.bench.records import sample_fill, sample_intent
from engine.bench.stats import percentile
from engine.execution.model import OrderIntent, OrderState
from engine.store.base import Store, StoreError
from engine.store.location import POSTGRES_SCHEMES, redact_url

ORDERS = 250
"""Order lives written per store (four commits each)."""
LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"

_T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _intent(i: int) -> OrderIntent:
    return sample_intent(f"bench-{i}", _T0 + timedelta(milliseconds=i))


async def write_orders(store: Store, orders: int) -> dict[str, Any]:
    """Write ``orders`` order lives into ``store``, timing every commit."""
    latencies_us: list[float] = []

    async def timed(op: Any) -> Any:
        t = time.perf_counter()
        result = await op
        latencies_us.append((time.perf_counter() - t) * 1e6)
        return result

    start = time.perf_counter()
    for i in range(orders):
        record = await timed(store.record_intent(_intent(i)))
        at = record.updated_at
        sent = replace(record, state=OrderState.SENT, updated_at=at + timedelta(microseconds=1))
        await timed(store.update_order(sent))
        fill = sample_fill(f"bench-fill-{i}", record.client_order_id, at + timedelta(microseconds=2))
        await timed(store.record_fill(fill))
        done = replace(sent, state=OrderState.FILLED, updated_at=at + timedelta(microseconds=3), filled_count=10,
                       filled_cost=Decimal("4.20"), fees=Decimal("0.07"))  # fmt: skip
        await timed(store.update_order(done))
    elapsed = time.perf_counter() - start
    return {
        "orders": orders,
        "commits": len(latencies_us),
        "commits_per_s": round(len(latencies_us) / elapsed, 1) if elapsed > 0 else 0.0,
        "orders_per_s": round(orders / elapsed, 1) if elapsed > 0 else 0.0,
        "commit_p50_us": round(statistics.median(latencies_us), 1),
        "commit_p99_us": round(percentile(latencies_us, 0.99), 1),
    }


async def bench_sqlite(orders: int = ORDERS, directory: Path | None = None) -> dict[str, Any]:
    from engine.store.sqlite import SqliteStore

    with tempfile.TemporaryDirectory(prefix="arbtui-bench-", dir=directory) as tmp:
        store = await SqliteStore.open(Path(tmp) / "bench.db")
        try:
            durability = await store.durability()
            result = await write_orders(store, orders)
        finally:
            await store.close()
    return {**result, "durability": f"journal {durability['journal_mode']}, synchronous {durability['synchronous']}"}


def _sibling(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def bench_postgres(server_url: str, orders: int = ORDERS) -> dict[str, Any]:
    """The same writes into a throwaway database on ``server_url``'s server (dropped afterwards)."""
    import asyncpg

    from engine.store.postgres import PostgresStore

    name = f"arbtui_bench_{secrets.token_hex(4)}"
    try:
        admin = await asyncpg.connect(server_url, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return {"skipped": f"no PostgreSQL at {redact_url(server_url)}: {exc}"}
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            store = await PostgresStore.open(_sibling(server_url, name))
            try:
                sync = await _server_setting(admin, "synchronous_commit")
                result = await write_orders(store, orders)
            finally:
                await store.close()
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except (asyncpg.PostgresError, StoreError) as exc:
        return {"skipped": f"PostgreSQL at {redact_url(server_url)}: {exc}"}
    finally:
        await admin.close()
    return {**result, "durability": f"synchronous_commit {sync}", "server": redact_url(server_url)}


async def _server_setting(conn: Any, name: str) -> str:
    return str(await conn.fetchval("SELECT setting FROM pg_settings WHERE name = $1", name))


async def bench_sql_stores(database_url: str | None, orders: int = ORDERS) -> dict[str, Any]:
    """Both SQL stores; PostgreSQL on ``database_url``'s server when it is one, else on the local server."""
    server = database_url if database_url and database_url.startswith(POSTGRES_SCHEMES) else LOCAL_SERVER
    return {
        "write": "one order = 4 commits (intent, sent, fill + audit, filled), each awaited",
        "sqlite": await bench_sqlite(orders),
        "postgresql": await bench_postgres(server, orders),
    }
