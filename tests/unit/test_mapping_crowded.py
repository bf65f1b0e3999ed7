"""The crowded board of issue 7 (``arbtui sim --seed 5 --markets 20000``): games of one pair on one day.

The simulator once listed two same-day NHL and NBA games of one pair as ``...G2`` with Kalshi times that
contradicted the sportsbook's, and the mapper priced game 2 "by start order" against the other game's odds
(edges of 0.41-0.49). Now the generator lists only boards a real exchange would, and the mapper picks by
order only when Kalshi's own times agree. ``now`` is pinned, so the board is the same at any hour.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from arbtui.cli import main
from engine.mapping.resolver import resolve
from engine.mapping.ticker import parse_event_ticker
from engine.markets.kalshi import KalshiMarket, parse_market
from engine.markets.odds import OddsEvent, parse_odds_event
from engine.sim.board import EASTERN, Board, generate_board
from engine.sim.config import SimConfig
from engine.sim.exchange import Exchange
from engine.sim.faults import Faults
from engine.sim.odds_http import OddsServer
from engine.sim.odds_state import OddsState
from engine.sim.payloads import iso, market_json
from engine.sim.scenario import Scenario
from engine.sim.snapshot import dump_snapshot

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
CROWDED = SimConfig(seed=5, markets=20000)
NHL, MLB = "icehockey_nhl", "baseball_mlb"


@pytest.fixture(autouse=True)
def no_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("TRADING_PROFILE", "TRADING_BANKROLL", "MAX_POSITION_SIZE"):
        monkeypatch.delenv(name, raising=False)


@cache
def crowded_board() -> Board:
    return generate_board(CROWDED.seed, CROWDED.markets // 2, CROWDED.leagues, NOW)


@cache
def crowded_markets() -> tuple[tuple[dict[str, Any], Any], ...]:
    """Each market of the crowded board as ``GET /markets`` lists it, with its game."""
    exchange = Exchange(crowded_board(), NOW, CROWDED.starting_balance)
    return tuple((market_json(s), s.game) for s in exchange.markets.values())


def sim_snapshot(config: SimConfig) -> dict[str, Any]:
    """The scan snapshot the simulator serves at ``NOW``, from its own exchange, books and scenario."""
    board = generate_board(config.seed, config.markets // 2, config.leagues, NOW)
    exchange = Exchange(board, NOW, config.starting_balance)
    odds = OddsState(board, config.bookmakers, config.odds_credits)
    server = OddsServer(odds, "key", Faults(), config.odds_rate, lambda: NOW, enforce_rate=False)
    Scenario(config, board, exchange, odds, lambda: NOW).quote_all()
    return dump_snapshot(exchange, server, NOW)


# -- the generator lists only what a real exchange would -----------------------------------------------------


def test_crowded_board_meets_each_pair_once_a_day_outside_baseball() -> None:
    board = crowded_board()
    assert len(board.games) == CROWDED.markets // 2
    assert len({g.event_ticker for g in board.games}) == len(board.games)
    assert len({g.odds_id for g in board.games}) == len(board.games)
    days = Counter(
        (g.league, frozenset((g.away.code, g.home.code)), g.commence.astimezone(EASTERN).date()) for g in board.games
    )
    assert max(n for (league, _, _), n in days.items() if league != "mlb") == 1
    assert max(n for (league, _, _), n in days.items() if league == "mlb") == 2  # the board has doubleheaders
    numbered = [g for g in board.games if parse_event_ticker(g.event_ticker).game is not None]
    assert numbered and {g.league for g in numbered} == {"mlb"}
    by_day: dict[tuple[str, object], list[Any]] = {}
    for game in numbered:
        by_day.setdefault((game.home.code + game.away.code, game.commence.astimezone(EASTERN).date()), []).append(game)
    for pair in by_day.values():
        first, second = sorted(pair, key=lambda g: g.commence)
        assert first.event_ticker.endswith("G1") and second.event_ticker.endswith("G2")
        assert first.home is second.home and second.commence - first.commence >= timedelta(hours=4)


def test_every_kalshi_time_of_the_crowded_board_agrees_with_the_sportsbook_start() -> None:
    for raw, game in crowded_markets():
        start = game.commence
        local = start.astimezone(EASTERN)
        ticker = parse_event_ticker(raw["event_ticker"])
        assert ticker.day == local.date()
        if game.league == "mlb":
            assert ticker.start == local.time().replace(second=0)
        else:
            assert ticker.start is None and ticker.game is None
        assert raw["occurrence_datetime"] == iso(start + timedelta(hours=3))
        assert f"{local:%b} {local.day}, {local.year}" in raw["rules_primary"]


def test_the_resolver_maps_every_market_of_the_crowded_board_to_its_own_game() -> None:
    board = crowded_board()
    markets = [parse_market(raw) for raw, _ in crowded_markets()]
    events = [
        parse_odds_event(
            {
                "id": g.odds_id,
                "sport_key": g.sport_key,
                "commence_time": iso(g.commence),
                "home_team": g.home.odds_name,
                "away_team": g.away.odds_name,
            }
        )
        for g in board.games
    ]
    result = resolve(markets, events)
    own = {ticker: game.odds_id for game in board.games for ticker in game.tickers}
    wrong = [m.ticker for m in result.matches.values() if m.odds_event_id != own[m.ticker]]
    assert wrong == []
    assert not result.unmatched, result.unmatched[:3]
    assert len(result.matches) == CROWDED.markets


def test_scan_cli_on_a_crowded_simulator_snapshot_prices_each_market_against_its_own_game(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = SimConfig(seed=5, markets=2000)  # crowded enough: the old generator listed 22 NHL/NBA/NFL "G2" games
    doc = sim_snapshot(config)
    path = tmp_path / "crowded.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["scan", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["signals"] and not out["errors"] and not out["notes"] and not out["unmatched"]
    board = generate_board(config.seed, config.markets // 2, config.leagues, NOW)
    own = {ticker: game.odds_id for game in board.games for ticker in game.tickers}
    for signal in out["signals"]:
        if signal["kind"] != "kalshi_arb":
            assert signal["odds_event_id"] == own[signal["ticker"]], signal["ticker"]
    keys = Counter((s["kind"], s["ticker"], s["side"]) for s in out["signals"])
    assert max(keys.values()) == 1


# -- the mapper on the board the old simulator listed ----------------------------------------------------------


def market(ticker: str, occurrence: str | None = None, rules: str = "") -> KalshiMarket:
    return KalshiMarket(
        ticker=ticker,
        event_ticker=ticker.rsplit("-", 1)[0],
        status="active",
        rules_primary=rules,
        occurrence_datetime=None if occurrence is None else datetime.fromisoformat(occurrence),
    )


def event(event_id: str, sport: str, commence: str, home: str, away: str) -> OddsEvent:
    return OddsEvent(event_id, sport, datetime.fromisoformat(commence), home, away)


CGY_NSH = [
    event("early", NHL, "2026-12-02T00:00:00+00:00", "Nashville Predators", "Calgary Flames"),
    event("late", NHL, "2026-12-02T01:00:00+00:00", "Nashville Predators", "Calgary Flames"),
]
SWAPPED = market("KXNHLGAME-26DEC01CGYNSHG2-NSH", occurrence="2026-12-02T03:00:00+00:00")
"""The issue's ticker: "game 2" whose occurrence_datetime (03:00Z) is before its "game 1"'s (04:00Z)."""


def reason(result: Any, ticker: str) -> str:
    return str(next(u.reason for u in result.unmatched if u.ticker == ticker))


def test_a_game_number_outside_baseball_is_refused() -> None:
    game1 = market("KXNHLGAME-26DEC01CGYNSH-NSH", occurrence="2026-12-02T04:00:00+00:00")
    result = resolve([SWAPPED, game1], CGY_NSH)
    assert SWAPPED.ticker not in result.matches
    assert reason(result, SWAPPED.ticker) == (
        "event KXNHLGAME-26DEC01CGYNSHG2 carries doubleheader game number 2, but Kalshi numbers games only in "
        "baseball, not NHL: which game it is cannot be told"
    )
    assert game1.ticker not in result.matches  # two games of the pair that day and no start time: ambiguous


DET_MIL = [
    event("g1", MLB, "2025-04-16T17:10:00+00:00", "Milwaukee Brewers", "Detroit Tigers"),
    event("g2", MLB, "2025-04-16T23:10:00+00:00", "Milwaukee Brewers", "Detroit Tigers"),
]


def test_doubleheader_by_start_order_only_when_occurrence_points_at_that_game() -> None:
    agreeing = market("KXMLBGAME-25APR16DETMIL2-DET", occurrence="2025-04-17T02:10:00+00:00")
    assert resolve([agreeing], DET_MIL).matches[agreeing.ticker].odds_event_id == "g2"
    swapped = market("KXMLBGAME-25APR16DETMIL2-DET", occurrence="2025-04-16T20:10:00+00:00")
    result = resolve([swapped], DET_MIL)
    assert not result.matches
    assert reason(result, swapped.ticker) == (
        "Detroit at Milwaukee: doubleheader game 2 by start order is g2 (starts 2025-04-16T23:10Z), but "
        "occurrence_datetime 2025-04-16T20:10Z - 3 h = 2025-04-16T17:10Z fits g1 within 1:30:00 "
        "(candidates: g1 at 2025-04-16T17:10Z, g2 at 2025-04-16T23:10Z)"
    )
    between = market("KXMLBGAME-25APR16DETMIL2-DET", occurrence="2025-04-16T23:10:00+00:00")
    result = resolve([between], DET_MIL)
    assert not result.matches and "fits none of them" in reason(result, between.ticker)


def test_a_rules_text_start_that_contradicts_the_pick_refuses_it() -> None:
    rules = (
        "If Detroit wins the Detroit vs Milwaukee professional baseball game originally scheduled for Apr 16, 2025 "
        "at {} EDT, then the market resolves to Yes."
    )
    agreeing = market("KXMLBGAME-25APR16DETMIL2-DET", rules=rules.format("7:10 PM"))
    assert resolve([agreeing], DET_MIL).matches[agreeing.ticker].odds_event_id == "g2"
    swapped = market("KXMLBGAME-25APR16DETMIL2-DET", rules=rules.format("1:10 PM"))
    result = resolve([swapped], DET_MIL)
    assert not result.matches
    assert "the rules text start 2025-04-16T17:10Z fits g1" in reason(result, swapped.ticker)
    # 2026 grammar: the ticker start picks game 2, the rules text says game 1's time: Kalshi disagrees with itself.
    timed = market("KXMLBGAME-25APR161910DETMILG2-DET", rules=rules.format("1:10 PM"))
    result = resolve([timed], DET_MIL)
    assert not result.matches
    assert reason(result, timed.ticker).startswith("Detroit at Milwaukee: ticker start 19:10 ET picks g2")


def issue_snapshot(tmp_path: Path) -> Path:
    """The issue's NHL pair as a snapshot file: both games listed, books on both sides of the swapped one."""
    markets = []
    for ticker, occurrence in (
        ("KXNHLGAME-26DEC01CGYNSHG2-NSH", "2026-12-02T03:00:00Z"),
        ("KXNHLGAME-26DEC01CGYNSHG2-CGY", "2026-12-02T03:00:00Z"),
    ):
        markets.append(
            {
                "ticker": ticker,
                "event_ticker": ticker.rsplit("-", 1)[0],
                "status": "active",
                "market_type": "binary",
                "yes_bid_dollars": "0.2900",
                "yes_ask_dollars": "0.3000",
                "occurrence_datetime": occurrence,
            }
        )
    odds = []
    for e in CGY_NSH:
        odds.append(
            {
                "id": e.id,
                "sport_key": NHL,
                "commence_time": iso(e.commence_time),
                "home_team": e.home_team,
                "away_team": e.away_team,
                "bookmakers": [
                    {
                        "key": "draftkings",
                        "title": "DraftKings",
                        "last_update": "2026-12-01T14:59:00Z",
                        "markets": [
                            {
                                "key": "h2h",
                                "outcomes": [
                                    {"name": "Nashville Predators", "price": -300},
                                    {"name": "Calgary Flames", "price": 250},
                                ],
                            }
                        ],
                    }
                ],
            }
        )
    book = {"orderbook_fp": {"yes_dollars": [["0.2900", "500.00"]], "no_dollars": [["0.7000", "500.00"]]}}
    doc = {
        "as_of": iso(NOW),
        "kalshi": {"markets": markets, "orderbooks": {m["ticker"]: book for m in markets}, "series": []},
        "odds": odds,
    }
    path = tmp_path / "issue.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_map_and_scan_cli_refuse_the_swapped_game_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = issue_snapshot(tmp_path)
    assert main(["map", str(path)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("0 of 2 Kalshi markets mapped")
    assert (
        "UNMATCHED KXNHLGAME-26DEC01CGYNSHG2-NSH: event KXNHLGAME-26DEC01CGYNSHG2 carries doubleheader game number 2, "
        "but Kalshi numbers games only in baseball, not NHL"
    ) in text
    assert main(["scan", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["signals"] == []
    assert {u["ticker"] for u in out["unmatched"]} == {"KXNHLGAME-26DEC01CGYNSHG2-NSH", "KXNHLGAME-26DEC01CGYNSHG2-CGY"}
    assert all("only in baseball" in u["reason"] for u in out["unmatched"])
