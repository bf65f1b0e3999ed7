"""History queries: the latest book per market and the edge history behind the dashboard's sparkline,
from QuestDB over its HTTP ``/exec`` endpoint, or from the local history file when QuestDB is not set.

The SQL is built by pure functions (tested as text against golden strings); values are quoted as SQL
literals by one function that doubles quotes, and names come only from :mod:`engine.timeseries.schema`.
QuestDB answers with ``LATEST ON ts PARTITION BY ticker`` (one row per market, found from the newest
partition backwards) and ``SAMPLE BY`` (time buckets aligned to the calendar); the local history does the
same with a window function and integer bucket arithmetic, and both return the same records.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import httpx

from engine.clock import micros
from engine.errors import ArbError
from engine.timeseries.local import from_micros
from engine.timeseries.questdb_ilp import http_base_url
from engine.timeseries.schema import TABLES, questdb_schema

BOOK_COLUMNS = ("ts", "ticker", "trusted", "yes_bid_e6", "yes_ask_e6", "yes_bid_size", "yes_ask_size")
MILLION = Decimal(1_000_000)


class HistoryError(ArbError):
    """A history query failed (server down, refused the SQL, answered something unexpected)."""


@dataclass(frozen=True, slots=True)
class BookTop:
    ts: datetime
    ticker: str
    trusted: bool
    yes_bid: Decimal | None
    yes_ask: Decimal | None
    yes_bid_size: float | None
    yes_ask_size: float | None


@dataclass(frozen=True, slots=True)
class EdgePoint:
    ts: datetime
    """The bucket's start."""
    edge: float
    """The best edge the signal showed in the bucket."""
    samples: int


class History(Protocol):
    async def latest_books(self, since: datetime, tickers: Sequence[str] = ()) -> list[BookTop]: ...

    async def edge_history(
        self, ticker: str, side: str, kind: str, since: datetime, bucket: timedelta
    ) -> list[EdgePoint]: ...


# -- SQL text ------------------------------------------------------------------------------------------


def literal(value: str) -> str:
    """A SQL string literal: quotes doubled, control characters refused."""
    if any(ord(ch) < 32 for ch in value):
        raise ValueError(f"refusing a control character in a query value {value!r}")
    return "'" + value.replace("'", "''") + "'"


def ts_literal(ts: datetime) -> str:
    """A QuestDB timestamp literal in UTC with microseconds: ``'2026-01-02T03:04:05.000000Z'``."""
    return "'" + from_micros(micros(ts)).strftime("%Y-%m-%dT%H:%M:%S.%fZ") + "'"


def sample_unit(bucket: timedelta) -> str:
    """``SAMPLE BY`` unit for a bucket: whole seconds, minutes or hours (``30s``, ``1m``, ``1h``)."""
    seconds = bucket.total_seconds()
    if seconds < 1 or seconds != int(seconds):
        raise ValueError(f"bucket {bucket} must be a whole number of seconds, at least 1")
    s = int(seconds)
    if s % 3600 == 0:
        return f"{s // 3600}h"
    if s % 60 == 0:
        return f"{s // 60}m"
    return f"{s}s"


def latest_books_sql(since: datetime, tickers: Sequence[str] = ()) -> str:
    where = f"ts >= {ts_literal(since)}"
    if tickers:
        where += f" AND ticker IN ({', '.join(literal(t) for t in tickers)})"
    return f"SELECT {', '.join(BOOK_COLUMNS)} FROM kalshi_books WHERE {where} LATEST ON ts PARTITION BY ticker;"


def edge_history_sql(ticker: str, side: str, kind: str, since: datetime, bucket: timedelta) -> str:
    return (
        "SELECT ts, max(edge) AS edge, count() AS samples FROM signals "
        f"WHERE ticker = {literal(ticker)} AND side = {literal(side)} AND kind = {literal(kind)} AND live = true "
        f"AND ts >= {ts_literal(since)} SAMPLE BY {sample_unit(bucket)} ALIGN TO CALENDAR;"
    )


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(int(value)) / MILLION


def _parse_ts(value: Any) -> datetime:
    if isinstance(value, int):
        return from_micros(value)
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def _book(row: Sequence[Any]) -> BookTop:
    ts, ticker, trusted, bid, ask, bid_size, ask_size = row
    return BookTop(_parse_ts(ts), str(ticker), bool(trusted), _money(bid), _money(ask), _float(bid_size),
                   _float(ask_size))  # fmt: skip


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


# -- QuestDB -------------------------------------------------------------------------------------------


class QuestDbHistory:
    """History from QuestDB's ``/exec`` (``base_url`` like ``http://127.0.0.1:9000``)."""

    def __init__(self, base_url: str, *, timeout_s: float = 5.0, transport: httpx.AsyncBaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=timeout_s, transport=transport)

    async def exec(self, sql: str) -> list[list[Any]]:
        """Run one statement; its rows (``dataset``). :class:`HistoryError` names what went wrong."""
        try:
            response = await self._client.get("/exec", params={"query": sql})
        except httpx.HTTPError as exc:
            raise HistoryError(f"QuestDB at {self.base_url} did not answer: {exc}") from None
        try:
            doc = response.json()
        except ValueError:
            raise HistoryError(f"QuestDB answered {response.status_code} without JSON") from None
        if response.status_code != 200 or "error" in doc:
            raise HistoryError(f"QuestDB refused the query ({response.status_code}): {doc.get('error', doc)}")
        if "ddl" in doc or "dml" in doc:
            return []  # CREATE/INSERT answer {"ddl": "OK"}: nothing to read
        dataset = doc.get("dataset")
        if not isinstance(dataset, list):
            raise HistoryError("QuestDB's answer has no dataset")
        return [list(r) for r in dataset]

    async def latest_books(self, since: datetime, tickers: Sequence[str] = ()) -> list[BookTop]:
        rows = [_book(r) for r in await self.exec(latest_books_sql(since, tickers))]
        return sorted(rows, key=lambda b: b.ticker)  # LATEST ON gives no order

    async def edge_history(
        self, ticker: str, side: str, kind: str, since: datetime, bucket: timedelta
    ) -> list[EdgePoint]:
        rows = await self.exec(edge_history_sql(ticker, side, kind, since, bucket))
        return [EdgePoint(_parse_ts(ts), float(edge), int(n)) for ts, edge, n in rows if edge is not None]

    async def aclose(self) -> None:
        await self._client.aclose()


async def create_questdb_tables(conf: str, *, transport: httpx.AsyncBaseTransport | None = None) -> tuple[str, ...]:
    """Send every ``CREATE TABLE IF NOT EXISTS`` of :func:`engine.timeseries.schema.questdb_schema` (what
    ``arbtui schema`` does when ``QUESTDB_CONF`` is set); returns the tables named. Idempotent."""
    history = QuestDbHistory(http_base_url(conf), transport=transport)
    try:
        for statement in questdb_schema():
            await history.exec(statement)
    finally:
        await history.aclose()
    return tuple(t.name for t in TABLES)


# -- the local history ---------------------------------------------------------------------------------

LOCAL_LATEST_BOOKS = (
    f"SELECT {', '.join(BOOK_COLUMNS)} FROM (SELECT *, row_number() OVER (PARTITION BY ticker ORDER BY ts DESC) "
    "AS newest FROM kalshi_books WHERE ts >= ?{tickers}) WHERE newest = 1 ORDER BY ticker"
)
LOCAL_EDGE_HISTORY = (
    "SELECT (ts / ?) * ? AS bucket, max(edge), count(*) FROM signals "
    "WHERE ticker = ? AND side = ? AND kind = ? AND live = 1 AND ts >= ? GROUP BY bucket ORDER BY bucket"
)


class LocalHistory:
    """The same queries over the local history file (read-only connection per query, on a worker thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        if not self.path.exists():
            return []
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                return conn.execute(sql, tuple(params)).fetchall()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise HistoryError(f"the local history {self.path} cannot be read: {exc}") from None

    async def latest_books(self, since: datetime, tickers: Sequence[str] = ()) -> list[BookTop]:
        marks = f" AND ticker IN ({', '.join('?' for _ in tickers)})" if tickers else ""
        sql = LOCAL_LATEST_BOOKS.replace("{tickers}", marks)
        rows = await asyncio.to_thread(self._query, sql, (micros(since), *tickers))
        return [_book(r) for r in rows]

    async def edge_history(
        self, ticker: str, side: str, kind: str, since: datetime, bucket: timedelta
    ) -> list[EdgePoint]:
        sample_unit(bucket)  # the same buckets QuestDB accepts
        width = int(bucket.total_seconds()) * 1_000_000
        rows = await asyncio.to_thread(
            self._query, LOCAL_EDGE_HISTORY, (width, width, ticker, side, kind, micros(since))
        )
        return [EdgePoint(from_micros(int(b)), float(e), int(n)) for b, e, n in rows if e is not None]

    async def aclose(self) -> None:
        return None
