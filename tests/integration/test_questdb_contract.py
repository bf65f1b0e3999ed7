"""The same time series against a real QuestDB, when one is given: ``QUESTDB_URL=http://127.0.0.1:9000``.

No QuestDB server can be installed on the test machines, so this suite is skipped there (with that reason);
run it against ``docker compose up -d questdb``. It creates the tables, writes rows through the production
writer (the real Sender, ILP over HTTP) and reads them back through ``/exec`` with the production queries.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from engine.timeseries.history import QuestDbHistory, create_questdb_tables
from engine.timeseries.questdb_ilp import QuestDbBackend
from engine.timeseries.rows import Row
from engine.timeseries.writer import QueuedWriter

URL = os.environ.get("QUESTDB_URL", "")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not URL, reason="QUESTDB_URL is not set (no QuestDB server can be installed here)"),
]


async def test_rows_written_over_ilp_come_back_through_exec() -> None:
    conf = f"{URL.split('://')[0]}::addr={URL.split('://')[1].rstrip('/')};"
    await create_questdb_tables(conf)
    await create_questdb_tables(conf)  # idempotent
    ticker = f"TEST-{uuid.uuid4().hex[:8].upper()}"
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    writer = QueuedWriter("questdb", QuestDbBackend(conf), flush_interval_s=0.1)
    writer.start()
    writer.put(
        Row("kalshi_books", {"ticker": ticker}, {"trusted": True, "yes_bid_e6": 400000, "yes_ask_e6": 430000}, t0)
    )
    writer.put(Row("kalshi_books", {"ticker": ticker}, {"trusted": True, "yes_bid_e6": 410000, "yes_ask_e6": 420000},
                   t0 + timedelta(seconds=5)))  # fmt: skip
    for i, edge in enumerate([0.03, 0.05, 0.04]):
        writer.put(Row("signals", {"ticker": ticker, "kind": "edge", "side": "yes", "event_ticker": "E"},
                       {"live": True, "edge": edge}, t0 + timedelta(seconds=30 * i)))  # fmt: skip
    assert writer.wait_idle(20)
    writer.close()
    assert writer.dropped == 0, writer.last_error
    history = QuestDbHistory(URL)
    try:
        deadline = time.monotonic() + 30  # WAL tables apply asynchronously
        books = []
        while not books or books[0].yes_bid is None or books[0].ts != t0 + timedelta(seconds=5):
            assert time.monotonic() < deadline, "rows never became visible"
            await asyncio.sleep(0.2)
            books = await history.latest_books(t0 - timedelta(minutes=1), [ticker])
        assert str(books[0].yes_bid) == "0.41" and str(books[0].yes_ask) == "0.42"
        points = await history.edge_history(ticker, "yes", "edge", t0 - timedelta(minutes=1), timedelta(minutes=1))
        assert max(p.edge for p in points) == 0.05
        assert sum(p.samples for p in points) == 3
    finally:
        await history.aclose()
