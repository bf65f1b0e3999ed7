"""The real ``questdb`` Sender (ILP over HTTP) writing the engine's rows to a loopback listener that parses
every line: table, symbols, columns and timestamps row by row; batching (never one request per row); an
outage that drops rows (counted, shown in health) without ever blocking the caller, then recovery."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from builders import NOW, h2h_event, yes_asks
from ilp_listener import IlpListener

from engine.detection.signals import Side, Signal, SignalKind
from engine.execution.model import Action, FillRecord, Mode
from engine.runtime.snapshot import FeedState
from engine.timeseries.questdb_ilp import QuestDbBackend, TimeSeriesConfigError, conf_keys, http_base_url
from engine.timeseries.sink import TimeSeriesSink
from engine.timeseries.writer import QueuedWriter

pytestmark = pytest.mark.integration
TICKER = "KXNFLGAME-26DEC02DETSF-DET"


def _ns(ts: datetime) -> int:
    return (ts - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000


def _signal(edge: str = "0.05") -> Signal:
    return Signal(
        kind=SignalKind.EDGE, ticker=TICKER, side=Side.YES, event_ticker="KXNFLGAME-26DEC02DETSF", fair=0.61,
        books={"draftkings": 0.6, "fanduel": 0.62}, books_agree=2, ask=Decimal("0.5600"), edge=Decimal(edge),
        count=10, limit_price=Decimal("0.5700"), cost=Decimal("5.60"), fees=Decimal("0.1200"),
        ev=Decimal("0.3812345"), odds_event_id="ev1",
    )  # fmt: skip


def _writer(srv: IlpListener, rows: int = 1000, interval_ms: int = 60_000) -> QueuedWriter:
    backend = QuestDbBackend(srv.conf, auto_flush_rows=rows, auto_flush_interval_ms=interval_ms, retry_timeout_ms=0)
    return QueuedWriter("questdb", backend, flush_interval_s=0.2, capacity=1000)


async def test_every_row_reaches_the_listener_as_typed_ilp() -> None:
    book = yes_asks(TICKER, [("0.5600", "120"), ("0.5800", "40")], yes_bids=[("0.5400", "75.5")])
    event = h2h_event("ev1", "San Francisco 49ers", "Detroit Lions", {"draftkings": {"Detroit Lions": -150,
                      "San Francisco 49ers": 130}})  # fmt: skip
    fill = FillRecord("f-1", "coid-1", TICKER, Side.YES, Action.BUY, 10, Decimal("0.5600"), Decimal("0.1200"),
                      NOW + timedelta(seconds=3), Mode.PAPER)  # fmt: skip
    with IlpListener() as srv:
        sink = TimeSeriesSink(_writer(srv))
        await sink.start()
        sink.book(TICKER, book, NOW)
        sink.book(TICKER, None, NOW + timedelta(seconds=1))
        sink.odds("americanfootball_nfl", [], [event], NOW + timedelta(seconds=2))
        sink.signals([_signal()], [], NOW + timedelta(seconds=2))
        sink.signals([], [_signal()], NOW + timedelta(seconds=4))
        sink.fill(fill)
        lines = srv.wait_lines(10)
        await sink.close()
    assert [ln.table for ln in lines] == ["kalshi_books", "kalshi_books", "odds_quotes", "odds_quotes", "signals",
                                          "fair_values", "fair_values", "fair_values", "signals", "fills"]  # fmt: skip
    books, stale = lines[0], lines[1]
    assert books.symbols == {"ticker": TICKER}
    assert books.fields == {"trusted": True, "yes_bid_e6": 540000, "yes_ask_e6": 560000, "yes_bid_size": 75.5,
                            "yes_ask_size": 120.0, "yes_depth": 75.5, "no_depth": 160.0, "yes_levels": 1,
                            "no_levels": 2}  # fmt: skip
    assert books.ts_ns == _ns(NOW)
    assert stale.fields == {"trusted": False} and stale.ts_ns == _ns(NOW + timedelta(seconds=1))
    detroit = next(ln for ln in lines[2:4] if ln.symbols["outcome"] == "Detroit Lions")
    assert detroit.symbols == {"sport": "americanfootball_nfl", "event_id": "ev1", "book": "draftkings",
                               "market": "h2h", "outcome": "Detroit Lions"}  # fmt: skip
    assert detroit.fields["american"] == -150
    assert detroit.fields["implied"] == pytest.approx(0.6)
    assert detroit.fields["quoted_at"] == ("t", _ns(NOW - timedelta(seconds=10)) // 1000)
    signal = lines[4]
    assert signal.symbols == {"ticker": TICKER, "kind": "edge", "side": "yes", "event_ticker": "KXNFLGAME-26DEC02DETSF"}
    assert signal.fields == {"live": True, "edge": 0.05, "fair": 0.61, "books_agree": 2, "count": 10,
                             "ask_e6": 560000, "limit_e6": 570000, "cost_e6": 5600000, "fees_e6": 120000,
                             "ev_e6": 381234}  # fmt: skip
    assert {ln.symbols["book"]: ln.fields["prob"] for ln in lines[5:8]} == {"consensus": 0.61, "draftkings": 0.6,
                                                                          "fanduel": 0.62}  # fmt: skip
    assert lines[8].fields["live"] is False and lines[8].ts_ns == _ns(NOW + timedelta(seconds=4))
    fills = lines[9]
    assert fills.symbols == {"ticker": TICKER, "side": "yes", "action": "buy", "mode": "paper"}
    assert fills.fields == {"fill_id": "f-1", "client_order_id": "coid-1", "count": 10, "price_e6": 560000,
                            "fee_e6": 120000, "taker": True}  # fmt: skip
    assert fills.ts_ns == _ns(NOW + timedelta(seconds=3))


async def test_rows_are_batched_by_count_never_one_request_per_row() -> None:
    with IlpListener() as srv:
        writer = _writer(srv, rows=100)
        sink = TimeSeriesSink(writer)
        await sink.start()
        book = yes_asks(TICKER, [("0.5600", "10")])
        for i in range(250):
            sink.book(TICKER, book, NOW + timedelta(milliseconds=i))
        lines = srv.wait_lines(250)
        await sink.close()
    posts = [r for r in srv.received.requests if r[0] == "POST"]
    assert len(lines) == 250
    assert [ln.ts_ns for ln in lines] == [_ns(NOW + timedelta(milliseconds=i)) for i in range(250)]
    assert len(posts) == 3  # 100 + 100 by the row count, the last 50 by the quiet-period flush
    assert all(path.startswith("/write") for _, path, _ in posts)
    assert writer.written == 250 and writer.dropped == 0


async def test_an_outage_drops_rows_counted_and_never_blocks_then_recovers() -> None:
    with IlpListener() as srv:
        writer = _writer(srv, rows=10)
        sink = TimeSeriesSink(writer)
        await sink.start()
        book = yes_asks(TICKER, [("0.5600", "10")])
        srv.fail = True
        started = time.monotonic()
        for i in range(5000):  # far more than the queue holds
            sink.book(TICKER, book, NOW + timedelta(milliseconds=i))
        assert time.monotonic() - started < 1.0, "the caller waited on the writer"
        assert writer.wait_idle(15)
        assert writer.queued_dropped > 0  # the queue (capacity 1000) overflowed while the server refused
        assert writer.failed_dropped >= 10  # and every batch sent was lost
        assert writer.written == 0 and writer.dropped == 5000  # every row accounted for
        assert sink.health()[0].state in {FeedState.DOWN, FeedState.DEGRADED}
        assert "test outage" in sink.health()[0].detail
        assert sink.drops()["questdb_rows"] == 5000
        srv.fail = False
        before = len(srv.received.lines)
        for i in range(20):
            sink.book(TICKER, book, NOW + timedelta(seconds=10, milliseconds=i))
        lines = srv.wait_lines(before + 20)
        await sink.close()
    assert len(lines) - before == 20
    health = sink.health()[0]
    assert health.state is FeedState.CONNECTED, health
    assert health.extra["rows_dropped"] == writer.dropped > 0


def test_conf_must_be_ilp_over_http() -> None:
    assert conf_keys("http::addr=127.0.0.1:9000;auto_flush_rows=5;") == (
        "http",
        {"addr": "127.0.0.1:9000", "auto_flush_rows": "5"},
    )
    assert http_base_url("https::addr=db.example:9000;") == "https://db.example:9000"
    for bad in ("tcp::addr=127.0.0.1:9009;", "127.0.0.1:9000", "http::auto_flush=off;", "http::addr;"):
        with pytest.raises(TimeSeriesConfigError, match="QUESTDB_CONF"):
            QuestDbBackend(bad)
    backend = QuestDbBackend("http::addr=127.0.0.1:9000;protocol_version=2;auto_flush_rows=7;")
    assert "protocol_version" not in backend.options and "auto_flush_rows" not in backend.options
