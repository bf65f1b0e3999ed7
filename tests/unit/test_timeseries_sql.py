"""The SQL the time series sends, checked as text against golden strings; the ``/exec`` client against a
loopback HTTP server that records the query it got; and the same history from the local SQLite file."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from engine.timeseries.history import (
    HistoryError,
    LocalHistory,
    QuestDbHistory,
    create_questdb_tables,
    edge_history_sql,
    latest_books_sql,
    literal,
)
from engine.timeseries.local import SqliteBackend
from engine.timeseries.rows import Row, e6
from engine.timeseries.schema import KALSHI_BOOKS, SIGNALS, questdb_create, questdb_schema
from engine.timeseries.writer import QueuedWriter

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def test_create_table_golden() -> None:
    assert questdb_create(KALSHI_BOOKS) == (
        "CREATE TABLE IF NOT EXISTS kalshi_books (\n"
        "  ts TIMESTAMP,\n"
        "  ticker SYMBOL,\n"
        "  trusted BOOLEAN,\n"
        "  yes_bid_e6 LONG,\n"
        "  yes_ask_e6 LONG,\n"
        "  yes_bid_size DOUBLE,\n"
        "  yes_ask_size DOUBLE,\n"
        "  yes_depth DOUBLE,\n"
        "  no_depth DOUBLE,\n"
        "  yes_levels LONG,\n"
        "  no_levels LONG\n"
        ") TIMESTAMP(ts) PARTITION BY DAY WAL;"
    )
    assert questdb_create(SIGNALS).endswith(
        "  ev_e6 LONG\n) TIMESTAMP(ts) PARTITION BY DAY WAL\nDEDUP UPSERT KEYS(ts, ticker, kind, side);"
    )
    names = [s.split(" (")[0].removeprefix("CREATE TABLE IF NOT EXISTS ") for s in questdb_schema()]
    assert names == ["kalshi_books", "odds_quotes", "fair_values", "signals", "fills"]
    assert all("TIMESTAMP(ts) PARTITION BY DAY" in s for s in questdb_schema())


def test_latest_books_golden() -> None:
    assert latest_books_sql(T0) == (
        "SELECT ts, ticker, trusted, yes_bid_e6, yes_ask_e6, yes_bid_size, yes_ask_size FROM kalshi_books "
        "WHERE ts >= '2026-12-01T15:00:00.000000Z' LATEST ON ts PARTITION BY ticker;"
    )
    assert latest_books_sql(T0 + timedelta(microseconds=7), ["A-1", "O'B"]) == (
        "SELECT ts, ticker, trusted, yes_bid_e6, yes_ask_e6, yes_bid_size, yes_ask_size FROM kalshi_books "
        "WHERE ts >= '2026-12-01T15:00:00.000007Z' AND ticker IN ('A-1', 'O''B') LATEST ON ts PARTITION BY ticker;"
    )


def test_edge_history_golden() -> None:
    assert edge_history_sql("KXNBAGAME-X-BOS", "yes", "edge", T0, timedelta(minutes=1)) == (
        "SELECT ts, max(edge) AS edge, count() AS samples FROM signals WHERE ticker = 'KXNBAGAME-X-BOS' "
        "AND side = 'yes' AND kind = 'edge' AND live = true AND ts >= '2026-12-01T15:00:00.000000Z' "
        "SAMPLE BY 1m ALIGN TO CALENDAR;"
    )
    assert "SAMPLE BY 30s " in edge_history_sql("T", "no", "arb", T0, timedelta(seconds=30))
    assert "SAMPLE BY 2h " in edge_history_sql("T", "no", "arb", T0, timedelta(hours=2))
    with pytest.raises(ValueError, match="whole number of seconds"):
        edge_history_sql("T", "no", "arb", T0, timedelta(milliseconds=1500))


def test_values_are_quoted_and_money_stays_exact() -> None:
    assert literal("it's") == "'it''s'"
    with pytest.raises(ValueError, match="control character"):
        literal("a\nb")
    with pytest.raises(ValueError, match="naive"):
        latest_books_sql(datetime(2026, 1, 1))
    assert e6(Decimal("0.4200")) == 420000
    with pytest.raises(ValueError, match="millionths"):
        e6(Decimal("0.0000001"))


class _ExecServer:
    """Answers ``/exec`` with canned JSON and records each query."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        self.queries: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                url = urlparse(self.path)
                outer.queries.append(parse_qs(url.query)["query"][0])
                code, doc = answers.pop(0) if answers else (200, {"ddl": "OK"})
                body = json.dumps(doc).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def exec_server() -> Iterator[_ExecServer]:
    answers: list[tuple[int, dict[str, Any]]] = []
    srv = _ExecServer(answers)
    srv.answers = answers  # type: ignore[attr-defined]
    yield srv
    srv.close()


async def test_exec_sends_the_golden_sql_and_reads_the_dataset(exec_server: _ExecServer) -> None:
    exec_server.answers.extend([  # type: ignore[attr-defined]
        (200, {"query": "...", "columns": [], "count": 2, "dataset": [
            ["2026-12-01T15:00:01.000000Z", "B", True, 420000, 440000, 10.0, 5.0],
            ["2026-12-01T15:00:02.000000Z", "A", False, None, None, None, None]]}),
        (200, {"columns": [], "dataset": [["2026-12-01T15:00:00.000000Z", 0.05, 3]], "count": 1}),
        (400, {"query": "x", "error": "table does not exist [table=signals]", "position": 0}),
    ])  # fmt: skip
    history = QuestDbHistory(exec_server.url)
    books = await history.latest_books(T0, ["A", "B"])
    points = await history.edge_history("A", "yes", "edge", T0, timedelta(minutes=1))
    with pytest.raises(HistoryError, match="table does not exist"):
        await history.edge_history("A", "yes", "edge", T0, timedelta(minutes=1))
    await history.aclose()
    assert exec_server.queries[0] == latest_books_sql(T0, ["A", "B"])
    assert exec_server.queries[1] == edge_history_sql("A", "yes", "edge", T0, timedelta(minutes=1))
    assert [b.ticker for b in books] == ["A", "B"]
    assert books[1].yes_bid == Decimal("0.42") and books[1].yes_ask == Decimal("0.44") and books[1].trusted
    assert books[0].yes_bid is None and not books[0].trusted
    assert points[0].ts == T0 and points[0].edge == 0.05 and points[0].samples == 3


async def test_schema_creates_every_table(exec_server: _ExecServer) -> None:
    tables = await create_questdb_tables(f"http::addr={exec_server.url.removeprefix('http://')};")
    assert tables == ("kalshi_books", "odds_quotes", "fair_values", "signals", "fills")
    assert exec_server.queries == list(questdb_schema())


async def test_questdb_down_is_a_clear_error() -> None:
    history = QuestDbHistory("http://127.0.0.1:9", timeout_s=0.5)
    with pytest.raises(HistoryError, match=r"QuestDB at http://127.0.0.1:9 did not answer"):
        await history.latest_books(T0)
    await history.aclose()


async def test_local_history_answers_the_same_questions(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    writer = QueuedWriter("history", SqliteBackend(path), flush_interval_s=0.05)
    writer.start()
    rows = [
        Row("kalshi_books", {"ticker": "A"}, {"trusted": True, "yes_bid_e6": 400000, "yes_ask_e6": 430000}, T0),
        Row("kalshi_books", {"ticker": "A"}, {"trusted": True, "yes_bid_e6": 410000, "yes_ask_e6": 420000},
            T0 + timedelta(seconds=5)),
        Row("kalshi_books", {"ticker": "B"}, {"trusted": False}, T0 + timedelta(seconds=1)),
    ]  # fmt: skip
    for i, edge in enumerate([0.03, 0.05, 0.04, 0.02]):
        rows.append(Row("signals", {"ticker": "A", "kind": "edge", "side": "yes", "event_ticker": "E"},
                        {"live": True, "edge": edge}, T0 + timedelta(seconds=30 * i)))  # fmt: skip
    rows.append(Row("signals", {"ticker": "A", "kind": "edge", "side": "yes", "event_ticker": "E"},
                    {"live": False, "edge": 0.9}, T0 + timedelta(seconds=100)))  # fmt: skip
    for row in rows:
        writer.put(row)
    assert writer.wait_idle(10)
    writer.close()
    assert writer.written == len(rows) and writer.dropped == 0
    history = LocalHistory(path)
    books = await history.latest_books(T0 - timedelta(minutes=1))
    assert [(b.ticker, b.ts, b.yes_bid, b.yes_ask, b.trusted) for b in books] == [
        ("A", T0 + timedelta(seconds=5), Decimal("0.41"), Decimal("0.42"), True),
        ("B", T0 + timedelta(seconds=1), None, None, False),
    ]
    assert [b.ticker for b in await history.latest_books(T0 - timedelta(minutes=1), ["B"])] == ["B"]
    points = await history.edge_history("A", "yes", "edge", T0, timedelta(minutes=1))
    assert [(p.ts, p.edge, p.samples) for p in points] == [(T0, 0.05, 2), (T0 + timedelta(minutes=1), 0.04, 2)]
    assert await LocalHistory(tmp_path / "missing.db").latest_books(T0) == []
