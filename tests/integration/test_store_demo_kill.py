"""The headless demo on PostgreSQL, killed with SIGKILL after it filled orders: nothing it logged is lost.

``launch --no-ui --demo`` with ``DATABASE_URL`` pointing at a throwaway database on the real server trades
until it has logged fills, then dies without any chance to clean up. Every fill it logged is in the database
(each was committed before it was reported), and a second run over the same database starts, reconciles
and trades on without sending any ``client_order_id`` a second time.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from launch_kit import CLI, Launched, paper_env
from pgkit import reset, throwaway_database

from engine.execution.model import AuditKind
from engine.store.postgres import PostgresStore

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with throwaway_database() as url:
        yield url


def _launch(tmp: Path, url: str, name: str) -> Launched:
    argv = [*CLI, "launch", "--no-ui", "--demo", "--log-format", "json"]
    return Launched(tmp, name, argv, paper_env(tmp, DATABASE_URL=url))


async def _stored(url: str) -> tuple[set[str], list[str]]:
    store = await PostgresStore.open(url)
    try:
        fills = {f.fill_id for f in await store.fills()}
        intents = [str(e.data["client_order_id"]) for e in await store.audit(kinds=[AuditKind.ORDER])]
    finally:
        await store.close()
    return fills, intents


async def test_demo_killed_after_fills_restarts_with_every_fill_and_no_order_twice(tmp_path: Path, pg_url: str) -> None:
    await reset(pg_url)
    first = _launch(tmp_path, pg_url, "first")
    try:
        first.wait_until("two fills", lambda: first.reached({"fill": 2}), 60.0)
    finally:
        code, _ = first.stop(signal.SIGKILL, timeout_s=30.0)
    assert code == -signal.SIGKILL
    logged = {d["fill_id"] for d in first.of_kind("fill")}
    assert len(logged) >= 2

    fills, intents = await _stored(pg_url)
    assert logged <= fills, f"fills logged but not stored: {sorted(logged - fills)}"

    second = _launch(tmp_path, pg_url, "second")
    try:
        second.wait_until("a reconciliation and a fill", lambda: second.reached({"reconcile": 1, "fill": 1}), 60.0)
    finally:
        code, err = second.stop(timeout_s=30.0)
    assert code == 0, err[-2000:]
    lines = second.lines()
    assert "postgresql://" in lines[0]["message"]
    reconcile = next(d for d in lines if d.get("kind") == "reconcile")
    assert reconcile["ok"] is True and reconcile["fills"] >= len(logged)

    fills_after, intents_after = await _stored(pg_url)
    assert fills <= fills_after
    twice = [cid for cid, n in Counter(intents_after).items() if n > 1]
    assert not twice, f"client_order_id recorded twice: {twice}"
    assert set(intents) <= set(intents_after)
