"""The caching mapper (flip guard, overrides reload) and series discovery."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from engine.mapping.cache import Mapper
from engine.mapping.discovery import discover
from engine.mapping.overrides import OverridesFile
from engine.markets.kalshi import KalshiEvent, KalshiMarket, SeriesInfo
from engine.markets.odds import OddsEvent

NOW = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
ATL = KalshiMarket(ticker="KXNFLGAME-26OCT05ATLNO-ATL", event_ticker="KXNFLGAME-26OCT05ATLNO", status="active")


def game(event_id: str) -> OddsEvent:
    return OddsEvent(
        event_id,
        "americanfootball_nfl",
        datetime(2026, 10, 6, 0, 15, tzinfo=UTC),
        "New Orleans Saints",
        "Atlanta Falcons",
    )


def test_matches_are_cached_and_a_changed_answer_is_held_back() -> None:
    mapper = Mapper()
    first = mapper.map([ATL], [game("e1")], NOW)
    assert first.matches[ATL.ticker].odds_event_id == "e1"
    cached = mapper.cached(ATL.ticker)
    assert cached is not None and cached.first_seen == NOW and cached.match.evidence
    flipped = mapper.map([ATL], [game("e2")], NOW)
    assert ATL.ticker not in flipped.matches
    assert "changed" in flipped.unmatched[-1].reason
    mapper.forget(ATL.ticker)
    assert mapper.map([ATL], [game("e2")], NOW).matches[ATL.ticker].odds_event_id == "e2"


def test_override_file_is_reloaded_between_passes(tmp_path: Path) -> None:
    path = tmp_path / "overrides.json"
    mapper = Mapper(OverridesFile(path))
    assert ATL.ticker in mapper.map([ATL], [game("e1")], NOW).matches
    path.write_text(json.dumps({"blocks": [{"ticker": ATL.ticker, "reason": "kickoff moved"}]}), encoding="utf-8")
    os.utime(path, ns=(5, 5))
    result = mapper.map([ATL], [game("e1")], NOW)
    assert not result.matches and "kickoff moved" in result.unmatched[0].reason


def test_discovery_prices_known_series_and_explains_the_rest() -> None:
    series = [
        SeriesInfo(t) for t in ("KXNFLGAME", "KXNFLSPREAD", "KXLALIGA2GAME", "KXMLSASTGAME", "KXNBA", "KXKHLGAME")
    ]
    events = [KalshiEvent("KXNHLTOTAL-26OCT16PITCOL", "KXNHLTOTAL", competition_scope="Point Total")]
    d = discover(series, events)
    assert set(d.priced) == {"KXNFLGAME", "KXNFLSPREAD", "KXNHLTOTAL"}
    assert d.priced["KXNFLSPREAD"].kind == "spread"
    assert set(d.unpriced) == {"KXLALIGA2GAME", "KXMLSASTGAME", "KXKHLGAME"}
    contradicted = discover([], [KalshiEvent("KXNFLGAME-26OCT05ATLNO", "KXNFLGAME", competition_scope="Spread")])
    assert "KXNFLGAME" in contradicted.unpriced and not contradicted.priced
