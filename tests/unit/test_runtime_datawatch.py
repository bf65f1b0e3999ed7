"""The pure data rules behind the breaker's data trips, at their boundaries, and lifecycle messages applied
to a market: which status each event type sets and when a re-discovery is asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from engine.connectors.kalshi.messages import MarketLifecycle
from engine.markets.kalshi import KalshiMarket
from engine.risk.limits import RiskLimits
from engine.risk.proposal import Rule
from engine.risk.state import BreakerMode, RiskError
from engine.risk.transitions import book_mismatch, data_fresh, data_stale, initial_state, reduce_only
from engine.runtime.datawatch import (
    FRESH,
    RESYNCS_BEFORE_TRIP,
    Check,
    FeedFacts,
    MismatchWatch,
    feed_verdict,
    ticker_prices,
)
from engine.runtime.lifecycle import apply_lifecycle

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
AGE = timedelta(seconds=30)
SILENCE = timedelta(seconds=30)
S = timedelta(seconds=1)


def facts(**kw: object) -> FeedFacts:
    base: dict[str, object] = dict(
        connected=True, books=10, since=T0, last_message_at=T0, last_delta_at=T0, last_ticker_at=T0
    )
    base.update(kw)
    return FeedFacts(**base)  # type: ignore[arg-type]


def test_silence_on_an_open_connection_trips_book_age_exactly_past_the_limit() -> None:
    assert feed_verdict(facts(), AGE, SILENCE, T0 + AGE) is FRESH
    verdict = feed_verdict(facts(), AGE, SILENCE, T0 + AGE + S / 1000)
    assert verdict.rule is Rule.BOOK_AGE and "30.0s" in verdict.detail
    # silence counts from the newest connection at most
    assert feed_verdict(facts(since=T0 + AGE), AGE, SILENCE, T0 + AGE + S) is FRESH


def test_a_closed_connection_or_no_books_is_not_a_stall() -> None:
    later = T0 + 10 * AGE
    assert feed_verdict(facts(connected=False), AGE, SILENCE, later) is FRESH
    assert feed_verdict(facts(books=0), AGE, SILENCE, later) is FRESH
    assert feed_verdict(facts(since=None), AGE, SILENCE, later) is FRESH


def test_tickers_without_book_changes_trip_feed_silent() -> None:
    quiet = facts(last_message_at=T0 + SILENCE + S, last_ticker_at=T0 + SILENCE)
    assert feed_verdict(quiet, AGE, SILENCE, T0 + SILENCE + S) is FRESH
    quiet = facts(last_message_at=T0 + SILENCE + S, last_ticker_at=T0 + SILENCE + S)
    verdict = feed_verdict(quiet, AGE, SILENCE, T0 + SILENCE + S)
    assert verdict.rule is Rule.FEED_SILENT and "without a book change" in verdict.detail
    flowing = facts(last_message_at=T0 + 40 * S, last_ticker_at=T0 + 40 * S, last_delta_at=T0 + 39 * S)
    assert feed_verdict(flowing, AGE, SILENCE, T0 + 40 * S) is FRESH


def test_ticker_prices_treat_an_empty_side_as_no_level() -> None:
    assert ticker_prices(Decimal(0), Decimal(1)) == (None, None)
    assert ticker_prices(Decimal("0.41"), Decimal("0.43")) == (Decimal("0.41"), Decimal("0.43"))
    assert ticker_prices(None, None) == (None, None)


TOP = (Decimal("0.41"), Decimal("0.43"))
SKEWED = (Decimal("0.42"), Decimal("0.44"))


def test_a_disagreement_resyncs_at_once_and_trips_only_when_streaming_snapshots_keep_disagreeing() -> None:
    watch = MismatchWatch(grace=SILENCE)
    assert watch.check("A", TOP, TOP, T0) is Check.AGREES
    assert watch.check("A", TOP, SKEWED, T0) is Check.RESYNC
    assert watch.check("A", None, SKEWED, T0 + S) is Check.WAIT  # the snapshot is on its way
    assert watch.check("A", TOP, SKEWED, T0 + SILENCE) is Check.WAIT  # within the grace
    t = T0 + SILENCE + S
    for _ in range(RESYNCS_BEFORE_TRIP - 1):
        assert watch.check("A", TOP, SKEWED, t, streamed_at=t - S / 2) is Check.RESYNC
        t += SILENCE + S
    assert watch.check("A", TOP, SKEWED, t, streamed_at=t - S / 2) is Check.TRIP
    tripped = watch.take_tripped()
    assert set(tripped) == {"A"} and watch.stands("A", tripped["A"]) and watch.take_tripped() == {}
    assert "vs ticker" in tripped["A"].detail("A")
    watch.reset()
    assert not watch.stands("A", tripped["A"])  # a resume drops it
    assert watch.check("A", SKEWED, SKEWED, t + S) is Check.AGREES and not watch.open


def test_a_frozen_book_is_resynced_each_grace_but_never_trips() -> None:
    watch = MismatchWatch(grace=SILENCE)
    assert watch.check("A", TOP, SKEWED, T0) is Check.RESYNC
    t = T0
    for _ in range(10):
        t += SILENCE + S
        assert watch.check("A", TOP, SKEWED, t, streamed_at=T0 - S) is Check.RESYNC
    assert watch.take_tripped() == {}


def test_breaker_data_trips_reduce_and_lift_by_themselves_a_mismatch_halts() -> None:
    limits = RiskLimits()
    state = initial_state(limits, T0)
    stale = data_stale(state, Rule.BOOK_AGE, "no message for 31s", T0)
    assert stale.mode is BreakerMode.REDUCING and stale.rule == "book_age"
    assert data_fresh(stale, T0 + S).mode is BreakerMode.ACTIVE
    capped = reduce_only(state, "operator", T0)
    assert data_fresh(capped, T0).mode is BreakerMode.REDUCING  # only a data trip lifts by itself
    halted = book_mismatch(stale, "book 0.41/0.43 vs ticker 0.42/0.44", T0)
    assert halted.mode is BreakerMode.HALTED and halted.rule == "book_mismatch"
    assert data_fresh(halted, T0).mode is BreakerMode.HALTED
    with pytest.raises(RiskError):
        data_stale(state, Rule.DAILY_LOSS, "x", T0)


MARKET = KalshiMarket("KXNBAGAME-26DEC01LACSAC-LAC", "KXNBAGAME-26DEC01LACSAC", "active")


def lifecycle(event_type: str, **kw: object) -> MarketLifecycle:
    return MarketLifecycle(1, MARKET.ticker, event_type, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("event_type", "extra", "status", "rediscover"),
    [
        ("deactivated", {"is_deactivated": True}, "inactive", False),
        ("activated", {"is_deactivated": False}, "active", True),
        ("determined", {"result": "yes"}, "determined", False),
        ("settled", {}, "finalized", False),
        ("close_date_updated", {"close_ts": int((T0 - S).timestamp())}, "closed", False),
    ],
)
def test_lifecycle_sets_the_status_the_api_uses(
    event_type: str, extra: dict[str, object], status: str, rediscover: bool
) -> None:
    start = MARKET if event_type != "activated" else KalshiMarket(MARKET.ticker, MARKET.event_ticker, "inactive")
    change = apply_lifecycle(start, lifecycle(event_type, **extra), T0)
    assert change.market is not None and change.market.status == status
    assert change.rediscover is rediscover


def test_lifecycle_of_a_market_not_on_the_board_or_without_effect() -> None:
    assert apply_lifecycle(None, lifecycle("created"), T0).rediscover
    assert apply_lifecycle(None, lifecycle("settled"), T0).market is None
    later = int((T0 + AGE).timestamp())
    moved = apply_lifecycle(MARKET, lifecycle("close_date_updated", close_ts=later), T0)
    assert moved.market is not None and moved.market.status == "active"
    assert moved.market.close_time == datetime.fromtimestamp(later, UTC)
    assert apply_lifecycle(MARKET, lifecycle("metadata_updated"), T0) == type(moved)(None, True)
