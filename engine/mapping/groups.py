"""Kalshi winner events whose markets are provably every outcome of the game.

Detection buys YES on every outcome when the asks sum below $1; that is only risk-free if exactly one of
the markets pays (or, for an NFL tie, each pays $0.50). A group is returned only when its market suffixes
are exactly the event's own team codes (plus ``TIE`` for soccer), every market belongs to the event, none is a
period or regulation-time market, and no market's own text names a YES outcome other than its suffix, so a
missing, extra or mislabelled market never yields a partial "arbitrage". Markets listed twice are taken
once when identical; a market whose copies differ is refused (:mod:`engine.markets.dedupe`), leaving its
event incomplete, so no group.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.mapping.names import fold
from engine.mapping.rules import is_period, is_regulation, winner_text
from engine.mapping.teams import League, league_of_series, team_index
from engine.mapping.ticker import TickerError, parse_event_ticker, parse_suffix
from engine.markets.dedupe import unique_markets
from engine.markets.kalshi import KalshiMarket


def _text_disagrees(league: League, by_code: dict[str, KalshiMarket], tie: KalshiMarket | None) -> bool:
    """Does some market's text name a YES outcome other than its suffix (or two markets the same one)?"""
    index = team_index(league.key)
    seen: set[str] = set()
    labelled = [(code, m) for code, m in by_code.items()] + ([("", tie)] if tie is not None else [])
    for code, market in labelled:
        if is_period(market.title) or is_period(market.rules_primary) or is_regulation(market.title):
            return True
        text = winner_text(market.rules_primary, market.title)
        if text is None:
            continue
        yes = fold(text.yes)
        if yes in seen or (yes == "tie") != (code == ""):
            return True
        seen.add(yes)
        named = index.name(text.yes)
        if code and named is not None and any(index.code(c) is named for c in by_code if c != code):
            return True
        own = index.code(code) if code else None
        if own is not None and named is not None and named is not own:
            return True
    return False


def _complete(event_ticker: str, markets: list[KalshiMarket]) -> tuple[KalshiMarket, ...] | None:
    found = league_of_series(markets[0].series_ticker)
    if found is None or found[1] != "winner":
        return None
    league = found[0]
    try:
        ticker = parse_event_ticker(event_ticker)
        suffixes = [parse_suffix(m.suffix) for m in markets]
    except TickerError:
        return None
    if ticker.game is not None and not league.doubleheaders:
        return None  # not Kalshi's grammar (it numbers games only in baseball): the resolver refuses it too
    codes = ticker.codes
    if any(m.market_type != "binary" or not m.ticker.startswith(event_ticker + "-") for m in markets):
        return None
    by_code: dict[str, KalshiMarket] = {}
    tie: KalshiMarket | None = None
    for market, suffix in zip(markets, suffixes, strict=True):
        if suffix.kind == "tie" and tie is None:
            tie = market
        elif suffix.kind == "team" and suffix.code not in by_code:
            by_code[suffix.code] = market
        else:
            return None  # a duplicate or a non-winner suffix: not provably the outcome set
    if len(by_code) != 2:
        return None
    if league.three_way != (tie is not None):
        return None
    a, b = by_code
    if a + b == codes:
        first, second = a, b
    elif b + a == codes:
        first, second = b, a
    else:
        return None
    if _text_disagrees(league, by_code, tie):
        return None
    ordered = (by_code[first], by_code[second])
    return (*ordered, tie) if tie is not None else ordered


def winner_groups(markets: Sequence[KalshiMarket]) -> list[tuple[KalshiMarket, ...]]:
    """Per winner event, its markets in ticker order (away, home for US; home, away, tie for soccer)."""
    events: dict[str, list[KalshiMarket]] = {}
    unique = unique_markets(markets)
    refused = {m.event_ticker for copies in (unique.conflicting or {}).values() for m in copies}
    for market in unique.items:
        if market.event_ticker not in refused:
            events.setdefault(market.event_ticker, []).append(market)
    out: list[tuple[KalshiMarket, ...]] = []
    for event_ticker, members in events.items():
        group = _complete(event_ticker, members)
        if group is not None:
            out.append(group)
    return out
