"""Local order books: snapshot + delta application, seq gaps, stale marking, malformed messages."""

from __future__ import annotations

import json
import math
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.connectors.errors import ProtocolError
from engine.connectors.kalshi.local_book import LocalBooks
from engine.connectors.kalshi.messages import (
    ChannelMessage,
    CommandAck,
    OrderbookDelta,
    OrderbookSnapshot,
    Subscribed,
    TickerUpdate,
    WsError,
    parse_message,
)
from engine.markets.kalshi import Level

T1, T2 = "KXNFLGAME-26OCT05ATLNO-ATL", "KXNFLGAME-26OCT05ATLNO-NO"


def snap(sid: int, seq: int, ticker: str, yes: list[list[str]], no: list[list[str]]) -> OrderbookSnapshot:
    doc = {"type": "orderbook_snapshot", "sid": sid, "seq": seq,
           "msg": {"market_ticker": ticker, "market_id": "m", "yes_dollars_fp": yes, "no_dollars_fp": no}}  # fmt: skip
    msg = parse_message(json.dumps(doc))
    assert isinstance(msg, OrderbookSnapshot)
    return msg


def delta(sid: int, seq: int, ticker: str, side: str, price: str, amount: str) -> OrderbookDelta:
    doc = {"type": "orderbook_delta", "sid": sid, "seq": seq,
           "msg": {"market_ticker": ticker, "market_id": "m", "price_dollars": price, "delta_fp": amount,
                   "side": side, "ts_ms": 1}}  # fmt: skip
    msg = parse_message(json.dumps(doc))
    assert isinstance(msg, OrderbookDelta)
    return msg


def test_snapshot_then_deltas_build_the_book() -> None:
    books = LocalBooks()
    books.on_snapshot(snap(1, 1, T1, [["0.4000", "10.00"], ["0.4200", "5.00"]], [["0.5500", "7.00"]]), now=0.0)
    assert books.on_delta(delta(1, 2, T1, "yes", "0.4200", "-5.00"), now=1.0).changed == (T1,)
    books.on_delta(delta(1, 3, T1, "no", "0.5600", "3.50"), now=2.0)
    book = books.orderbook(T1)
    assert book is not None
    assert book.yes_bids == (Level(D("0.4000"), D("10.00")),)
    assert book.no_bids == (Level(D("0.5600"), D("3.50")), Level(D("0.5500"), D("7.00")))
    assert book.best_ask("yes") == Level(D("0.4400"), D("3.50"))
    assert books.staleness(T1, now=5.0) == 3.0
    assert books.applied == 2


def test_gap_marks_every_book_of_the_sid_stale_until_its_snapshot() -> None:
    books = LocalBooks()
    books.on_snapshot(snap(1, 1, T1, [["0.40", "10"]], []), now=0)
    books.on_snapshot(snap(1, 2, T2, [["0.55", "10"]], []), now=0)
    update = books.on_delta(delta(1, 4, T1, "yes", "0.40", "1"), now=1)  # seq 3 lost
    assert update.resync == {1: (T1, T2)}
    assert books.is_stale(T1) and books.is_stale(T2)
    assert books.orderbook(T1) is None
    assert books.on_delta(delta(1, 5, T1, "yes", "0.40", "1"), now=1).changed == ()  # ignored while stale
    books.on_snapshot(snap(1, 6, T1, [["0.41", "2"]], []), now=2)
    assert not books.is_stale(T1) and books.is_stale(T2)
    books.on_delta(delta(1, 7, T1, "yes", "0.41", "1"), now=2)
    assert books.orderbook(T1) == books.orderbook(T1)
    ob = books.orderbook(T1)
    assert ob is not None and ob.yes_bids == (Level(D("0.41"), D("3")),)
    assert books.gaps == 1


def test_old_and_duplicate_seq_are_ignored() -> None:
    books = LocalBooks()
    books.on_snapshot(snap(1, 5, T1, [["0.40", "10"]], []), now=0)
    assert books.on_delta(delta(1, 5, T1, "yes", "0.40", "5"), now=0).changed == ()
    ob = books.orderbook(T1)
    assert ob is not None and ob.yes_bids[0].count == D(10)


def test_delta_making_a_level_negative_asks_for_a_snapshot() -> None:
    books = LocalBooks()
    books.on_snapshot(snap(2, 1, T1, [["0.40", "1"]], []), now=0)
    update = books.on_delta(delta(2, 2, T1, "yes", "0.40", "-2"), now=0)
    assert update.resync == {2: (T1,)} and books.is_stale(T1)


def test_reset_connection_makes_everything_stale() -> None:
    books = LocalBooks()
    books.on_snapshot(snap(1, 1, T1, [], []), now=0)
    books.reset_connection()
    assert books.is_stale(T1)
    books.on_snapshot(snap(9, 1, T1, [], [["0.3", "1"]]), now=0)  # new sid numbering after reconnect
    assert not books.is_stale(T1)


def test_unknown_market_is_stale_with_infinite_age() -> None:
    books = LocalBooks()
    assert books.is_stale("NOPE") and math.isinf(books.staleness("NOPE", now=0))


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        '{"no_type": 1}',
        '{"type": "orderbook_delta", "sid": 1, "msg": {}}',
        '{"type": "orderbook_delta", "sid": 1, "seq": 2, "msg": {"market_ticker": "X", "side": "up",'
        ' "price_dollars": "0.5", "delta_fp": "1"}}',
        '{"type": "orderbook_snapshot", "sid": 1, "seq": 2, "msg": {"market_ticker": "X",'
        ' "yes_dollars_fp": [["1.5", "1"]]}}',
        '{"type": "orderbook_delta", "sid": "1", "seq": 2, "msg": {}}',
    ],
)
def test_malformed_frames_raise_protocol_error(frame: str) -> None:
    with pytest.raises(ProtocolError):
        parse_message(frame)


def test_other_messages_parse() -> None:
    sub = parse_message('{"id": 1, "type": "subscribed", "msg": {"channel": "orderbook_delta", "sid": 3}}')
    assert sub == Subscribed(1, "orderbook_delta", 3)
    err = parse_message('{"id": 2, "type": "error", "msg": {"code": 6, "msg": "Already subscribed"}}')
    assert err == WsError(2, 6, "Already subscribed")
    tick = parse_message(
        '{"type": "ticker", "sid": 11, "msg": {"market_ticker": "A", "price_dollars": "0.480",'
        ' "yes_bid_dollars": "0.450", "yes_ask_dollars": "0.530", "ts_ms": 7}}'
    )
    assert isinstance(tick, TickerUpdate) and tick.yes_ask == D("0.530") and tick.ts_ms == 7
    event = parse_message('{"type": "event_lifecycle", "sid": 13, "seq": 2, "msg": {"event_ticker": "E"}}')
    assert isinstance(event, ChannelMessage) and event.seq == 2 and event.msg["event_ticker"] == "E"


def test_ok_answers_advance_the_sequence() -> None:
    books = LocalBooks()
    books.on_snapshot(snap(1, 1, T1, [["0.40", "1"]], []), now=0)
    assert books.on_sequenced(1, 2).resync is None  # the "ok" of an update_subscription
    assert books.on_delta(delta(1, 3, T1, "yes", "0.40", "1"), now=0).changed == (T1,)
    assert books.on_sequenced(1, 5).resync == {1: (T1,)}
    ack = parse_message('{"id": 4, "sid": 1, "seq": 6, "type": "ok", "msg": {"market_tickers": []}}')
    assert isinstance(ack, CommandAck) and (ack.sid, ack.seq) == (1, 6)


@given(
    st.lists(
        st.tuples(st.sampled_from(["yes", "no"]), st.integers(1, 99), st.integers(-50, 50)),
        max_size=60,
    )
)
def test_deltas_equal_a_reference_ladder(steps: list[tuple[str, int, int]]) -> None:
    """Any sequence of in-order deltas gives the same ladder as adding them up by hand, and a delta that
    would go negative marks the book stale instead of corrupting it."""
    books = LocalBooks()
    books.on_snapshot(snap(1, 1, T1, [], []), now=0)
    ref: dict[tuple[str, int], int] = {}
    for seq, (side, cents, amount) in enumerate(steps, start=2):
        before = ref.get((side, cents), 0)
        update = books.on_delta(delta(1, seq, T1, side, f"0.{cents:02d}", str(amount)), now=0)
        if books.is_stale(T1):
            assert before + amount < 0 and update.resync == {1: (T1,)}
            return
        ref[(side, cents)] = before + amount
    ob = books.orderbook(T1)
    assert ob is not None
    for side, ladder in (("yes", ob.yes_bids), ("no", ob.no_bids)):
        want = sorted(((D(c) / 100, D(n)) for (s, c), n in ref.items() if s == side and n > 0), reverse=True)
        assert [(lvl.price, lvl.count) for lvl in ladder] == want
