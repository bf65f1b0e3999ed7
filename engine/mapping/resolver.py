"""Map Kalshi sports markets to Odds API events and outcomes: the entry point detection calls.

Order of trust: operator overrides, then the ticker (series, Eastern date, team codes, suffix), then the
team tables, then the market's rules text as a second witness, then fuzzy names. A match needs every hard
check (same two teams, right date, YES side identified, line read from ``floor_strike``) and a confidence
of at least ``THRESHOLD``; anything else is unmatched with the reason.

Each market and event is considered once (:mod:`engine.markets.dedupe`): identical copies are merged, a
market whose copies differ is unmatched with the difference, and no market is matched to an Odds API event
whose copies differ (the copies stay in the index, so a sibling game cannot be picked in their place).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from engine.mapping.games import GameMatch, GameMiss, GameQuery, KalshiSide, OddsIndex
from engine.mapping.groups import winner_groups as _winner_groups
from engine.mapping.names import fold
from engine.mapping.overrides import Overrides
from engine.mapping.rules import MarketText, WinnerText, market_text, spread_lines, team_total, total_lines
from engine.mapping.teams import LEAGUES, League, Team, league_of_series, team_index
from engine.mapping.ticker import EventTicker, Suffix, TickerError, orient, parse_event_ticker, parse_suffix
from engine.mapping.types import Evidence, MappingResult, MarketKind, MarketMatch, Unmatched
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


class _Group(NamedTuple):
    """One Kalshi event's markets, with what its ticker says (a tuple: one is built per event of a pass)."""

    league: League
    kind: str
    ticker: EventTicker
    body: str
    markets: list[tuple[KalshiMarket, Suffix, MarketText]]
    """Each market with its parsed suffix and its :func:`market_text` (parsed once, here)."""


def _not_winner(group: _Group) -> bool:
    return group.kind != "winner"


class _Game:
    """One matched game and what every one of its markets shares, worked out once for the group."""

    __slots__ = ("base", "match", "other_game", "query", "sides", "teams")

    def __init__(self, query: GameQuery, match: GameMatch, base: tuple[Evidence, ...]) -> None:
        self.query = query
        self.match = match
        self.base = base
        home, away = query.home, query.away
        self.sides: dict[str, tuple[KalshiSide, KalshiSide]] = {home.code: (home, away), away.code: (away, home)}
        """Per Kalshi code: (that side, the other side)."""
        self.teams: tuple[str | None, str | None] | None = None
        self.other_game: str | None = None
        """:func:`_other_game` for the ``teams`` (first, second) of the last market text asked about: the
        markets of a game mostly name the same two."""

    def other(self, text: WinnerText, league: League) -> str | None:
        if self.teams is None or self.teams[0] != text.first or self.teams[1] != text.second:
            self.teams = (text.first, text.second)
            self.other_game = _other_game(text, league, self.query.home, self.query.away)
        return self.other_game


@lru_cache(maxsize=1024)
def _round4(confidence: float) -> float:
    """``round(confidence, 4)``, memoised: a board has a handful of distinct confidences."""
    return round(confidence, 4)


@lru_cache(maxsize=16384)
def _side(league: str, code: str, text_name: str | None) -> KalshiSide:
    """The side ``code`` of a ``league`` game whose market text calls it ``text_name`` (memoised: a team plays
    many games, and a side is immutable)."""
    index = team_index(league)
    team: Team | None = index.code(code)
    if team is None and text_name:
        team = index.name(text_name)
    names = (text_name,) if text_name and team is None else ()
    return KalshiSide(code, team, names)


def _matches_name(text: str, side: KalshiSide) -> bool:
    """Does ``text`` name ``side``? Table names, ``<CODE> <mascot>`` (``PHI Eagles``), or the side's own text."""
    return _names(text, fold(text), side)


def _names(text: str, folded: str, side: KalshiSide) -> bool:
    """:func:`_matches_name` given ``folded`` = ``fold(text)`` (a witness asks it of both sides)."""
    if folded in side.folded:
        return True
    team = side.team
    if team is None:
        return False
    split = _code_and_rest(text)
    return split is not None and split[0] in team.codes and fold(team.odds_name).endswith(split[1])


@lru_cache(maxsize=16384)
def _code_and_rest(text: str) -> tuple[str, str] | None:
    """``PHI Eagles`` -> (``PHI``, ``eagles``): the first word upper-cased and the rest folded; None for one word."""
    head, _, rest = text.strip().partition(" ")
    return (head.upper(), fold(rest)) if rest else None


def _foreign(name: str, league: League, sides: tuple[KalshiSide, KalshiSide]) -> Team | None:
    """The table team ``name`` means when that is neither side of the game (the text is about another game)."""
    if any(_matches_name(name, side) for side in sides):
        return None
    team = team_index(league.key).name(name)
    if team is None or any(team is side.team for side in sides):
        return None
    return team


@lru_cache(maxsize=16384)
def _names_evidence(what: str, name: str, code: str) -> Evidence:
    """The witness that a text names the side ``code`` (memoised: a team's name recurs over its games and lines)."""
    return Evidence("rules_text", 1.0, f"{what}: text names {name!r} = {code}")


def _witness(name: str | None, this: KalshiSide, other: KalshiSide, what: str, league: League) -> Evidence | str:
    """Evidence that the text names ``this`` side, or the reason it contradicts the ticker."""
    if name is None:
        return Evidence("rules_text", 0.5, f"{what}: text names no team")
    folded = fold(name)
    says_this, says_other = _names(name, folded, this), _names(name, folded, other)
    if says_other and not says_this:
        return f"{what}: text names {name!r} ({other.code}) but the ticker suffix is {this.code}"
    if says_this and not says_other:
        return _names_evidence(what, name, this.code)
    if this.team is None:
        return f"{what}: text names {name!r}, which does not identify {this.code} unambiguously"
    foreign = _foreign(name, league, (this, other))
    if foreign is not None:
        return f"{what}: text names {name!r} ({foreign.odds_name}), a team of neither {this.code} nor {other.code}"
    return Evidence("rules_text", 0.5, f"{what}: text {name!r} not in the team table")


def _other_game(text: WinnerText | None, league: League, home: KalshiSide, away: KalshiSide) -> str | None:
    """Why the market text describes a game with a team the ticker does not name; None when it does not."""
    if text is None:
        return None
    for name in (text.first, text.second):
        if not name:
            continue
        folded = fold(name)
        if folded in home.folded or folded in away.folded:
            continue  # it names a side of this game (the common case, without the slower checks)
        foreign = _foreign(name, league, (home, away))
        if foreign is not None:
            return f"rules text game names {name!r} ({foreign.odds_name}), not {away.code} or {home.code}"
    return None


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
        groups = self._groups()
        queries: list[tuple[_Group, GameQuery]] = []  # one per event ticker, as the groups are
        # Winner events first: their suffixes name both codes, which spread/total events then reuse.
        for group in sorted(groups, key=_not_winner):
            query = self._query(group)
            if isinstance(query, str):
                for market, _, _ in group.markets:
                    self.miss(market, query)
            else:
                queries.append((group, query))
        index = OddsIndex(self.events, list(LEAGUES.values()))
        by_league: dict[str, list[str]] = {}
        for _, query in queries:
            fuzzy = query.league.college or index.has_unresolved(query.league)
            for side in (query.home, query.away):
                if side.team is None or fuzzy:
                    by_league.setdefault(query.league.key, []).extend(side.queries())
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
            codes = Evidence("ticker_codes", 1.0, f"{query.away.code}@{query.home.code} {query.day.isoformat()}")
            game = _Game(query, found, (codes, *found.evidence))
            for market, suffix, text in group.markets:
                self._market(market, suffix, text, group, game)
        return MappingResult(self.matches, tuple(self.unmatched))

    def _groups(self) -> list[_Group]:
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
        groups: list[_Group] = []
        for event_ticker, markets in raw.items():
            group = self._group(event_ticker, markets)
            if group is not None:
                groups.append(group)
        return groups

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
        for market in markets:
            if not market.ticker.startswith(prefix):
                self.miss(market, f"ticker {market.ticker!r} is not a market of its event_ticker {event_ticker!r}")
                continue
            raw = market.ticker[len(prefix) :]  # = market.suffix, the ticker being under its event's
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

    def _codes(self, group: _Group) -> tuple[str, str] | str:
        blob = group.ticker.codes
        codes: list[str] = []
        for _, suffix, _ in group.markets:
            if suffix.code and suffix.code not in codes:
                codes.append(suffix.code)
        codes.sort()
        if len(codes) > 2:
            return f"event {group.ticker.series}-{group.body} has more than two team codes: {', '.join(codes)}"
        if len(codes) == 2:
            a, b = codes
            if a + b == blob:
                return a, b
            if b + a == blob:
                return b, a
            return f"suffix codes {a}, {b} do not spell the ticker's teams {blob}"
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
        codes = self._codes(group)
        if isinstance(codes, str):
            return codes
        sibling = self.sides.get((group.league.key, group.body))
        text: WinnerText | None = None
        occurrence: datetime | None = None
        text_start: datetime | None = None
        for market, _, facts in group.markets:  # the first of each that some market states
            if text is None:
                text = facts.winner
            if occurrence is None:
                moment = market.occurrence_datetime
                if moment is not None and moment.tzinfo is not None:  # without a zone it names no moment
                    occurrence = moment
            if text_start is None:
                text_start = facts.start
        league = group.league
        if sibling is not None and {sibling[0].code, sibling[1].code} == set(codes):
            away, home = sibling
        else:
            first = _side(league.key, codes[0], text.first if text else None)
            second = _side(league.key, codes[1], text.second if text else None)
            if text is not None and group.kind == "winner" and (first.team is None or second.team is None):
                first, second = self._with_yes_names(group, first, second)
            home, away = (first, second) if league.home_first else (second, first)
        if group.kind == "winner" and self._consistent(group, away, home):
            self.sides[(league.key, group.body)] = (away, home)
        text_day: date | None = text.day if text is not None else None
        t = group.ticker
        return GameQuery(league, away, home, t.day, t.start, t.game, occurrence, text_day, text_start)

    def _consistent(self, group: _Group, away: KalshiSide, home: KalshiSide) -> bool:
        """No winner market's text names the other side: only then may spread/total events reuse these sides."""
        sides = {away.code: (away, home), home.code: (home, away)}
        ok = True
        for market, suffix, facts in group.markets:
            text = facts.winner
            if text is None or suffix.code not in sides:
                continue
            this, other = sides[suffix.code]
            witness = _witness(text.yes, this, other, "YES team", group.league)
            self.witnessed[market.ticker] = witness
            if isinstance(witness, str):
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

    def _market(self, market: KalshiMarket, suffix: Suffix, facts: MarketText, group: _Group, ctx: _Game) -> None:
        """Decide one market of a matched game: which outcome (and line) YES is, or why it cannot be told."""
        query, game = ctx.query, ctx.match
        if facts.period:
            self.miss(market, "market is on a period (half/quarter), not the full game")
            return
        if facts.regulation:
            self.miss(market, "market is on regulation time, not the full game with overtime")
            return
        blocked = self.overrides.blocked_odds_events
        if blocked and game.event.id in blocked:
            self.miss(market, f"Odds API event {game.event.id} blocked: {blocked[game.event.id]}")
            return
        scheduled = facts.day
        if scheduled is not None and scheduled != query.day:
            self.miss(market, f"rules text date {scheduled} contradicts ticker date {query.day}")
            return
        league = group.league
        if league.three_way and _BEYOND_90.search(market.rules_primary):
            self.miss(market, "settles after extra time or penalties; the Odds API markets are 90 minutes")
            return
        text = facts.winner
        if text is not None:
            other_game = ctx.other(text, league)
            if other_game is not None:
                self.miss(market, other_game)
                return
        decided: tuple[MarketKind, str, Decimal | None, tuple[Evidence, ...]] | None
        if group.kind == "winner":
            decided = self._winner(market, suffix, text, league, ctx)
        elif group.kind == "spread":
            decided = self._spread(market, suffix, league, ctx)
        else:
            decided = self._total(market, league, query)
        if decided is None:
            return
        kind, outcome, point, evidence = decided  # this market's own evidence, after the game's ``base``
        confidence = game.confidence
        for e in evidence:
            if e.signal == "rules_text" and e.score < 1:  # the text neither confirms nor contradicts
                confidence *= NO_TEXT
                break
        if confidence < THRESHOLD:
            self.miss(market, f"confidence {confidence:.2f} below threshold {THRESHOLD}")
            return
        self.matches[market.ticker] = MarketMatch(
            market.ticker, market.event_ticker, game.event.id, kind, outcome, point, _round4(confidence),
            ctx.base + evidence,
        )  # fmt: skip

    def _winner(
        self, market: KalshiMarket, suffix: Suffix, text: WinnerText | None, league: League, ctx: _Game
    ) -> tuple[MarketKind, str, None, tuple[Evidence, ...]] | None:
        """A winner market's outcome (a team or the draw), or None with the miss recorded."""
        day = ctx.query.day
        if text is not None and text.day is not None and text.day != day:
            self.miss(market, f"rules text date {text.day} contradicts ticker date {day}")
            return None
        if suffix.kind == "tie":
            if text is not None and fold(text.yes) != "tie":
                self.miss(market, f"TIE market but the text says YES is {text.yes!r}")
                return None
            return MarketKind.WINNER, "Draw", None, (_DRAW,)
        witness = self.witnessed.get(market.ticker)
        if witness is None:
            this, other = ctx.sides[suffix.code]
            witness = _witness(text.yes if text else None, this, other, "YES team", league)
        if isinstance(witness, str):
            self.miss(market, witness)
            return None
        return MarketKind.WINNER, ctx.match.outcome_for_code[suffix.code], None, (witness,)

    def _spread(
        self, market: KalshiMarket, suffix: Suffix, league: League, ctx: _Game
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
        this, other = ctx.sides[suffix.code]
        found: list[Evidence] = []
        for name in dict.fromkeys([ln.team for ln in lines] or [None]):
            witness = _witness(name, this, other, "spread team", league)
            if isinstance(witness, str):
                self.miss(market, witness)
                return None
            found.append(witness)
        evidence = (
            max(found, key=lambda e: e.score),
            Evidence("floor_strike", 1.0, f"{this.code} wins by more than {strike}"),
        )
        return MarketKind.SPREAD, ctx.match.outcome_for_code[suffix.code], -strike, evidence

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
            any(_matches_name(scorer, side) for side in (query.home, query.away))
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
