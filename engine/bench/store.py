"""Store benchmark (reported, never asserted): durable writes per second with ``synchronous=FULL``.

Each write is what the order manager does per order step: one transaction holding the order row and its
audit event, synced before it returns. The figure bounds how many order steps per second the engine can
persist before sending; it depends on the disk's fsync latency far more than on this code.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.bench.records import sample_intent
from engine.bench.stats import percentile
from engine.execution.model import OrderIntent, OrderRecord, OrderState
from engine.store.sqlite import SqliteStore

STORE_ORDERS = 200
"""Orders written; each is two writes (the intent, then its final state)."""

_T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _intent(i: int) -> OrderIntent:
    return sample_intent(f"bench-{i}", _T0 + timedelta(milliseconds=i))


async def bench_store(orders: int = STORE_ORDERS, directory: Path | None = None) -> dict[str, Any]:
    """Write ``orders`` intents and their FILLED updates to a fresh file under ``directory`` (default: the
    system temp directory), timing each committed write; the file is removed afterwards."""
    latencies_us: list[float] = []
    with tempfile.TemporaryDirectory(prefix="arbtui-bench-", dir=directory) as tmp:
        store = await SqliteStore.open(Path(tmp) / "bench.db")
        try:
            durability = await store.durability()
            start = time.perf_counter()
            for i in range(orders):
                t = time.perf_counter()
                record: OrderRecord = await store.record_intent(_intent(i))
                latencies_us.append((time.perf_counter() - t) * 1e6)
                done = replace(
                    record,
                    state=OrderState.FILLED,
                    updated_at=record.updated_at + timedelta(milliseconds=1),
                    filled_count=10,
                    filled_cost=Decimal("4.20"),
                    fees=Decimal("0.17"),
                )
                t = time.perf_counter()
                await store.update_order(done)
                latencies_us.append((time.perf_counter() - t) * 1e6)
            elapsed = time.perf_counter() - start
        finally:
            await store.close()
    writes = len(latencies_us)
    return {
        "writes": writes,
        "writes_per_s": round(writes / elapsed, 1) if elapsed > 0 else 0.0,
        "write_p50_us": round(statistics.median(latencies_us), 1) if latencies_us else 0.0,
        "write_p99_us": round(percentile(latencies_us, 0.99), 1) if latencies_us else 0.0,
        "journal_mode": durability["journal_mode"],
        "synchronous": durability["synchronous"],
        "write": "one transaction: order row + audit event, synced before returning",
    }
