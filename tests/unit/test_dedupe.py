"""A record listed twice: identical copies merge with a note, differing copies are refused with the reason,
in the snapshot loader, ``scan``, ``map``, the resolver, discovery and the incremental detection board."""

from __future__ import annotations

import copy
import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbtui.cli import main
from engine.config.profiles import PROFILES, ProfileName
from engine.detection.board import Board
from engine.detection.detector import DetectionContext, detect
from engine.mapping.discovery import discover
from engine.mapping.resolver import resolve, winner_groups
from engine.markets.dedupe import dedupe, unique_markets, unique_odds_events
from engine.markets.kalshi import KalshiEvent, KalshiMarket, SeriesInfo
from engine.markets.odds import OddsEvent
from engine.markets.snapshot import Snapshot, parse_snapshot
from engine.pricing.fees import FeeSchedule, FeeType
from engine.scan import scan

EXAMPLE = Path(__file__).parents[2] / "examples" / "snapshot.json"
DET = "KXNFLGAME-26NOV26GBDET-DET"
"""A market of the example snapshot with an edge signal (YES) at the default profile."""
NFL = "americanfootball_nfl"


@pytest.fixture(autouse=True)
def no_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("TRADING_PROFILE", "TRADING_BANKROLL", "MAX_POSITION_SIZE"):
        monkeypatch.delenv(name, raising=False)


def example() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return doc


def listed_twice(doc: dict[str, Any], ticker: str, **changes: str) -> dict[str, Any]:
    """``doc`` with market ``ticker`` appended a second time, with ``changes`` applied to the copy."""
    market = next(m for m in doc["kalshi"]["markets"] if m["ticker"] == ticker)
    doc["kalshi"]["markets"].append({**copy.deepcopy(market), **changes})
    return doc


def write(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def market(ticker: str, **kw: Any) -> KalshiMarket:
    return KalshiMarket(ticker=ticker, event_ticker=ticker.rsplit("-", 1)[0], status="active", **kw)


GB_DET = OddsEvent("e1", NFL, datetime(2026, 11, 26, 17, 30, tzinfo=UTC), "Detroit Lions", "Green Bay Packers")


# -- the one function ------------------------------------------------------------------------------------


def test_identical_copies_merge_and_differing_copies_are_all_refused_with_the_fields() -> None:
    a, b = market("KXNFLGAME-26NOV26GBDET-GB"), market(DET, yes_ask=Decimal("0.53"))
    moved = replace(b, yes_ask=Decimal("0.61"), status="closed")
    found = unique_markets([a, b, a, moved, a])
    assert found.items == (a,)
    assert found.merged == (
        "kalshi market KXNFLGAME-26NOV26GBDET-GB: listed 3 times with identical content, merged into one",
    )
    (error,) = found.refused
    assert (error.source, error.ident, error.field) == ("kalshi market", DET, "ticker")
    assert "listed 2 times with different status 'active' / 'closed', yes_ask 0.53 / 0.61" in str(error)
    assert "every copy refused" in str(error)
    assert found.refused_keys == frozenset({DET}) and found.conflicting == {DET: (b, moved)}


def test_order_is_first_seen_and_nothing_to_merge_leaves_the_list_as_it_was() -> None:
    items = [market(f"KXNFLGAME-26NOV26GBDET-{c}") for c in ("GB", "DET")]
    found = unique_markets([items[1], items[0], items[1]])
    assert found.items == (items[1], items[0])
    clean = unique_markets(items)
    assert clean.items == tuple(items) and not clean.merged and not clean.refused and clean.conflicting is None
    words = dedupe(["a", "b", "a"], str.upper, "word", "text")
    assert words.items == ("a", "b") and words.merged == (
        "word A: listed 2 times with identical content, merged into one",
    )


def test_an_odds_event_listed_twice_with_another_start_is_refused_naming_both_times() -> None:
    later = replace(GB_DET, commence_time=datetime(2026, 11, 27, 1, 15, tzinfo=UTC))
    found = unique_odds_events([GB_DET, later])
    assert found.items == ()
    assert "commence_time 2026-11-26T17:30:00Z / 2026-11-27T01:15:00Z" in str(found.refused[0])


# -- the snapshot, scan and map ------------------------------------------------------------------------------


def test_snapshot_merges_identical_copies_and_refuses_differing_ones() -> None:
    base = parse_snapshot(example())  # it holds one bad market of its own
    snap = parse_snapshot(listed_twice(example(), DET))
    assert [m.ticker for m in snap.markets].count(DET) == 1 and snap.markets == base.markets
    assert [str(e) for e in snap.errors] == [str(e) for e in base.errors]
    assert snap.notes == (f"kalshi market {DET}: listed 2 times with identical content, merged into one",)
    moved = parse_snapshot(listed_twice(example(), DET, yes_ask_dollars="0.3100"))
    assert DET not in {m.ticker for m in moved.markets}
    assert [e.ident for e in moved.errors] == [*(e.ident for e in base.errors), DET]
    assert "yes_ask 0.5300 / 0.3100" in str(moved.errors[-1])


def test_snapshot_refuses_a_series_listed_with_two_fee_schedules_and_every_market_of_it() -> None:
    doc = example()
    nhl = next(s for s in doc["kalshi"]["series"] if s["ticker"] == "KXNHLGAME")
    doc["kalshi"]["series"].append({**nhl, "fee_multiplier": 0.07 if nhl["fee_multiplier"] != 0.07 else 0.035})
    snap = parse_snapshot(doc)
    assert "KXNHLGAME" not in snap.series
    assert not [m for m in snap.markets if m.series_ticker == "KXNHLGAME"]
    reasons = [str(e) for e in snap.errors]
    assert any(
        r.startswith("kalshi series KXNHLGAME: field 'ticker': listed 2 times with different fees") for r in reasons
    )
    assert any("its series KXNHLGAME was refused (conflicting copies), so its fees are unknown" in r for r in reasons)
    same = example()
    same["kalshi"]["series"].append(copy.deepcopy(nhl))
    assert "KXNHLGAME" in parse_snapshot(same).series


def test_scan_of_a_snapshot_built_with_a_market_twice_prices_it_once() -> None:
    snap = parse_snapshot(example())
    doubled = replace(snap, markets=(*snap.markets, next(m for m in snap.markets if m.ticker == DET)))
    profile = PROFILES[ProfileName.STANDARD]
    once = scan(snap, profile, Decimal(10000), 100)
    twice = scan(doubled, profile, Decimal(10000), 100)
    assert [s.to_json() for s in twice.result.signals] == [s.to_json() for s in once.result.signals]
    assert twice.notes == (f"kalshi market {DET}: listed 2 times with identical content, merged into one",)
    odds_twice = replace(snap, odds=(*snap.odds, replace(snap.odds[0], home_team="Somebody Else")))
    report = scan(odds_twice, profile, Decimal(10000), 100)
    assert snap.odds[0].id not in {s.to_json()["odds_event_id"] for s in report.result.signals}
    assert any(e.ident == snap.odds[0].id and "home_team" in e.problem for e in report.errors)


def test_scan_cli_prices_a_duplicated_market_once_and_says_it_merged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, listed_twice(example(), DET))
    assert main(["scan", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    mine = Counter((s["kind"], s["side"]) for s in out["signals"] if s["ticker"] == DET)
    assert mine[("edge", "yes")] == 1 and all(n == 1 for n in mine.values())
    assert sum(s["count"] for s in out["signals"] if s["ticker"] == DET and s["kind"] == "edge") <= 100
    assert out["notes"] == [f"kalshi market {DET}: listed 2 times with identical content, merged into one"]
    assert main(["scan", str(path)]) == 0
    text = capsys.readouterr().out
    assert "duplicates merged (1)" in text and f"kalshi market {DET}: listed 2 times" in text


def test_scan_cli_refuses_a_market_whose_copies_differ_and_scans_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, listed_twice(example(), DET, yes_ask_dollars="0.3100", no_bid_dollars="0.6900"))
    assert main(["scan", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert DET not in {s["ticker"] for s in out["signals"]}
    assert out["signals"], "the rest of the snapshot is still scanned"
    (error,) = [e for e in out["errors"] if DET in e]
    assert error.startswith(
        f"kalshi market {DET}: field 'ticker': listed 2 times with different "
        "yes_ask 0.5300 / 0.3100, no_bid 0.4700 / 0.6900: every copy refused"
    )
    assert main(["scan", str(path)]) == 0
    assert "listed 2 times with different yes_ask" in capsys.readouterr().out


def test_map_cli_reports_merged_and_refused_duplicates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = listed_twice(example(), DET)
    odds = copy.deepcopy(doc["odds"][1])
    doc["odds"].append({**odds, "commence_time": "2026-11-28T01:00:00Z"})
    path = write(tmp_path, doc)
    assert main(["map", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["ticker"] for r in rows].count(DET) == 1
    assert f"duplicate merged: kalshi market {DET}: listed 2 times with identical content" in captured.err
    assert f"skipped bad payload: odds event {odds['id']}: field 'id': listed 2 times with different commence_time" in (
        captured.err
    )
    assert odds["id"] not in {r["odds_event_id"] for r in rows}


# -- the resolver, groups, discovery and the incremental board --------------------------------------------


def test_resolver_merges_identical_markets_and_leaves_differing_ones_unmatched_with_the_reason() -> None:
    det = market(DET, title="Detroit wins")
    result = resolve([det, det, market("KXNFLGAME-26NOV26GBDET-GB")], [GB_DET])
    assert result.matches[DET].outcome == "Detroit Lions" and len(result.matches) == 2
    assert not result.unmatched
    conflicting = resolve([det, replace(det, status="closed")], [GB_DET])
    assert not conflicting.matches
    assert [u.ticker for u in conflicting.unmatched] == [DET]
    assert "listed 2 times with different status 'active' / 'closed'" in conflicting.unmatched[0].reason


def test_resolver_matches_no_market_to_an_odds_event_whose_copies_differ() -> None:
    det = market(DET)
    other = replace(GB_DET, bookmakers=())  # identical: merged
    assert resolve([det], [GB_DET, other]).matches[DET].odds_event_id == "e1"
    moved = replace(GB_DET, commence_time=datetime(2026, 11, 26, 21, 25, tzinfo=UTC))
    result = resolve([det], [GB_DET, moved])
    assert not result.matches
    assert "e1" in result.unmatched[0].reason


def test_winner_groups_and_discovery_count_a_record_once() -> None:
    gb, det = market("KXNFLGAME-26NOV26GBDET-GB"), market(DET)
    assert winner_groups([gb, det, gb]) == [(gb, det)]
    assert winner_groups([gb, det, replace(gb, status="closed")]) == []
    nfl = SeriesInfo("KXNFLGAME", "Pro Football Game")
    assert "KXNFLGAME" in discover([nfl, nfl]).priced
    dearer = replace(nfl, fees=FeeSchedule(FeeType.QUADRATIC, Decimal(2)))
    found = discover([nfl, dearer])
    assert "KXNFLGAME" not in found.priced
    assert found.unpriced["KXNFLGAME"].startswith("KXNFLGAME: series listed 2 times with different fees")
    event = KalshiEvent("KXNFLGAME-26NOV26GBDET", "KXNFLGAME", competition_scope="Game")
    assert "KXNFLGAME" in discover([nfl], [event, event]).priced
    changed = discover([nfl], [event, replace(event, competition_scope="Spread", title="x")])
    assert "KXNFLGAME" in changed.unpriced and "KXNFLGAME-26NOV26GBDET listed 2 times" in changed.unpriced["KXNFLGAME"]


def test_incremental_board_prices_a_duplicated_market_once() -> None:
    snap = parse_snapshot(example())
    det = next(m for m in snap.markets if m.ticker == DET)
    mapping = resolve(snap.markets, snap.odds)
    ctx = DetectionContext(PROFILES[ProfileName.STANDARD], Decimal(10000), 100, snap.series)
    single = Board(snap.markets, mapping, ctx, winner_groups(snap.markets))
    doubled = Board([*snap.markets, det], mapping, ctx, winner_groups([*snap.markets, det]))
    for board in (single, doubled):
        board.load(snap.orderbooks.values(), snap.odds, snap.as_of)
    assert [s.to_json() for s in doubled.signals()] == [s.to_json() for s in single.signals()]
    assert any(s.ticker == DET for s in doubled.signals())
    refused = Board([*snap.markets, replace(det, status="closed")], mapping, ctx)
    assert DET not in refused.markets and [e.ident for e in refused.refused] == [DET]
    refused.load(snap.orderbooks.values(), [*snap.odds, replace(snap.odds[0], home_team="Somebody")], snap.as_of)
    assert snap.odds[0].id not in refused.events


def test_snapshot_object_built_in_code_keeps_its_fields() -> None:
    snap = Snapshot(datetime(2026, 11, 26, tzinfo=UTC), (), {}, {}, ())
    assert snap.notes == () and snap.errors == ()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.integers(0, 2)), max_size=12))
def test_every_key_ends_kept_once_or_refused_and_a_second_pass_changes_nothing(pairs: list[tuple[str, int]]) -> None:
    found = dedupe(pairs, lambda p: p[0], "pair", "key")
    kept = [k for k, _ in found.items]
    assert len(kept) == len(set(kept))
    assert set(kept) | found.refused_keys == {k for k, _ in pairs} and not set(kept) & found.refused_keys
    for key in {k for k, _ in pairs}:
        values = {v for k, v in pairs if k == key}
        assert (key in found.refused_keys) == (len(values) > 1)
    assert kept == list(dict.fromkeys(k for k, _ in pairs if k not in found.refused_keys))
    again = dedupe(found.items, lambda p: p[0], "pair", "key")
    assert again.items == found.items and not again.merged and not again.refused


def test_detect_prices_a_market_listed_twice_once_and_skips_one_whose_copies_differ() -> None:
    snap = parse_snapshot(example())
    det = next(m for m in snap.markets if m.ticker == DET)
    mapping = resolve(snap.markets, snap.odds)
    ctx = DetectionContext(PROFILES[ProfileName.STANDARD], Decimal(10000), 100, snap.series)
    once = detect(snap.markets, snap.orderbooks, snap.odds, mapping, ctx, snap.as_of)
    twice = detect([*snap.markets, det], snap.orderbooks, [*snap.odds, *snap.odds], mapping, ctx, snap.as_of)
    assert [s.to_json() for s in twice.signals] == [s.to_json() for s in once.signals]
    assert any(s.ticker == DET for s in once.signals)
    moved = detect([*snap.markets, replace(det, yes_ask=None)], snap.orderbooks, snap.odds, mapping, ctx, snap.as_of)
    assert DET not in {s.ticker for s in moved.signals}
    assert any(s.ticker == DET and "listed 2 times with different yes_ask" in s.reason for s in moved.skipped)
