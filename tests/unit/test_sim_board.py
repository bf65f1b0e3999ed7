"""The generated board: real ticker grammar, team tables, determinism."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from engine.mapping.teams import league_teams
from engine.sim.board import event_ticker, generate_board

NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
GRAMMAR = re.compile(r"^KX(NFL|NBA|MLB|NHL)GAME-\d{2}[A-Z]{3}\d{2}(\d{4})?[A-Z]{4,10}(G\d)?$")


def test_event_ticker_uses_the_eastern_date_and_mlb_time() -> None:
    nfl = {t.code: t for t in league_teams("nfl")}
    late = datetime(2026, 10, 6, 0, 15, tzinfo=UTC)  # 8:15 PM EDT on Oct 5
    assert event_ticker("KXNFLGAME", "nfl", nfl["ATL"], nfl["NO"], late) == "KXNFLGAME-26OCT05ATLNO"
    mlb = {t.code: t for t in league_teams("mlb")}
    night = datetime(2026, 9, 27, 0, 40, tzinfo=UTC)  # 8:40 PM EDT on Sep 26
    assert event_ticker("KXMLBGAME", "mlb", mlb["AZ"], mlb["SD"], night) == "KXMLBGAME-26SEP262040AZSD"


def test_board_is_deterministic_and_well_formed() -> None:
    board = generate_board(1, 24, ("NFL", "NBA", "MLB", "NHL"), NOW)
    again = generate_board(1, 24, ("NFL", "NBA", "MLB", "NHL"), NOW)
    other = generate_board(2, 24, ("NFL", "NBA", "MLB", "NHL"), NOW)
    assert board == again
    assert board != other
    assert len(board.games) == 24
    assert len({g.event_ticker for g in board.games}) == 24
    assert len({g.odds_id for g in board.games}) == 24
    for game in board.games:
        assert GRAMMAR.match(game.event_ticker), game.event_ticker
        assert game.away.code != game.home.code
        assert game.away_ticker == f"{game.event_ticker}-{game.away.code}"
        assert game.event_ticker.endswith(game.away.code + game.home.code)
        assert game.commence > NOW
        assert 0.25 <= game.true_home <= 0.75
        assert re.fullmatch(r"[0-9a-f]{32}", game.odds_id)
    assert {g.league for g in board.games} == {"nfl", "nba", "mlb", "nhl"}
