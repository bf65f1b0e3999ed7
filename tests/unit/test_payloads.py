"""Parsing the real 2026 payload shapes, and a clear error (naming field and object) for every bad one."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from builders import book_json, market_json

from engine.errors import PayloadError, SnapshotError
from engine.markets.kalshi import parse_event, parse_market, parse_orderbook, parse_series
from engine.markets.odds import parse_odds_event
from engine.markets.snapshot import load_snapshot, parse_snapshot

D = Decimal
EXAMPLE = Path(__file__).parents[2] / "examples" / "snapshot.json"


def test_orderbook_is_bids_only_and_asks_are_derived() -> None:
    body = {
        "orderbook_fp": {
            "yes_dollars": [["0.0100", "200.00"], ["0.4100", "10.00"], ["0.4200", "13.00"]],
            "no_dollars": [["0.4400", "29.00"], ["0.4500", "20.00"], ["0.5600", "17.00"]],
        }
    }
    book = parse_orderbook("T", body)
    assert book.yes_bids[0].price == D("0.42") and book.yes_bids[0].count == D(13)
    best_yes = book.best_ask("yes")
    assert best_yes is not None and best_yes.price == D("0.44") and best_yes.count == D(17)
    assert [lvl.price for lvl in book.asks("yes")] == [D("0.44"), D("0.55"), D("0.56")]
    assert [lvl.price for lvl in book.asks("no")] == [D("0.58"), D("0.59"), D("0.99")]


def test_empty_sides_and_fractional_counts() -> None:
    book = parse_orderbook("T", {"orderbook_fp": {"yes_dollars": [["0.3301", "0.90"]], "no_dollars": []}})
    assert book.best_ask("yes") is None
    assert book.yes_bids[0].count == D("0.90")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "orderbook_fp"),
        ({"orderbook": {"yes": [[42, 10]]}}, "orderbook_fp"),  # the removed integer-cent shape
        ({"orderbook_fp": {"yes_dollars": [["0.42"]], "no_dollars": []}}, "orderbook_fp.yes_dollars[0]"),
        ({"orderbook_fp": {"yes_dollars": [["1.42", "1.00"]], "no_dollars": []}}, "orderbook_fp.yes_dollars[0]"),
        ({"orderbook_fp": {"yes_dollars": [], "no_dollars": [["0.40", "-1"]]}}, "orderbook_fp.no_dollars[0]"),
        ({"orderbook_fp": {"yes_dollars": "x", "no_dollars": []}}, "orderbook_fp.yes_dollars"),
    ],
)
def test_bad_orderbooks(body: dict[str, Any], field: str) -> None:
    with pytest.raises(PayloadError) as err:
        parse_orderbook("KXNFLGAME-26NOV26GBDET-DET", body)
    assert err.value.field == field and err.value.ident == "KXNFLGAME-26NOV26GBDET-DET"
    assert "KXNFLGAME-26NOV26GBDET-DET" in str(err.value) and field in str(err.value)


def test_market_parses_dollar_strings_and_ignores_unknown_fields() -> None:
    m = parse_market(
        market_json(
            "KXNFLGAME-26NOV26GBDET-DET",
            "KXNFLGAME-26NOV26GBDET",
            yes_ask_dollars="0.5300",
            floor_strike=2.5,
            brand_new_field={"x": 1},
        )
    )
    assert m.yes_ask == D("0.53") and m.floor_strike == D("2.5")
    assert m.series_ticker == "KXNFLGAME" and m.suffix == "DET" and m.is_active


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"yes_ask_dollars": 42}, "yes_ask_dollars"),  # integer cents: removed in 2026
        ({"yes_ask_dollars": 0.42}, "yes_ask_dollars"),  # a float already lost precision
        ({"no_bid_dollars": "abc"}, "no_bid_dollars"),
        ({"volume_fp": "-3"}, "volume_fp"),
        ({"status": None}, "status"),
        ({"event_ticker": 7}, "event_ticker"),
        ({"close_time": "yesterday"}, "close_time"),
        ({"floor_strike": float("nan")}, "floor_strike"),  # Python's json accepts NaN and Infinity
        ({"floor_strike": float("inf")}, "floor_strike"),
        ({"floor_strike": "2.5x"}, "floor_strike"),
    ],
)
def test_bad_markets_name_field_and_market(change: dict[str, Any], field: str) -> None:
    raw = market_json("KXNBAGAME-26NOV27LALBOS-BOS", "KXNBAGAME-26NOV27LALBOS")
    raw.update(change)
    with pytest.raises(PayloadError) as err:
        parse_market(raw)
    assert err.value.field == field and err.value.ident == "KXNBAGAME-26NOV27LALBOS-BOS"


def test_market_without_ticker() -> None:
    with pytest.raises(PayloadError, match="ticker"):
        parse_market({"event_ticker": "X"})
    with pytest.raises(PayloadError, match="JSON object"):
        parse_market(["not", "an", "object"])


def test_series_fee_data() -> None:
    s = parse_series(
        {
            "ticker": "KXNBAGAME",
            "fee_type": "quadratic_with_maker_fees",
            "fee_multiplier": 0.5,
            "title": "NBA",
            "category": "Sports",
            "tags": ["Basketball"],
        }
    )
    assert s.fees.taker_rate == D("0.035") and s.fees.maker_rate == D("0.00875")
    with pytest.raises(PayloadError, match="fee_type"):
        parse_series({"ticker": "X", "fee_type": "mystery", "fee_multiplier": 1})
    with pytest.raises(PayloadError, match="fee_multiplier"):
        parse_series({"ticker": "X", "fee_type": "quadratic"})


def test_event_with_nested_markets_and_fee_override() -> None:
    e = parse_event(
        {
            "event_ticker": "KXNFLGAME-26NOV26GBDET",
            "series_ticker": "KXNFLGAME",
            "title": "Green Bay at Detroit",
            "sub_title": "GB at DET (Nov 26)",
            "mutually_exclusive": True,
            "collateral_return_type": "binary",
            "product_metadata": {"competition": "Pro Football", "competition_scope": "Game"},
            "fee_type_override": "quadratic",
            "fee_multiplier_override": 0.5,
            "markets": [market_json("KXNFLGAME-26NOV26GBDET-DET", "KXNFLGAME-26NOV26GBDET")],
        }
    )
    assert e.mutually_exclusive and e.competition == "Pro Football" and len(e.markets) == 1
    assert e.fee_override is not None and e.fee_override.taker_rate == D("0.035")


def test_odds_event_american_and_decimal_prices() -> None:
    raw = {
        "id": "e1",
        "sport_key": "americanfootball_nfl",
        "commence_time": "2021-09-10T00:20:00Z",
        "home_team": "Tampa Bay Buccaneers",
        "away_team": "Dallas Cowboys",
        "bookmakers": [
            {
                "key": "draftkings",
                "title": "DraftKings",
                "last_update": "2021-09-09T18:46:01Z",
                "markets": [
                    {
                        "key": "h2h",
                        "last_update": "2021-09-09T18:46:01Z",
                        "outcomes": [
                            {"name": "Dallas Cowboys", "price": 240},
                            {"name": "Tampa Bay Buccaneers", "price": -303},
                        ],
                    },
                    {
                        "key": "totals",
                        "outcomes": [
                            {"name": "Over", "price": 1.91, "point": 51.5},
                            {"name": "Under", "price": 1.91, "point": 51.5},
                        ],
                    },
                ],
            }
        ],
    }
    ev = parse_odds_event(raw)
    bm = ev.bookmaker("draftkings")
    assert bm is not None
    h2h = bm.market("h2h")
    totals = bm.market("totals")
    assert h2h is not None and totals is not None
    assert h2h.outcomes[0].decimal_odds == D("3.4") and h2h.outcomes[0].stake == D(100) / D(340)
    assert totals.outcomes[0].decimal_odds == D("1.91") and totals.outcomes[0].point == D("51.5")
    assert totals.last_update == bm.last_update  # falls back to the bookmaker's


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r.pop("commence_time"), "commence_time"),
        (lambda r: r["bookmakers"][0].pop("last_update"), "bookmakers[0].last_update"),
        (
            lambda r: r["bookmakers"][0]["markets"][0]["outcomes"][0].update(price=-50),
            "bookmakers[0].markets[0].outcomes[0].price",
        ),
        (
            lambda r: r["bookmakers"][0]["markets"][0]["outcomes"][0].update(price="x"),
            "bookmakers[0].markets[0].outcomes[0].price",
        ),
        (lambda r: r["bookmakers"][0]["markets"][0].update(outcomes=None), "bookmakers[0].markets[0].outcomes"),
    ],
)
def test_bad_odds_events(mutate: Any, field: str) -> None:
    raw = {
        "id": "e9",
        "sport_key": "basketball_nba",
        "commence_time": "2026-11-28T00:30:00Z",
        "home_team": "Boston Celtics",
        "away_team": "Los Angeles Lakers",
        "bookmakers": [
            {
                "key": "fanduel",
                "title": "FanDuel",
                "last_update": "2026-11-26T14:00:00Z",
                "markets": [
                    {
                        "key": "h2h",
                        "outcomes": [
                            {"name": "Boston Celtics", "price": -200},
                            {"name": "Los Angeles Lakers", "price": 168},
                        ],
                    }
                ],
            }
        ],
    }
    mutate(raw)
    with pytest.raises(PayloadError) as err:
        parse_odds_event(raw)
    assert err.value.field == field and err.value.ident == "e9"


def test_a_price_reads_the_same_however_often_and_in_whatever_form_it_comes() -> None:
    """Prices are converted once per distinct value: the form still decides (150 is american unless the
    format says decimal), and a price that failed reports its own outcome's path every time."""

    def event(prices: list[Any], american: bool | None = None) -> Any:
        outcomes = [{"name": f"T{k}", "price": p} for k, p in enumerate(prices)]
        raw = {
            "id": "e3",
            "sport_key": "basketball_nba",
            "commence_time": "2026-11-28T00:30:00Z",
            "home_team": "T0",
            "away_team": "T1",
            "bookmakers": [
                {
                    "key": "fanduel",
                    "last_update": "2026-11-26T14:00:00Z",
                    "markets": [{"key": "h2h", "outcomes": outcomes}],
                }
            ],
        }
        return parse_odds_event(raw, american=american).bookmakers[0].markets[0].outcomes

    as_int, as_float, as_text = event([150, 150.0, "150"])
    assert as_int.decimal_odds == as_float.decimal_odds == as_text.decimal_odds == D("2.5")
    assert as_int.american == D(150)
    (told_decimal,) = event([150], american=False)
    assert told_decimal.decimal_odds == D(150) and told_decimal.american is None
    (long_text,) = event(["2." + "5" * 40])  # parsed without the cache, as exactly
    assert long_text.decimal_odds == D("2." + "5" * 40)
    for index in (0, 1):
        prices: list[Any] = [2.5, 2.5]
        prices[index] = -50
        with pytest.raises(PayloadError) as err:
            event(prices)
        assert err.value.field == f"bookmakers[0].markets[0].outcomes[{index}].price"
        assert "decimal odds -50 must be greater than 1" in str(err.value)


# --- snapshots --------------------------------------------------------------------------------------


def test_example_snapshot_loads_and_reports_its_bad_market() -> None:
    snap = load_snapshot(EXAMPLE)
    assert len(snap.markets) == 16 and len(snap.odds) == 6
    (err,) = snap.errors
    assert err.field == "yes_ask_dollars" and err.ident == "KXNFLGAME-26NOV30LVLAC-LV"


def test_bad_entries_are_skipped_not_fatal() -> None:
    doc = json.loads(EXAMPLE.read_text())
    doc["kalshi"]["orderbooks"]["KXNFLGAME-26NOV26KCDAL-KC"] = {"orderbook_fp": {"yes_dollars": [["x", "1"]]}}
    doc["kalshi"]["series"].append({"ticker": "KXBAD", "fee_type": "quadratic"})
    doc["odds"].append({"id": "broken"})
    snap = parse_snapshot(doc)
    fields = sorted((e.source, e.field) for e in snap.errors)
    assert ("kalshi orderbook", "orderbook_fp.yes_dollars[0]") in fields
    assert ("kalshi series", "fee_multiplier") in fields
    assert ("odds event", "commence_time") in fields
    assert len(snap.markets) == 16 and len(snap.odds) == 6  # everything else still there
    assert "KXNFLGAME-26NOV26KCDAL-KC" not in snap.orderbooks


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"kalshi": {}, "odds": []}', "as_of"),
        ('{"as_of": "soon", "kalshi": {}, "odds": []}', "as_of"),
        ('{"as_of": "2026-11-26T15:00:00Z", "odds": []}', "kalshi"),
        ('{"as_of": "2026-11-26T15:00:00Z", "kalshi": {"markets": {}}, "odds": []}', "kalshi.markets"),
        ('{"as_of": "2026-11-26T15:00:00Z", "kalshi": {}, "odds": {}}', "odds"),
    ],
)
def test_unreadable_snapshots(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "snap.json"
    path.write_text(content)
    with pytest.raises(SnapshotError, match=message):
        load_snapshot(path)


def test_missing_snapshot_file(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="does not exist"):
        load_snapshot(tmp_path / "nope.json")


def test_book_json_builder_matches_wire_order() -> None:
    body = book_json([("0.42", "1"), ("0.01", "2")], [])
    assert body["orderbook_fp"]["yes_dollars"][0][0] == "0.01"
