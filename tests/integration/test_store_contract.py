"""One contract for every store: the SQLite file and the real PostgreSQL on 127.0.0.1:5432 run the same tests.

Records round-trip exactly and survive a reopen; concurrent writers (tasks and separate connections) never
lose or double a record; an empty database is migrated once and a second run changes nothing; a database
newer than the code is refused untouched. PostgreSQL alone: a backend terminated mid-transaction leaves no
partial order, and the engine on a lost database is HALTED for new entries while its writes queue, in order,
until the server is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import asyncpg
import pytest
from pgkit import Proxy, reset, throwaway_database, with_database
from store_records import T0, advanced, fill, intent, settlement

from engine.clock import PinnedClock
from engine.config.settings import Settings
from engine.execution.model import AuditEvent, AuditKind, Mode, OrderState
from engine.risk.state import BreakerMode
from engine.runtime.assemble import build_engine
from engine.store import DuplicateOrderError, Store, StoreError, StoreLocation, open_store, resolve_location
from engine.store.base import StoreUnavailableError
from engine.store.failclosed import FailClosedStore
from engine.store.migrations import MIGRATIONS
from engine.store.postgres import PostgresStore
from engine.store.schema import apply_schema

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with throwaway_database() as url:
        yield url


@dataclass
class Backend:
    """One store under test: ``open()`` opens it again over the same data; ``location`` for ``apply_schema``."""

    name: str
    location: StoreLocation
    admin_url: str = ""

    async def open(self) -> Store:
        return await open_store(self.location)


@pytest.fixture(params=["sqlite", "postgresql"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", StoreLocation(tmp_path / "arbtui.db", "test"))
    url: str = request.getfixturevalue("pg_url")
    await reset(url)
    return Backend("postgresql", resolve_location(url, {}), url)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    opened = await backend.open()
    yield opened
    await opened.close()


async def _everything(store: Store) -> tuple[object, ...]:
    return (
        await store.orders(),
        await store.fills(),
        await store.settlements(),
        await store.load_breaker(),
        await store.audit(),
    )


async def test_every_record_round_trips_exactly_and_survives_a_reopen(backend: Backend, store: Store) -> None:
    rec = await store.record_intent(intent("c1"))
    rec = advanced(rec, OrderState.SENT, 1)
    await store.update_order(rec)
    assert await store.record_fill(fill("f1", "c1", count=4))
    rec = advanced(rec, OrderState.PARTIAL, 2, filled_count=4, filled_cost=rec.intent.limit_price * 4)
    await store.update_order(rec)
    assert await store.record_settlement(settlement(value="0.5"))
    await store.save_breaker({"mode": "active", "loss": "1.25"}, T0)
    await store.record_profile_change("conservative", {"min_edge": "0.03"}, T0)
    before = await _everything(store)
    assert await store.order("c1") == rec
    assert [f.fill_id for f in await store.fills(ticker=rec.intent.ticker, client_order_id="c1")] == ["f1"]
    kinds = [e.kind for e in await store.audit()]
    assert kinds.count(AuditKind.ORDER_STATE) == 2 and AuditKind.PROFILE in kinds and AuditKind.FILL in kinds
    await store.close()
    reopened = await backend.open()
    try:
        assert await _everything(reopened) == before
    finally:
        await reopened.close()


async def test_a_duplicate_intent_is_refused_and_a_bad_record_changes_nothing(store: Store) -> None:
    first = await store.record_intent(intent("c1"))
    with pytest.raises(DuplicateOrderError, match="c1 is already recorded"):
        await store.record_intent(intent("c1", count=99))
    snapshot = await _everything(store)
    with pytest.raises(StoreError, match="intent differs"):
        await store.update_order(replace(first, intent=intent("c1", count=5)))
    with pytest.raises(StoreError, match="different contents"):
        await store.record_fill(fill("f1", "c1"))
        await store.record_fill(fill("f1", "c1", count=3))
    assert (await _everything(store))[0] == snapshot[0]
    assert [f.count for f in await store.fills()] == [4]


async def test_concurrent_writers_lose_nothing_and_double_nothing(backend: Backend, store: Store) -> None:
    second = await backend.open()  # another connection (another pool on PostgreSQL), as a second process has
    try:

        async def one_order(s: Store, i: int) -> None:
            rec = await s.record_intent(intent(f"c{i}", seconds=i / 1000))
            await s.update_order(advanced(rec, OrderState.SENT, 1))
            await s.record_fill(fill(f"f{i}", f"c{i}", seconds=2 + i / 1000))

        await asyncio.gather(*(one_order(store if i % 2 else second, i) for i in range(40)))

        async def race_intent(s: Store) -> bool:
            try:
                await s.record_intent(intent("race"))
            except DuplicateOrderError:
                return False
            return True

        won = await asyncio.gather(*(race_intent(store if i % 2 else second) for i in range(10)))
        fill_new = await asyncio.gather(*((store if i % 2 else second).record_fill(fill("f-race", "race"))
                                          for i in range(10)))  # fmt: skip
        assert sum(won) == 1 and sum(fill_new) == 1
        orders = await store.orders()
        assert sorted(o.client_order_id for o in orders) == sorted([*(f"c{i}" for i in range(40)), "race"])
        assert len(await second.fills()) == 41
        audit = await store.audit()
        assert sum(e.kind is AuditKind.ORDER for e in audit) == 41
        assert sum(e.kind is AuditKind.FILL for e in audit) == 41
        assert sum(e.kind is AuditKind.ORDER_STATE for e in audit) == 40
    finally:
        await second.close()


async def _tables(backend: Backend) -> set[str]:
    if backend.name == "sqlite":
        import sqlite3

        with sqlite3.connect(Path(backend.location.path)) as conn:
            return {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn = await asyncpg.connect(backend.admin_url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r[0] for r in rows}
    finally:
        await conn.close()


async def test_an_empty_database_is_migrated_once_and_a_second_run_changes_nothing(backend: Backend) -> None:
    first = await apply_schema(backend.location)
    assert (first.before, first.after) == (0, len(MIGRATIONS))
    assert [m.version for m in first.applied] == [m.version for m in MIGRATIONS]
    tables = await _tables(backend)
    assert {"orders", "fills", "settlements", "breaker_state", "audit_events", "schema_migrations"} <= tables
    second = await apply_schema(backend.location)
    assert (second.before, second.after, second.applied) == (len(MIGRATIONS), len(MIGRATIONS), ())
    assert await _tables(backend) == tables


async def test_a_database_from_a_newer_arbtui_is_refused_naming_both_versions(backend: Backend) -> None:
    store = await backend.open()
    await store.record_intent(intent("c1"))
    await store.close()
    newer = len(MIGRATIONS) + 1
    if backend.name == "sqlite":
        import sqlite3

        with sqlite3.connect(Path(backend.location.path)) as conn:
            conn.execute("INSERT INTO schema_migrations VALUES (?, 'future', 'x')", (newer,))
    else:
        conn = await asyncpg.connect(backend.admin_url)
        await conn.execute("INSERT INTO schema_migrations VALUES ($1, 'future', 'x')", newer)
        await conn.close()
    with pytest.raises(StoreError, match=f"schema version {newer}.*knows up to {len(MIGRATIONS)}"):
        await apply_schema(backend.location)
    with pytest.raises(StoreError, match=f"schema version {newer}"):
        await backend.open()


# --- PostgreSQL: losing the server -----------------------------------------------------------------------


async def _blocked_backend(admin: asyncpg.Connection, timeout_s: float = 10.0) -> int:
    """The arbtui backend waiting on a lock in this database (the transaction the test is holding up)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        pid = await admin.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'arbtui' "
            "AND wait_event_type = 'Lock'"
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.02)
    raise AssertionError("the store's transaction never waited on the test's lock")


async def _kill_mid_intent(admin_url: str, record: Callable[[], Awaitable[object]]) -> BaseException:
    """Hold the audit table locked so the intent's transaction stops after inserting its order row, then
    terminate that backend; returns what the write raised."""
    admin = await asyncpg.connect(admin_url)
    try:
        tx = admin.transaction()
        await tx.start()
        await admin.execute("LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE")
        task = asyncio.ensure_future(record())
        pid = await _blocked_backend(admin)
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        await tx.rollback()
        with pytest.raises(StoreError) as info:
            await asyncio.wait_for(task, 10)
        return info.value
    finally:
        await admin.close()


async def test_a_backend_terminated_mid_transaction_leaves_no_partial_order(pg_url: str) -> None:
    await reset(pg_url)
    store = await PostgresStore.open(pg_url)
    try:
        await store.record_intent(intent("c0"))
        error = await _kill_mid_intent(pg_url, lambda: store.record_intent(intent("c1")))
        assert isinstance(error, StoreUnavailableError)
        assert "unreachable" in str(error)
        assert await store.order("c1") is None  # the pool reconnects; the order row was rolled back
        assert [e.data["client_order_id"] for e in await store.audit(kinds=[AuditKind.ORDER])] == ["c0"]
        assert (await store.record_intent(intent("c1"))).client_order_id == "c1"  # a retry goes through
    finally:
        await store.close()


@pytest.fixture
async def proxied(pg_url: str) -> AsyncIterator[tuple[Proxy, str]]:
    await reset(pg_url)
    proxy = Proxy("127.0.0.1", 5432)
    await proxy.start()
    yield proxy, with_database(pg_url, pg_url.rsplit("/", 1)[1], port=proxy.port)
    await proxy.close()


async def test_the_engine_halts_on_a_lost_database_queues_in_order_and_replays_when_it_is_back(
    proxied: tuple[Proxy, str],
) -> None:
    proxy, url = proxied
    store = FailClosedStore(await PostgresStore.open(url), retry_s=0.05, max_retry_s=0.2)
    clock = PinnedClock(T0)
    try:
        engine, _ = await build_engine(Settings(), store, clock, Mode.PAPER)
        assert engine.desk.guard.mode is BreakerMode.ACTIVE
        rec = await store.record_intent(intent("c1"))  # sent before the loss: its fills must not be lost

        # killed mid-transaction: no partial order, the engine HALTED with the reason
        error = await _kill_mid_intent(url, lambda: store.record_intent(intent("c2")))
        assert isinstance(error, StoreUnavailableError)
        assert engine.desk.guard.mode is BreakerMode.HALTED
        assert "database unreachable" in engine.desk.guard.state.reason
        assert engine.build_snapshot().breaker.state == "HALTED"
        await store.wait_available()  # the server never went away: the probe finds it at once
        assert await store.order("c2") is None

        # now the server is cut off for a while: writes queue in call order, new orders are refused
        await proxy.cut()
        await store.append_audit(AuditEvent(T0, AuditKind.RECONCILE, None, {"n": 1}))
        sent = advanced(rec, OrderState.SENT, 1)
        await store.update_order(sent)
        assert await store.record_fill(fill("f1", "c1"))
        assert not await store.record_fill(fill("f1", "c1"))  # the same fill again: known, not new
        assert not store.status.available and store.status.queued == 3
        with pytest.raises(StoreUnavailableError, match="not recorded, so not sent"):
            await store.record_intent(intent("c3"))
        with pytest.raises(StoreUnavailableError, match="writes queued"):
            await store.orders()
        await asyncio.sleep(0.5)  # several probes fail meanwhile
        assert engine.desk.guard.mode is BreakerMode.HALTED and not store.status.available

        await proxy.restore()
        await asyncio.wait_for(store.wait_available(), 10)
        assert await store.order("c1") == sent
        assert [f.fill_id for f in await store.fills()] == ["f1"]
        conn = await asyncpg.connect(url)
        try:  # committed in the order the engine made them (ids are commit order; ts would sort by event time)
            kinds = [r[0] for r in await conn.fetch("SELECT kind FROM audit_events ORDER BY id DESC LIMIT 3")]
        finally:
            await conn.close()
        assert kinds[::-1] == ["reconcile", "order_state", "fill"]
        assert engine.desk.guard.mode is BreakerMode.HALTED  # lifted by the operator only
        assert (await store.load_breaker() or {})["mode"] == "halted"
        events = [(e.kind, e.data.get("state")) for e in _drain(engine)]
        assert ("store", "lost") in events and ("store", "back") in events
    finally:
        await store.close()


def _drain(engine: object) -> list[object]:
    events = []
    while (e := engine.events.get_nowait()) is not None:  # type: ignore[attr-defined]
        events.append(e)
    return events
