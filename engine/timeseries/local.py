"""The local history: the same time-series tables in a SQLite file beside the default store, used when
QuestDB is not configured, so the dashboard's history (latest book per market, edge sparkline) works on a
machine with no services.

It is written by the same writer thread as QuestDB would be (batched, one transaction per flush, never one
per row) and keeps ``retention_s`` of history: older rows are deleted at most once a minute, so the file
does not grow without bound on a machine that runs for weeks.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.clock import micros
from engine.timeseries.rows import Row
from engine.timeseries.schema import TABLES, TABLES_BY_NAME, sqlite_create

HISTORY_FILE = "history.db"
DEFAULT_RETENTION_S = 2 * 86_400


def from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1_000_000, UTC).replace(microsecond=value % 1_000_000)


def connect(path: Path) -> sqlite3.Connection:
    """Open (and create) the history file with every table; WAL so a reader never blocks the writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # time series: losing the last second on a power cut is fine
    conn.execute("PRAGMA busy_timeout=2000")
    for table in TABLES:
        for statement in sqlite_create(table):
            conn.execute(statement)
    return conn


class SqliteBackend:
    """:class:`~engine.timeseries.writer.Backend` over the history file (used on the writer thread)."""

    def __init__(
        self,
        path: Path,
        *,
        retention_s: float = DEFAULT_RETENTION_S,
        flush_rows: int = 5_000,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.retention_s = retention_s
        self.flush_rows = flush_rows
        self.wall = wall
        self._conn: sqlite3.Connection | None = None
        self._buffer: dict[str, list[tuple[Any, ...]]] = {}
        self._count = 0
        self._last_prune = 0.0
        self._columns = {t.name: tuple(c.name for c in t.all_columns) for t in TABLES}
        self._insert = {
            name: f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
            for name, cols in self._columns.items()
        }

    def open(self) -> None:
        self._conn = connect(self.path)

    def add(self, row: Row) -> None:
        values = {"ts": micros(row.ts), **row.symbols}
        for key, value in row.columns.items():
            values[key] = micros(value) if isinstance(value, datetime) else value
        self._buffer.setdefault(row.table, []).append(tuple(values.get(c) for c in self._columns[row.table]))
        self._count += 1
        if self._count >= self.flush_rows:
            self.flush()

    def flush(self) -> None:
        conn = self._conn
        if conn is None or not self._count:
            return
        try:
            conn.execute("BEGIN")
            for table, rows in self._buffer.items():
                conn.executemany(self._insert[table], rows)
            conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._buffer.clear()
        self._count = 0
        self._prune()

    def _prune(self) -> None:
        now = self.wall()
        if now - self._last_prune < 60.0 or self._conn is None:
            return
        self._last_prune = now
        cutoff = int((now - self.retention_s) * 1_000_000)
        for table in TABLES_BY_NAME:
            self._conn.execute(f"DELETE FROM {table} WHERE ts < ?", (cutoff,))

    def pending(self) -> int:
        return self._count

    def discard(self) -> int:
        lost, self._count = self._count, 0
        self._buffer.clear()
        return lost

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
