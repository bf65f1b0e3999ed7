"""The Odds API client against the simulator: parsing, quota headers, cache, and the budget never exceeded."""

from __future__ import annotations

from typing import Any

import pytest
from clientkit import game_in, odds_client

from engine.connectors.errors import AuthError, QuotaExceededError

pytestmark = pytest.mark.integration
BOOKS = ("draftkings", "fanduel", "betmgm", "williamhill_us")


async def test_free_calls_then_one_odds_call_with_every_book(sim: Any) -> None:
    sport = game_in(sim, "nba").sport_key
    async with odds_client(sim) as odds:
        sports = await odds.sports()
        schedule = await odds.events(sport)
        assert sim.odds.credits_used == 0
        events = await odds.odds(sport, markets=["h2h"], bookmakers=BOOKS)
    assert sport in {s["key"] for s in sports}
    assert {e.id for e in events} == {e.id for e in schedule}
    assert all(e.bookmakers and all(b.market("h2h") for b in e.bookmakers) for e in events)
    assert sim.odds.credits_used == 1
    assert odds.quota.remaining == sim.odds.credits_remaining and odds.quota.last == 1
    assert odds.payload_errors == []


async def test_cache_serves_repeats_without_spending(sim: Any) -> None:
    sport = game_in(sim, "nba").sport_key
    async with odds_client(sim) as odds:
        first = await odds.odds_raw(sport, bookmakers=BOOKS)
        second = await odds.odds_raw(sport, bookmakers=BOOKS)
    assert first == second and sim.odds.credits_used == 1 and odds.cache.hits == 1


async def test_budget_is_never_exceeded(sim: Any) -> None:
    sport = game_in(sim, "nba").sport_key
    async with odds_client(sim, daily_credits=3, odds_ttl_s=0) as odds:
        await odds.odds_raw(sport, markets=["h2h", "spreads"], bookmakers=BOOKS)  # 2 credits
        with pytest.raises(QuotaExceededError):
            await odds.odds_raw(sport, markets=["h2h", "spreads"], bookmakers=BOOKS)
        await odds.odds_raw(sport, markets=["h2h"], bookmakers=BOOKS)  # the last credit
        with pytest.raises(QuotaExceededError):
            await odds.odds_raw(sport, markets=["h2h"], bookmakers=BOOKS)
    assert sim.odds.credits_used == 3


async def test_venue_remaining_credits_are_respected(sim: Any) -> None:
    sport = game_in(sim, "nba").sport_key
    sim.odds.credits_remaining = 1
    async with odds_client(sim) as odds:
        state = await odds.check_key()
        assert state.remaining == 1
        with pytest.raises(QuotaExceededError):
            await odds.odds_raw(sport, markets=["h2h", "totals"], bookmakers=BOOKS)
    assert sim.odds.credits_used == 0


async def test_bad_key_is_refused_without_echoing_it(sim: Any) -> None:
    async with odds_client(sim, api_key="not-the-key") as odds:
        with pytest.raises(AuthError) as info:
            await odds.sports()
    assert "not-the-key" not in str(info.value)


async def test_event_filters_and_scores(sim: Any) -> None:
    games = [g for g in sim.board.games if g.sport_key == game_in(sim, "nba").sport_key]
    sport = games[0].sport_key
    first = min(games, key=lambda g: g.commence)
    async with odds_client(sim) as odds:
        picked = await odds.odds(sport, bookmakers=BOOKS, event_ids=[first.odds_id])
        window = await odds.events(sport, commence_time_from=first.commence, commence_time_to=first.commence)
        scores = await odds.scores(sport, days_from=1)
    assert [e.id for e in picked] == [first.odds_id]
    assert first.odds_id in {e.id for e in window}
    assert all(e.commence_time == first.commence for e in window)
    assert {s["id"] for s in scores} == {g.odds_id for g in games}
    assert sim.odds.credits_used == 1 + 2  # odds (one market, four books) + scores with daysFrom


async def test_exhausted_venue_quota_is_a_quota_error(sim: Any) -> None:
    sim.odds.credits_remaining = 0
    async with odds_client(sim) as odds:
        with pytest.raises(QuotaExceededError, match="OUT_OF_USAGE_CREDITS"):
            await odds.odds_raw(game_in(sim, "nba").sport_key, bookmakers=BOOKS)
        assert odds.quota.remaining == 0


async def test_a_paid_call_that_failed_is_counted_before_it_is_retried(sim: Any) -> None:
    sport = game_in(sim, "nba").sport_key
    sim.faults.fail_next_5xx(1)
    async with odds_client(sim, daily_credits=2) as odds:
        await odds.odds_raw(sport, bookmakers=BOOKS)
        assert odds.budget.spent_today == 2  # the 503 might have been charged: counted, then the real call
        with pytest.raises(QuotaExceededError):
            await odds.odds_raw(sport, markets=["totals"], bookmakers=BOOKS)
    assert sim.odds.credits_used == 1
