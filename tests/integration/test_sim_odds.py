"""The simulator's Odds API over loopback: key check, shapes, filters, cost and quota headers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from engine.markets.odds import parse_odds_event
from engine.sim import Simulator

pytestmark = pytest.mark.integration
NFL = "americanfootball_nfl"


async def _get(sim: Simulator, path: str, **params: Any) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(sim.odds_url + path, params={"apiKey": sim.odds_api_key, **params})


async def test_bad_key_is_401(sim: Simulator) -> None:
    async with httpx.AsyncClient() as client:
        resp = await client.get(sim.odds_url + "/v4/sports", params={"apiKey": "wrong"})
    assert resp.status_code == 401
    assert resp.json()["error_code"] == "INVALID_KEY"


async def test_sports_and_events_are_free(sim: Simulator) -> None:
    sports = await _get(sim, "/v4/sports")
    events = await _get(sim, f"/v4/sports/{NFL}/events")
    assert {s["key"] for s in sports.json()} == {
        "americanfootball_nfl",
        "basketball_nba",
        "baseball_mlb",
        "icehockey_nhl",
    }
    nfl_games = [g for g in sim.board.games if g.sport_key == NFL]
    assert {e["id"] for e in events.json()} == {g.odds_id for g in nfl_games}
    assert events.headers["x-requests-last"] == "0"
    assert events.headers["x-requests-remaining"] == "500"


async def test_odds_cost_is_markets_times_regions(sim: Simulator) -> None:
    resp = await _get(sim, f"/v4/sports/{NFL}/odds", regions="us", markets="h2h,spreads,totals", oddsFormat="american")
    assert resp.status_code == 200
    assert resp.headers["x-requests-last"] == "3"
    assert resp.headers["x-requests-used"] == "3"
    assert resp.headers["x-requests-remaining"] == "497"
    events = [parse_odds_event(e, american=True) for e in resp.json()]
    assert events
    game = next(g for g in sim.board.games if g.odds_id == events[0].id)
    assert events[0].home_team == game.home.odds_name
    keys = {b.key for b in events[0].bookmakers}
    assert keys == {"draftkings", "fanduel", "betmgm", "williamhill_us"}
    h2h = events[0].bookmakers[0].market("h2h")
    assert h2h is not None
    implied = sum(o.implied for o in h2h.outcomes)
    assert 1.02 < implied < 1.08  # the book's vig
    two = await _get(sim, f"/v4/sports/{NFL}/odds", regions="us,uk", markets="h2h")
    assert two.headers["x-requests-last"] == "2"
    books = await _get(sim, f"/v4/sports/{NFL}/odds", bookmakers="fanduel,betmgm", markets="h2h")
    assert books.headers["x-requests-last"] == "1"
    assert {b["key"] for b in books.json()[0]["bookmakers"]} == {"fanduel", "betmgm"}
    assert sim.odds.credits_used == 6


async def test_filters_by_event_id_and_commence_window(sim: Simulator) -> None:
    games = sorted((g for g in sim.board.games if g.sport_key == NFL), key=lambda g: g.commence)
    one = await _get(sim, f"/v4/sports/{NFL}/odds", regions="us", markets="h2h", eventIds=games[0].odds_id)
    assert [e["id"] for e in one.json()] == [games[0].odds_id]
    start = games[0].commence + timedelta(seconds=1)
    later = await _get(
        sim,
        f"/v4/sports/{NFL}/events",
        commenceTimeFrom=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    assert games[0].odds_id not in {e["id"] for e in later.json()}


async def test_quota_exhaustion_refuses_and_spends_nothing(sim: Simulator) -> None:
    sim.odds.credits_remaining = 2
    resp = await _get(sim, f"/v4/sports/{NFL}/odds", regions="us", markets="h2h,spreads,totals")
    assert resp.status_code == 401
    assert resp.json()["error_code"] == "OUT_OF_USAGE_CREDITS"
    assert resp.headers["x-requests-remaining"] == "2"
    ok = await _get(sim, f"/v4/sports/{NFL}/odds", regions="us", markets="h2h,spreads")
    assert ok.status_code == 200
    assert ok.headers["x-requests-remaining"] == "0"


async def test_scores_cost_and_shape(sim: Simulator) -> None:
    resp = await _get(sim, f"/v4/sports/{NFL}/scores", daysFrom="1")
    assert resp.headers["x-requests-last"] == "2"
    assert all(e["completed"] is False for e in resp.json())
    bad = await _get(sim, f"/v4/sports/{NFL}/scores", daysFrom="9")
    assert bad.status_code == 422


async def test_frequency_limit_and_injected_faults(sim: Simulator) -> None:
    sim.faults.fail_next_5xx(1)
    assert (await _get(sim, "/v4/sports")).status_code == 503
    sim.odds_server.monotonic = lambda: 50.0  # frozen clock: the 30-call bucket does not refill
    codes = []
    async with httpx.AsyncClient() as client:
        for _ in range(40):
            r = await client.get(sim.odds_url + "/v4/sports", params={"apiKey": sim.odds_api_key})
            codes.append(r.status_code)
    assert codes == [200] * 30 + [429] * 10  # about 30 calls a second; the injected 503 spent no token


async def test_stale_book_keeps_its_old_last_update(sim: Simulator) -> None:
    game = next(g for g in sim.board.games if g.sport_key == NFL)
    quote = sim.odds.quote(game, "fanduel")
    assert quote is not None
    stamp = quote.last_update
    sim.odds.set_quote(game, "fanduel", 0.5, stamp + timedelta(minutes=5), stale=True)
    after = sim.odds.quote(game, "fanduel")
    assert after is not None and after.last_update == stamp and after.stale


async def test_decimal_odds_and_unix_dates(sim: Simulator) -> None:
    resp = await _get(
        sim, f"/v4/sports/{NFL}/odds", regions="us", markets="h2h", oddsFormat="decimal", dateFormat="unix"
    )
    event = resp.json()[0]
    assert isinstance(event["commence_time"], int)
    assert isinstance(event["bookmakers"][0]["last_update"], int)
    parsed = parse_odds_event(event, american=False)
    game = next(g for g in sim.board.games if g.odds_id == parsed.id)
    assert parsed.commence_time == game.commence
    assert all(o.decimal_odds > 1 for b in parsed.bookmakers for m in b.markets for o in m.outcomes)
    bad = await _get(sim, f"/v4/sports/{NFL}/odds", regions="us", markets="h2h", dateFormat="rfc")
    assert bad.status_code == 422


async def test_finished_game_settles_kalshi_and_posts_the_score(sim: Simulator) -> None:
    game = next(g for g in sim.board.games if g.sport_key == NFL)
    away, home = sim.scenario.finish_game(game.event_ticker, home_wins=True)
    assert home > away
    assert sim.exchange.markets[game.home_ticker].result == "yes"
    assert sim.exchange.markets[game.away_ticker].result == "no"
    scores = (await _get(sim, f"/v4/sports/{NFL}/scores")).json()
    final = next(e for e in scores if e["id"] == game.odds_id)
    assert final["completed"] is True
    assert {s["name"]: s["score"] for s in final["scores"]} == {
        game.away.odds_name: str(away),
        game.home.odds_name: str(home),
    }
    assert all(e["completed"] is False for e in scores if e["id"] != game.odds_id)
    upcoming = (await _get(sim, f"/v4/sports/{NFL}/events")).json()
    assert game.odds_id not in {e["id"] for e in upcoming}
