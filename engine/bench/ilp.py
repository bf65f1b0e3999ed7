"""Time-series benchmark (reported, never asserted; part of ``arbtui bench --only storage``): rows per second
the ``questdb`` Sender writes over ILP/HTTP in batches to a loopback listener, and the same rows through the
engine's own path (the bounded queue and the writer thread), both until the listener has every row.

The listener only counts lines, so the figure is the client's: building rows, serializing them, and HTTP
over loopback, with the auto-flush the engine uses (by row count, never once per row). Goal: >= 500,000
rows/s for the batched Sender.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from engine.timeseries.questdb_ilp import QuestDbBackend
from engine.timeseries.rows import Row
from engine.timeseries.writer import QueuedWriter

ROWS = 200_000
BATCH = 50_000
_T0 = datetime(2026, 1, 1, tzinfo=UTC)


class _CountingListener:
    """ILP over HTTP that answers 204 and counts the lines it got."""

    def __init__(self) -> None:
        self.lines = 0
        self.requests = 0
        self._cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer._cond:
                    outer.lines += body.count(b"\n")
                    outer.requests += 1
                    outer._cond.notify_all()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.conf = f"http::addr=127.0.0.1:{self.server.server_address[1]};"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n: int, timeout_s: float = 60.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.lines >= n, timeout_s)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _rows(n: int) -> list[Row]:
    return [
        Row(
            "kalshi_books",
            {"ticker": f"KXNBAGAME-26JAN01BENCH{i % 2000:04d}-AAA"},
            {
                "trusted": True,
                "yes_bid_e6": 420000 + i % 100,
                "yes_ask_e6": 440000,
                "yes_bid_size": 10.0,
                "yes_ask_size": 12.0,
                "yes_depth": 100.0,
                "no_depth": 80.0,
                "yes_levels": 5,
                "no_levels": 4,
            },
            _T0 + timedelta(microseconds=i),
        )
        for i in range(n)
    ]


def bench_ilp(rows: int = ROWS) -> dict[str, Any]:
    """Rows/s batched to a loopback listener: the Sender alone, and through the engine's queue and writer."""
    from questdb import Sender

    data = _rows(rows)
    listener = _CountingListener()
    try:
        with Sender.from_conf(
            listener.conf, protocol_version=1, auto_flush_rows=BATCH, auto_flush_interval=60_000
        ) as s:
            started = time.perf_counter()
            for row in data:
                s.row(row.table, symbols=dict(row.symbols), columns=dict(row.columns), at=row.ts)
            s.flush()
            listener.wait(rows)
            sender_s = time.perf_counter() - started
        sent_requests = listener.requests
        before = listener.lines
        writer = QueuedWriter(
            "bench", QuestDbBackend(listener.conf, auto_flush_rows=BATCH), capacity=rows, flush_interval_s=0.05
        )
        writer.start()
        started = time.perf_counter()
        for row in data:
            writer.put(row)
        put_s = time.perf_counter() - started
        listener.wait(before + rows)
        queued_s = time.perf_counter() - started
        writer.close()
        return {
            "rows": rows,
            "batch_rows": BATCH,
            "sender_rows_per_s": round(rows / sender_s),
            "sender_requests": sent_requests,
            "queued_rows_per_s": round(rows / queued_s),
            "put_us_per_row": round(put_s / rows * 1e6, 3),
            "dropped": writer.dropped,
            "goal_rows_per_s": 500_000,
        }
    finally:
        listener.close()
