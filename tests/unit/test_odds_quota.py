"""Odds API cost rules, the daily budget and the response cache."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from engine.connectors.errors import QuotaExceededError
from engine.connectors.odds_api.cache import ResponseCache, cache_key
from engine.connectors.odds_api.client import OddsApiClient
from engine.connectors.odds_api.quota import QuotaBudget, QuotaState, odds_cost, scores_cost

NOON = datetime(2026, 11, 25, 12, tzinfo=UTC)


def test_costs_follow_the_docs() -> None:
    assert odds_cost(["h2h"], ["us"], []) == 1
    assert odds_cost(["h2h", "spreads", "totals"], ["us", "uk"], []) == 6
    assert odds_cost(["h2h", "spreads"], ["us"], ["draftkings", "fanduel", "betmgm"]) == 2
    assert odds_cost(["h2h"], [], [f"b{i}" for i in range(11)]) == 2
    assert (scores_cost(None), scores_cost(2)) == (1, 2)


def test_budget_refuses_a_call_that_would_exceed_it_and_resets_daily() -> None:
    budget = QuotaBudget(5)
    budget.check(3, NOON, "/odds")
    budget.record(3, QuotaState(), NOON)
    budget.check(2, NOON, "/odds")
    with pytest.raises(QuotaExceededError, match="costs 3 credits but only 2"):
        budget.check(3, NOON, "/odds")
    budget.check(3, NOON + timedelta(days=1), "/odds")  # a new UTC day


def test_venue_remaining_caps_the_budget_and_actual_cost_is_counted() -> None:
    budget = QuotaBudget(500)
    budget.record(1, QuotaState(remaining=2, used=498, last=3), NOON)
    assert budget.spent_today == 3  # x-requests-last wins over the estimate
    assert budget.left_today(NOON) == 2
    with pytest.raises(QuotaExceededError):
        budget.check(3, NOON, "/odds")


def test_cache_hits_until_ttl_and_ignores_the_key() -> None:
    cache = ResponseCache(max_entries=2)
    k = cache_key("/v4/sports/x/odds", {"markets": "h2h", "apiKey": "secret"})
    assert k == cache_key("/v4/sports/x/odds", {"markets": "h2h", "apiKey": "other"})
    assert "secret" not in repr(k)
    cache.put(k, [1], now=0, ttl_s=10)
    assert cache.get(k, now=5) == [1]
    assert cache.get(k, now=10) is None
    for i in range(3):
        cache.put(cache_key(f"/p{i}", {}), i, now=0, ttl_s=10)
    assert cache.get(cache_key("/p0", {}), now=1) is None  # evicted, capacity 2


async def test_the_key_is_redacted_from_httpx_log_lines_and_repr(caplog: pytest.LogCaptureFixture) -> None:
    async with OddsApiClient("http://127.0.0.1:9", "s3cr3t", QuotaBudget(1)) as client:
        assert "s3cr3t" not in repr(client)
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info(
            'HTTP Request: %s %s "%s"', "GET", "http://h/v4/sports?apiKey=s3cr3t&x=1", "200"
        )
    assert "s3cr3t" not in caplog.text and "apiKey=<redacted>&x=1" in caplog.text
