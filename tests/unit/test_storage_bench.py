"""The SQL-store benchmark writes what it says (four commits per order, every record readable afterwards)
and reports a missing PostgreSQL server as a reason, not a crash."""

from __future__ import annotations

from pathlib import Path

from engine.bench.storage import bench_postgres, write_orders
from engine.execution.model import OrderState
from engine.store.sqlite import SqliteStore


async def test_each_order_is_four_commits_and_ends_filled_with_its_fill(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "bench.db")
    try:
        result = await write_orders(store, 5)
        orders = await store.orders()
        fills = await store.fills()
    finally:
        await store.close()
    assert result["commits"] == 20 and result["orders"] == 5
    assert result["commit_p99_us"] >= result["commit_p50_us"] > 0
    assert [o.state for o in orders] == [OrderState.FILLED] * 5
    assert sorted(f.client_order_id for f in fills) == sorted(o.client_order_id for o in orders)


async def test_no_server_is_a_reason_in_the_report() -> None:
    result = await bench_postgres("postgresql://postgres:pw@127.0.0.1:1/postgres", 1)
    assert set(result) == {"skipped"}
    assert "no PostgreSQL at postgresql://postgres:***@127.0.0.1:1/postgres" in result["skipped"]
