"""The Odds API cadence: spread the day's credits over what is left of it, poll sooner games more often,
never plan a call the credits cannot pay for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.runtime.cadence import CadencePolicy, PollTarget, due, intervals

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLICY = CadencePolicy(min_interval_s=20.0, max_interval_s=3600.0)


def test_spending_at_the_planned_intervals_fits_the_credits_left_today() -> None:
    targets = [PollTarget("basketball_nba", 1, NOON + timedelta(minutes=30)),
               PollTarget("icehockey_nhl", 2, NOON + timedelta(hours=10))]  # fmt: skip
    plan = intervals(targets, 400, NOON, POLICY)
    seconds_left = 12 * 3600
    spend = sum(t.cost * seconds_left / plan[t.sport] for t in targets)
    assert spend <= 400 + 1e-6
    assert plan["basketball_nba"] < plan["icehockey_nhl"]  # the game starting soon is polled more often


def test_no_credits_or_no_game_to_come_means_no_poll() -> None:
    started = PollTarget("americanfootball_nfl", 1, NOON - timedelta(minutes=1))
    expensive = PollTarget("basketball_nba", 3, NOON + timedelta(hours=1))
    assert intervals([started], 100, NOON, POLICY) == {}
    assert intervals([expensive], 2, NOON, POLICY) == {}


def test_due_polls_the_never_polled_first_and_never_past_the_credits() -> None:
    targets = [PollTarget("a", 2, NOON + timedelta(minutes=5)), PollTarget("b", 2, NOON + timedelta(minutes=5))]
    ready, _ = due(targets, {}, 3, NOON, POLICY)
    assert len(ready) == 1  # two calls would cost 4 of the 3 credits left
    ready, wait = due(targets, {"a": NOON, "b": NOON}, 1000, NOON + timedelta(seconds=1), POLICY)
    assert ready == [] and 0 < wait <= 3600
