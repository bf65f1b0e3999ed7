"""The feed health rule: what an operator reads from a feed's history of messages and errors."""

from __future__ import annotations

from engine.runtime.health import FeedMonitor
from engine.runtime.snapshot import FeedState


def polled(connected: bool = False) -> FeedMonitor:
    return FeedMonitor("odds_api", stale_after_s=3600.0, down_after_failures=3, connected=connected)


def test_a_feed_that_never_answered_is_starting_then_down_after_an_error() -> None:
    m = polled()
    assert m.assess(0.0).state is FeedState.STARTING
    m.error("HTTP 503", 1.0)
    assert m.assess(1.0).state is FeedState.DOWN


def test_one_failed_call_after_a_success_is_degraded_for_a_while_then_connected() -> None:
    m = polled(connected=True)
    m.message(0.0)
    m.error("HTTP 503", 1.0)
    health = m.assess(1.0)
    assert health.state is FeedState.DEGRADED and health.detail == "HTTP 503"
    assert m.assess(1.0 + m.degraded_for_s + 0.1).state is FeedState.CONNECTED


def test_failed_calls_in_a_row_turn_a_polled_feed_down_and_one_success_brings_it_back() -> None:
    m = polled(connected=True)
    m.message(0.0)
    m.error("HTTP 503", 1.0)
    m.error("HTTP 503", 2.0)
    assert m.assess(2.0).state is FeedState.DEGRADED
    m.error("HTTP 502", 3.0)
    health = m.assess(3.0)
    assert health.state is FeedState.DOWN and health.detail == "3 calls failed in a row: HTTP 502"
    m.message(4.0)
    assert m.assess(4.0).state is FeedState.DEGRADED  # recovered, the recent errors still show
    m.error("HTTP 503", 5.0)
    assert m.assess(5.0).state is FeedState.DEGRADED  # the run started again from zero


def test_failures_alternating_with_successes_never_read_as_down() -> None:
    m = polled(connected=True)
    for t in range(10):
        m.error("HTTP 429", 2.0 * t)
        m.message(2.0 * t + 1)
    assert m.assess(20.0).state is FeedState.DEGRADED


def test_a_stream_without_the_limit_stays_degraded_through_repeated_resyncs() -> None:
    m = FeedMonitor("kalshi_ws", stale_after_s=5.0, connected=True)
    m.message(0.0)
    for t in range(1, 6):
        m.error("seq gap", float(t))
    assert m.assess(5.0).state is FeedState.DEGRADED


def test_silence_past_the_limit_is_stale_and_idle_wins_only_without_recent_errors() -> None:
    m = FeedMonitor("kalshi_ws", stale_after_s=5.0, connected=True)
    m.message(0.0)
    assert m.assess(4.0).state is FeedState.CONNECTED
    assert m.assess(6.0).state is FeedState.STALE
    m.idle_reason = "no credits left today"
    assert m.assess(6.0).state is FeedState.IDLE
    m.error("HTTP 503", 7.0)
    assert m.assess(7.0).state is FeedState.DEGRADED
