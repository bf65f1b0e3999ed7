"""The store benchmark measures real synced writes on a real file (its speed is reported, never asserted)."""

from __future__ import annotations

from pathlib import Path

from engine.bench.store import bench_store


async def test_bench_writes_every_order_twice_with_full_sync_and_cleans_up(tmp_path: Path) -> None:
    result = await bench_store(orders=5, directory=tmp_path)
    assert result["writes"] == 10
    assert (result["journal_mode"], result["synchronous"]) == ("wal", "full")
    assert result["writes_per_s"] > 0
    assert 0 < result["write_p50_us"] <= result["write_p99_us"]
    assert list(tmp_path.iterdir()) == []
