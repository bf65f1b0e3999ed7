"""Map Kalshi sports markets to Odds API events and outcomes: the entry point detection calls.

Order of trust: operator overrides, then the ticker (series, Eastern date, team codes, suffix), then the
team tables, then the market's rules text as a second witness, then fuzzy names. A match needs every hard
check (same two teams, right date, YES side identified, line read from ``floor_strike``) and a confidence
of at least ``THRESHOLD``; anything else is unmatched with the reason.

Each market and event is considered once (:mod:`engine.markets.dedupe`): identical copies are merged, a
market whose copies differ is unmatched with the difference, and no market is matched to an Odds API event
whose copies differ (the copies stay in the index, so a sibling game cannot be picked in their place).

A pass touches every market of the board, so it is written for the common case: one parse per market text
(:func:`engine.mapping.rules.market_text`), per-game work done once per game, and no object per market beyond
the match itself. The checks and their order are the specification; the loops only avoid repeating them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from engine.mapping.games import GameMatch, GameMiss, GameQuery, KalshiSide, OddsIndex
from engine.mapping.groups import winner_groups as _winner_groups
from engine.mapping.names import fold
from engine.mapping.overrides import Overrides
from engine.mapping.rules import MarketText, WinnerText, market_text, spread_lines, team_total, total_lines
from engine.mapping.teams import LEAGUES, League, league_of_series, team_index
from engine.mapping.ticker import EventTicker, Suffix, TickerError, orient, parse_event_ticker, parse_suffix
from engine.mapping.types import Evidence, MappingResult, MarketKind, MarketMatch, Unmatched
from engine.mapping.witness import matches_name, other_game, side_of, witness
from engine.markets.dedupe import unique_markets, unique_odds_events
from engine.markets.kalshi import KalshiMarket
from engine.markets.odds import OddsEvent

THRESHOLD = 0.75
"""Minimum confidence for an automatic match."""
NO_TEXT = 0.95
"""Confidence factor when the market text neither confirms nor contradicts the YES side."""
_BEYOND_90 = re.compile(r"extra time|penalt|to advance|qualif", re.IGNORECASE)

_KIND_SUFFIX = {"winner": ("team", "tie"), "spread": ("team_line",), "total": ("line",)}
_DRAW = Evidence("suffix", 1.0, "TIE market = Draw")
_WINNER = MarketKind.WINNER
_ALL_LEAGUES = tuple(LEAGUES.values())


class _Group(NamedTuple):
    """One Kalshi event's markets, with what its ticker says (a tuple: one is built per event of a pass)."""

    league: League
    kind: str
    ticker: EventTicker
    body: str
    markets: list[tuple[KalshiMarket, Suffix, MarketText]]
    """Each market with its parsed suffix and its :func:`market_text` (parsed once, here)."""


def _pair(code: str, first: KalshiSide, second: KalshiSide) -> tuple[KalshiSide, KalshiSide]:
    """(the side ``code`` names, the other side); a ``KeyError`` for a code of neither side.

    ``first`` is tested first, so it is the answer when both sides carry the same code (a split like
    ``LALA`` read from the table; such a game has no team suffix, so no caller asks)."""
    if code == first.code:
        return first, second
    if code == second.code:
        return second, first
    raise KeyError(code)


class _Resolver:
    def __init__(self, markets: Sequence[KalshiMarket], events: Sequence[OddsEvent], overrides: Overrides) -> None:
        unique = unique_markets(markets)
        odds = unique_odds_events(events)
        self.markets = unique.items
        self.events: tuple[OddsEvent, ...] = (*odds.items, *(e for c in (odds.conflicting or {}).values() for e in c))
        self.conflicting_events = {e.ident: e.problem for e in odds.refused}
        """Odds API ids listed with different content: no market is matched to them."""
        self.overrides = overrides
        self.matches: dict[str, MarketMatch] = {}
        self.unmatched: list[Unmatched] = [Unmatched(e.ident, e.problem) for e in unique.refused]
        self.sides: dict[tuple[str, str], tuple[KalshiSide, KalshiSide]] = {}
        self.witnessed: dict[str, Evidence | str] = {}
        """The YES-team witness of each winner market, by ticker (unique within a pass), worked out with its game."""

    def miss(self, market: KalshiMarket, reason: str) -> None:
        self.unmatched.append(Unmatched(market.ticker, reason))

    def run(self) -> MappingResult:
        winners, others = self._groups()
        queries: list[tuple[_Group, GameQuery]] = []
        # Winner events first: their suffixes name both codes, which spread/total events then reuse.
        for group in (*winners, *others):
            query = self._query(group)
            if isinstance(query, str):
                for market, _, _ in group.markets:
                    self.miss(market, query)
            else:
                queries.append((group, query))
        index = OddsIndex(self.events, _ALL_LEAGUES)
        fuzzy_league: dict[str, bool] = {}
        by_league: dict[str, list[str]] = {}
        for _, query in queries:
            league, home, away = query.league, query.home, query.away
            fuzzy = fuzzy_league.get(league.key)
            if fuzzy is None:
                fuzzy = fuzzy_league[league.key] = league.college or index.has_unresolved(league)
            for side in (home, away) if fuzzy or home.team is None or away.team is None else ():
                if side.team is None or fuzzy:
                    by_league.setdefault(league.key, []).extend(side.queries())
        for key, names in by_league.items():
            index.prepare_fuzzy(LEAGUES[key], names)
        for group, query in queries:
            found = index.find(query)
            if isinstance(found, GameMiss):
                for market, _, _ in group.markets:
                    self.miss(market, found.reason)
                continue
            conflict = self.conflicting_events.get(found.event.id)
            if conflict is not None:
                for market, _, _ in group.markets:
                    self.miss(market, f"Odds API event {found.event.id} {conflict}")
                continue
            self._game(group, query, found)
        return MappingResult(self.matches, tuple(self.unmatched))

    def _groups(self) -> tuple[list[_Group], list[_Group]]:
        """The events of the pass, winner events and the others, each in first-seen order."""
        raw: dict[str, list[KalshiMarket]] = {}
        o = self.overrides
        check = bool(o.pairs or o.blocked_tickers or o.blocked_events)  # else no override can apply to a market
        for market in self.markets:
            if check and self._overridden(market):
                continue
            same = raw.get(market.event_ticker)
            if same is None:
                raw[market.event_ticker] = [market]
            else:
                same.append(market)
        winners: list[_Group] = []
        others: list[_Group] = []
        for event_ticker, markets in raw.items():
            group = self._group(event_ticker, markets)
            if group is not None:
                (winners if group.kind == "winner" else others).append(group)
        return winners, others

    def _overridden(self, market: KalshiMarket) -> bool:
        """Apply an operator block or manual pair to ``market``; False when neither names it."""
        pair = self.overrides.pairs.get(market.ticker)
        block = self.overrides.block_reason(market.ticker, market.event_ticker)
        if block is not None:
            self.miss(market, f"blocked by operator override: {block}")
        elif pair is not None:
            ev = Evidence("override", 1.0, pair.note or "manual pair from the overrides file")
            self.matches[market.ticker] = MarketMatch(
                market.ticker, market.event_ticker, pair.odds_event_id, pair.market_key, pair.outcome, pair.point,
                1.0, (ev,),
            )  # fmt: skip
        else:
            return False
        return True

    def _group(self, event_ticker: str, markets: list[KalshiMarket]) -> _Group | None:
        series, _, body = event_ticker.partition("-")  # = each market's series_ticker, they share the event
        found = league_of_series(series)
        if found is None:
            for market in markets:
                self.miss(market, f"series {market.series_ticker} is not a game series this resolver prices")
            return None
        league, kind = found
        try:
            ticker = parse_event_ticker(event_ticker)
        except TickerError as exc:
            for market in markets:
                self.miss(market, str(exc))
            return None
        if ticker.game is not None and not league.doubleheaders:
            reason = (
                f"event {event_ticker} carries doubleheader game number {ticker.game}, but Kalshi numbers games "
                f"only in baseball, not {league.key.upper()}: which game it is cannot be told"
            )
            for market in markets:
                self.miss(market, reason)
            return None
        parsed: list[tuple[KalshiMarket, Suffix, MarketText]] = []
        prefix, allowed = event_ticker + "-", _KIND_SUFFIX[kind]
        cut = len(prefix)
        for market in markets:
            if not market.ticker.startswith(prefix):
                self.miss(market, f"ticker {market.ticker!r} is not a market of its event_ticker {event_ticker!r}")
                continue
            raw = market.ticker[cut:]  # = market.suffix, the ticker being under its event's
            try:
                suffix = parse_suffix(raw)
            except TickerError as exc:
                self.miss(market, str(exc))
                continue
            if suffix.kind not in allowed:
                self.miss(market, f"suffix {raw!r} is not a {kind} market suffix")
            elif suffix.kind == "tie" and not league.three_way:
                self.miss(market, f"TIE market in {league.key}, which has no draw outcome")
            else:
                parsed.append((market, suffix, market_text(market.rules_primary, market.title)))
        if not parsed:
            return None
        return _Group(league, kind, ticker, body, parsed)

    def _codes(self, group: _Group, codes: list[str]) -> tuple[str, str] | str:
        """The game's two codes in ticker order, from ``codes`` (the distinct suffix codes, first seen first)."""
        blob = group.ticker.codes
        if len(codes) == 2:
            a, b = codes if codes[0] <= codes[1] else (codes[1], codes[0])
            if a + b == blob:
                return a, b
            if b + a == blob:
                return b, a
            return f"suffix codes {a}, {b} do not spell the ticker's teams {blob}"
        codes.sort()
        if len(codes) > 2:
            return f"event {group.ticker.series}-{group.body} has more than two team codes: {', '.join(codes)}"
        if len(codes) == 1:
            split = orient(blob, codes[0])
            if split is None:
                return f"suffix code {codes[0]} is not at either end of the ticker's teams {blob}"
            return split
        sibling = self.sides.get((group.league.key, group.body))
        if sibling is not None:
            first, second = (sibling[1], sibling[0]) if group.league.home_first else sibling
            return first.code, second.code
        index = team_index(group.league.key)
        splits = [
            (blob[:i], blob[i:]) for i in range(2, len(blob) - 1) if index.code(blob[:i]) and index.code(blob[i:])
        ]
        if len(splits) == 1:
            return splits[0]
        return f"cannot split team codes {blob} ({len(splits)} readings in the {group.league.key} table)"

    def _query(self, group: _Group) -> GameQuery | str:
        text: WinnerText | None = None
        occurrence: datetime | None = None
        text_start: datetime | None = None
        found: list[str] = []
        for market, suffix, facts in group.markets:  # the suffix codes, and the first of each some market states
            if suffix.code and suffix.code not in found:
                found.append(suffix.code)
            if text is None:
                text = facts.winner
            if occurrence is None:
                moment = market.occurrence_datetime
                if moment is not None and moment.tzinfo is not None:  # without a zone it names no moment
                    occurrence = moment
            if text_start is None:
                text_start = facts.start
        codes = self._codes(group, found)
        if isinstance(codes, str):
            return codes
        league, kind = group.league, group.kind
        sibling = self.sides.get((league.key, group.body))
        if sibling is not None and {sibling[0].code, sibling[1].code} == set(codes):
            away, home = sibling
        else:
            first = side_of(league.key, codes[0], text.first if text else None)
            second = side_of(league.key, codes[1], text.second if text else None)
            if text is not None and kind == "winner" and (first.team is None or second.team is None):
                first, second = self._with_yes_names(group, first, second)
            home, away = (first, second) if league.home_first else (second, first)
        if kind == "winner" and self._consistent(group, away, home):
            self.sides[(league.key, group.body)] = (away, home)
        t = group.ticker
        text_day = text.day if text is not None else None
        return GameQuery(league, away, home, t.day, t.start, t.game, occurrence, text_day, text_start)

    def _consistent(self, group: _Group, away: KalshiSide, home: KalshiSide) -> bool:
        """No winner market's text names the other side: only then may spread/total events reuse these sides."""
        ok = True
        witnessed = self.witnessed
        for market, suffix, facts in group.markets:
            text = facts.winner
            code = suffix.code
            if text is None or code not in (home.code, away.code):
                continue
            this, other = _pair(code, home, away)  # as {away.code: .., home.code: ..}[code]
            found = witnessed[market.ticker] = witness(text.yes, this, other, "YES team", group.league)
            if isinstance(found, str):
                ok = False
        return ok

    @staticmethod
    def _with_yes_names(group: _Group, first: KalshiSide, second: KalshiSide) -> tuple[KalshiSide, KalshiSide]:
        """Add each market's YES name to its own side: the only name a college side may have."""
        extra: dict[str, list[str]] = {first.code: [], second.code: []}
        for _, suffix, facts in group.markets:
            t = facts.winner
            if t is not None and suffix.code in extra and fold(t.yes) != "tie":
                extra[suffix.code].append(t.yes)
        out = []
        for side in (first, second):
            if side.team is None and extra[side.code]:
                names = tuple(dict.fromkeys((*side.names, *extra[side.code])))
                out.append(KalshiSide(side.code, None, names))
            else:
                out.append(side)
        return out[0], out[1]

    def _game(self, group: _Group, query: GameQuery, found: GameMatch) -> None:
        """Decide each market of a matched game: which outcome (and line) YES is, or why it cannot be told.

        The checks run in the same order for every market; what they share (the game's evidence, the
        blocked state of its event, the other-game test of the last text pair) is worked out once here.
        """
        home, away, day, league = query.home, query.away, query.day, group.league
        event_id = found.event.id
        base = (Evidence("ticker_codes", 1.0, f"{away.code}@{home.code} {day.isoformat()}"), *found.evidence)
        blocked = self.overrides.blocked_odds_events
        is_blocked = bool(blocked) and event_id in blocked
        winner, three_way = group.kind == "winner", league.three_way
        teams: tuple[str | None, str | None] | None = None  # the (first, second) of ``elsewhere``
        elsewhere: str | None = None
        witnessed, matches, outcome_for_code = self.witnessed, self.matches, found.outcome_for_code
        for market, suffix, facts in group.markets:
            if facts.period:
                self.miss(market, "market is on a period (half/quarter), not the full game")
                continue
            if facts.regulation:
                self.miss(market, "market is on regulation time, not the full game with overtime")
                continue
            if is_blocked:
                self.miss(market, f"Odds API event {event_id} blocked: {blocked[event_id]}")
                continue
            if facts.day is not None and facts.day != day:
                self.miss(market, f"rules text date {facts.day} contradicts ticker date {day}")
                continue
            if three_way and _BEYOND_90.search(market.rules_primary):
                self.miss(market, "settles after extra time or penalties; the Odds API markets are 90 minutes")
                continue
            text = facts.winner
            if text is not None:
                if teams is None or teams[0] != text.first or teams[1] != text.second:
                    teams = (text.first, text.second)
                    elsewhere = other_game(text, league, home, away)
                if elsewhere is not None:
                    self.miss(market, elsewhere)
                    continue
            # The market's kind, outcome, line and own evidence (after the game's ``base``).
            kind: MarketKind
            outcome: str
            point: Decimal | None
            evidence: tuple[Evidence, ...]
            if winner:
                if text is not None and text.day is not None and text.day != day:
                    self.miss(market, f"rules text date {text.day} contradicts ticker date {day}")
                    continue
                if suffix.kind == "tie":
                    if text is not None and fold(text.yes) != "tie":
                        self.miss(market, f"TIE market but the text says YES is {text.yes!r}")
                        continue
                    kind, outcome, point, evidence = _WINNER, "Draw", None, (_DRAW,)
                else:
                    said = witnessed.get(market.ticker)
                    if said is None:
                        this, other = _pair(suffix.code, away, home)  # as {home.code: .., away.code: ..}[code]
                        said = witness(text.yes if text else None, this, other, "YES team", league)
                    if isinstance(said, str):
                        self.miss(market, said)
                        continue
                    kind, outcome, point, evidence = _WINNER, outcome_for_code[suffix.code], None, (said,)
            else:
                decided = (
                    self._spread(market, suffix, league, found, home, away)
                    if group.kind == "spread"
                    else self._total(market, league, query)
                )
                if decided is None:
                    continue
                kind, outcome, point, evidence = decided
            confidence = found.confidence
            for e in evidence:
                if e.signal == "rules_text" and e.score < 1:  # the text neither confirms nor contradicts
                    confidence *= NO_TEXT
                    break
            if confidence < THRESHOLD:
                self.miss(market, f"confidence {confidence:.2f} below threshold {THRESHOLD}")
                continue
            matches[market.ticker] = MarketMatch(
                market.ticker, market.event_ticker, event_id, kind, outcome, point, round(confidence, 4),
                base + evidence,
            )  # fmt: skip

    def _spread(
        self,
        market: KalshiMarket,
        suffix: Suffix,
        league: League,
        found: GameMatch,
        home: KalshiSide,
        away: KalshiSide,
    ) -> tuple[MarketKind, str, Decimal, tuple[Evidence, ...]] | None:
        """A spread market's team and handicap (``-floor_strike``), or None with the miss recorded."""
        strike = market.floor_strike
        if market.strike_type != "greater" or strike is None or not strike.is_finite():
            self.miss(
                market,
                f"spread needs strike_type 'greater' and a finite floor_strike, got {market.strike_type!r} "
                f"and {strike}",
            )
            return None
        lines = spread_lines(market.rules_primary, market.title)
        for line in lines:
            if not line.over or line.value != strike:
                side = "over" if line.over else "under"
                self.miss(market, f"{line.source} says {side} {line.value}, floor_strike is {strike}")
                return None
        this, other = _pair(suffix.code, away, home)  # as {home.code: .., away.code: ..}[code]
        said: list[Evidence] = []
        for name in dict.fromkeys([ln.team for ln in lines] or [None]):
            seen = witness(name, this, other, "spread team", league)
            if isinstance(seen, str):
                self.miss(market, seen)
                return None
            said.append(seen)
        evidence = (
            max(said, key=lambda e: e.score),
            Evidence("floor_strike", 1.0, f"{this.code} wins by more than {strike}"),
        )
        return MarketKind.SPREAD, found.outcome_for_code[suffix.code], -strike, evidence

    def _total(
        self, market: KalshiMarket, league: League, query: GameQuery
    ) -> tuple[MarketKind, str, Decimal, tuple[Evidence, ...]] | None:
        """A game total's side and line, or None with the miss recorded."""
        if market.strike_type == "greater" and market.floor_strike is not None:
            outcome, point, over = "Over", market.floor_strike, True
        elif market.strike_type == "less" and market.cap_strike is not None:
            outcome, point, over = "Under", market.cap_strike, False
        else:
            self.miss(market, f"total needs strike_type greater/less with its strike, got {market.strike_type!r}")
            return None
        if not point.is_finite():
            self.miss(market, f"total strike {point} is not a finite number")
            return None
        scorer = team_total(market.rules_primary, market.title)
        if scorer is not None and (
            any(matches_name(scorer, side) for side in (query.home, query.away))
            or team_index(league.key).name(scorer) is not None
        ):
            self.miss(market, f"text {scorer!r} makes this one team's total, not the game total")
            return None
        lines = total_lines(market.rules_primary, market.title)
        for line in lines:
            if line.over != over or line.value != point:
                side = "over" if line.over else "under"
                self.miss(market, f"{line.source} says {side} {line.value}, strike says {outcome} {point}")
                return None
        return (
            MarketKind.TOTAL,
            outcome,
            point,
            (Evidence("strike", 1.0 if lines else 0.5, f"YES = {outcome} {point}"),),
        )


def winner_groups(markets: Sequence[KalshiMarket]) -> list[tuple[KalshiMarket, ...]]:
    """Winner events whose markets are provably all the game's outcomes (see :mod:`engine.mapping.groups`)."""
    return _winner_groups(markets)


def resolve(
    markets: Sequence[KalshiMarket], events: Sequence[OddsEvent], *, overrides: Overrides | None = None
) -> MappingResult:
    """Match each Kalshi market to an Odds API event and outcome; every other market is unmatched with a reason."""
    return _Resolver(markets, events, overrides or Overrides()).run()
