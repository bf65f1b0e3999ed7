"""Find the one Odds API event that is the same game as a Kalshi event, or say why there is none.

A game is identified by its two teams and its Eastern calendar date (plus the start time for MLB
doubleheaders). Team identity comes from the team tables when the name is known there and from batch
fuzzy scores otherwise. Every decision leaves an :class:`Evidence`; every refusal a reason.

Between two games of one pair on one day, Kalshi's own times (ticker start, rules-text start,
``occurrence_datetime``) decide; the doubleheader number picks by start order only when none of those times
points at the other game or at neither, because a wrong pick prices one game against the other's odds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from engine.mapping.fuzzy import MARGIN, MATCH, FuzzyScores, college_form
from engine.mapping.names import fold
from engine.mapping.teams import League, Team, TeamIndex, team_index
from engine.mapping.types import Evidence
from engine.markets.odds import OddsEvent

EASTERN = ZoneInfo("America/New_York")
START_WINDOW = timedelta(minutes=90)
"""A ticker start time (MLB) and the Odds API ``commence_time`` must agree within this window."""
LONE_START_WINDOW = timedelta(hours=3)
"""Looser window when the ticker has a start time but no doubleheader number (delays, listing drift)."""
OCCURRENCE_LAG = timedelta(hours=3)
"""Kalshi's ``occurrence_datetime`` is about start + 3 h (reference); used to vet a +-1 day candidate."""
OCCURRENCE_WINDOW = timedelta(hours=6)
LONE_OCCURRENCE_WINDOW = timedelta(hours=4)
"""A lone candidate must start within this of ``occurrence_datetime`` - 3 h (catches the other game of a
doubleheader when the ticker has neither start time nor game number)."""
NEAR_MIDNIGHT = timedelta(hours=3)
"""Without ``occurrence_datetime``, a +-1 day candidate must start within this much of the ticker date's end
(or, when the ticker carries a start time that is then checked, of either midnight)."""


@lru_cache(maxsize=65536)
def eastern_date(moment: datetime) -> date:
    """The US-Eastern calendar date of ``moment`` (memoised: many markets share one start time)."""
    return moment.astimezone(EASTERN).date()


_SAME_ORDER = Evidence("home_away", 1.0, "home and away agree with the ticker order")
_REVERSED = Evidence("home_away", 0.5, "home/away reversed versus the ticker (neutral site?)")


@lru_cache(maxsize=4096)
def _same_day(day: date) -> Evidence:
    """The date evidence of an event on the ticker's day (memoised: a board has a few days of games)."""
    return Evidence("date", 1.0, f"starts on the ticker's Eastern date {day.isoformat()}")


@dataclass(frozen=True, slots=True)
class KalshiSide:
    """One team of a Kalshi game: its code, the table team when known, and names the market text uses."""

    code: str
    team: Team | None
    names: tuple[str, ...] = ()
    folded: frozenset[str] = field(init=False, repr=False, compare=False)
    """``names`` and the table team's names, folded: what :func:`fold` of a text naming this side equals."""

    def __post_init__(self) -> None:
        folded = frozenset(map(fold, self.names))
        if self.team is not None:
            folded = folded | self.team.folded_names if folded else self.team.folded_names
        object.__setattr__(self, "folded", folded)

    @property
    def label(self) -> str:
        if self.team is not None:
            return self.team.kalshi_name
        return self.names[0] if self.names else self.code

    def queries(self) -> tuple[str, ...]:
        """Names to fuzzy-score against the Odds API. Full names only for a table team: Kalshi's short name
        is often just the city (``Utah``), which would prefix-match any team from there."""
        if self.team is not None:
            return (self.team.odds_name, *self.team.names)
        return self.names


class GameQuery(NamedTuple):
    """A Kalshi game to find: ``home``/``away`` sides, the Eastern date, optional start and doubleheader game.

    Named tuples here and below: immutable, and cheap to build once per game of a mapping pass.
    """

    league: League
    away: KalshiSide
    home: KalshiSide
    day: date
    start: time | None
    game: int | None
    occurrence: datetime | None
    text_day: date | None = None
    text_start: datetime | None = None
    """The start the rules text prints (``... originally scheduled for Sep 26, 2026 at 8:40 PM EDT``)."""


class GameMatch(NamedTuple):
    """The matched event and, per Kalshi code, the Odds API team name that code means."""

    event: OddsEvent
    outcome_for_code: dict[str, str]
    confidence: float
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class GameMiss:
    reason: str


@dataclass(slots=True)
class _LeagueEvents:
    table: TeamIndex
    """The league's team table, which names the events' teams."""
    events: list[OddsEvent] = field(default_factory=list)
    days: list[date | None] = field(default_factory=list)
    """Each event's Eastern start date once :meth:`day` has converted it (once per event, not per query)."""
    home: list[Team | None] = field(default_factory=list)
    away: list[Team | None] = field(default_factory=list)
    names: dict[str, Team | None] = field(default_factory=dict)
    """Odds API name -> table team (None when not in the table), looked up once per name."""
    by_pair: dict[frozenset[str], list[int]] = field(default_factory=lambda: defaultdict(list))
    unresolved: list[int] = field(default_factory=list)
    by_team_built: dict[str, list[int]] | None = None
    by_form: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    fuzzy: FuzzyScores | None = None

    def day(self, i: int) -> date:
        day = self.days[i]
        if day is None:
            day = self.days[i] = eastern_date(self.events[i].commence_time)
        return day

    def team(self, name: str) -> Team | None:
        names = self.names
        if name in names:
            return names[name]
        team = names[name] = self.table.name(name)
        return team

    def by_team(self) -> dict[str, list[int]]:
        """Events per table team (Odds API name), built on first use: only games outside the pair index ask."""
        if self.by_team_built is None:
            built: dict[str, list[int]] = defaultdict(list)
            for i, pair in enumerate(zip(self.home, self.away, strict=True)):
                for team in pair:
                    if team is not None:
                        built[team.odds_name].append(i)
            self.by_team_built = built
        return self.by_team_built


class OddsIndex:
    """Odds API events grouped by sport and indexed by the (table-resolved) pair of teams."""

    def __init__(self, events: Sequence[OddsEvent], leagues: Sequence[League]) -> None:
        self._leagues: dict[str, _LeagueEvents] = {}
        by_sport = {lg.sport_key: lg for lg in leagues}
        for event in events:
            league = by_sport.get(event.sport_key)
            if league is None or event.commence_time.tzinfo is None:
                continue  # an unknown sport, or a start without a zone (its Eastern date cannot be known)
            bucket = self._leagues.get(league.key)
            if bucket is None:
                bucket = self._leagues[league.key] = _LeagueEvents(team_index(league.key))
            home, away = bucket.team(event.home_team), bucket.team(event.away_team)
            if home is not None and away is not None and home is not away:
                bucket.by_pair[frozenset((home.odds_name, away.odds_name))].append(len(bucket.events))
            else:
                bucket.unresolved.append(len(bucket.events))
            bucket.events.append(event)
            bucket.home.append(home)
            bucket.away.append(away)
        for bucket in self._leagues.values():
            bucket.days = [None] * len(bucket.events)

    def has_unresolved(self, league: League) -> bool:
        """Whether some Odds API team name of ``league`` is not in its table (and so needs fuzzy scores)."""
        bucket = self._leagues.get(league.key)
        return bucket is not None and bool(bucket.unresolved)

    def prepare_fuzzy(self, league: League, queries: Sequence[str]) -> None:
        """Score every Kalshi-side name of ``league`` against every Odds API name in one ``cdist`` call."""
        bucket = self._leagues.get(league.key)
        if bucket is None or not queries:
            return
        choices = [e.home_team for e in bucket.events] + [e.away_team for e in bucket.events]
        bucket.by_form.clear()  # only fuzzy lookups read it, so it is built with the scores
        for i, event in enumerate(bucket.events):
            bucket.by_form[college_form(event.home_team)].append(i)
            bucket.by_form[college_form(event.away_team)].append(i)
        bucket.fuzzy = FuzzyScores(queries, choices)

    def find(self, query: GameQuery) -> GameMatch | GameMiss:
        bucket = self._leagues.get(query.league.key)
        if bucket is None:
            return GameMiss(f"no Odds API events for {query.league.sport_key}")
        scored = self._candidates(bucket, query)
        if not scored:
            return GameMiss(f"no Odds API event with the same two teams ({_matchup(query)})")
        if len(scored) == 1:  # the common case, without a comprehension
            exact = scored if scored[0].day == query.day else []
        else:
            exact = [c for c in scored if c.day == query.day]
        evidence: list[Evidence] = []
        confidence = 1.0
        if exact:
            pool = exact
            evidence.append(_same_day(query.day))
        else:
            pool = [c for c in scored if self._near_day(c.event, query)]
            if not pool:
                days = ", ".join(sorted({c.day.isoformat() for c in scored}))
                return GameMiss(f"{_matchup(query)}: no event on {query.day.isoformat()} (same teams on {days})")
            confidence *= 0.85
            evidence.append(Evidence("date", 0.6, f"no event on {query.day.isoformat()}: +-1 day near midnight"))
        if query.text_day is not None and query.text_day != query.day:
            return GameMiss(f"rules text date {query.text_day} contradicts ticker date {query.day}")
        chosen = self._pick(pool, query, evidence)
        if isinstance(chosen, GameMiss):
            return GameMiss(f"{_matchup(query)}: {chosen.reason}")
        if chosen.reversed_:
            if not exact:
                return GameMiss(f"{_matchup(query)}: +-1 day candidate has home and away reversed")
            confidence *= 0.9
            evidence.append(_REVERSED)
        else:
            evidence.append(_SAME_ORDER)
        confidence *= min(chosen.score, 100.0) / 100.0
        evidence.extend(chosen.evidence)
        return GameMatch(chosen.event, chosen.outcomes, confidence, tuple(evidence))

    def _near_day(self, event: OddsEvent, query: GameQuery) -> bool:
        start = event.commence_time.astimezone(EASTERN)
        if abs((start.date() - query.day).days) != 1:
            return False
        if query.occurrence is not None:
            return abs(event.commence_time + OCCURRENCE_LAG - query.occurrence) <= OCCURRENCE_WINDOW
        next_midnight = datetime.combine(query.day + timedelta(days=1), time(0), EASTERN)
        if query.start is not None:
            edges = (next_midnight - timedelta(days=1), next_midnight)
            return any(abs(start - edge) <= NEAR_MIDNIGHT for edge in edges)
        # Nothing but the date: only a start just after the ticker day's midnight (a late local kickoff). The
        # evening before is where the same two teams' previous game of a series sits.
        return timedelta(0) <= start - next_midnight <= NEAR_MIDNIGHT

    def _pick(self, pool: list[_Candidate], query: GameQuery, evidence: list[Evidence]) -> _Candidate | GameMiss:
        if len(pool) == 1:
            return self._check_single(pool[0], query, evidence)
        best = max(c.score for c in pool)
        near = [c for c in pool if c.score >= best - MARGIN]
        if len(near) == 1:
            return self._check_single(near[0], query, evidence)
        if query.start is not None:
            target = datetime.combine(query.day, query.start, EASTERN)
            timed = [c for c in near if abs(c.event.commence_time - target) <= START_WINDOW]
            if len(timed) == 1:
                disagree = _times_disagree(timed[0], near, query, f"ticker start {query.start:%H:%M} ET picks")
                if disagree is not None:
                    return GameMiss(disagree)
                evidence.append(Evidence("start_time", 1.0, f"ticker start {query.start:%H:%M} ET"))
                return timed[0]
            return GameMiss(f"{len(timed)} events within {START_WINDOW} of the ticker start {query.start:%H:%M} ET")
        if query.game is not None and len(near) == 2:
            ordered = sorted(near, key=lambda c: c.event.commence_time)
            if ordered[0].event.commence_time != ordered[1].event.commence_time:
                chosen = ordered[query.game - 1]
                disagree = _times_disagree(chosen, ordered, query, f"doubleheader game {query.game} by start order is")
                if disagree is not None:
                    return GameMiss(disagree)
                evidence.append(Evidence("start_time", 0.8, f"doubleheader game {query.game} by start order"))
                return chosen
        ids = ", ".join(c.event.id for c in near)
        return GameMiss(f"ambiguous: {len(near)} candidate events ({ids}); doubleheader without a start time?")

    @staticmethod
    def _check_single(cand: _Candidate, query: GameQuery, evidence: list[Evidence]) -> _Candidate | GameMiss:
        """One candidate is still wrong when the ticker's start time or doubleheader number says otherwise:
        game 1 of a doubleheader must never be priced against game 2 because game 1 left the feed."""
        if query.text_start is not None:
            gap = abs(cand.event.commence_time - query.text_start)
            if gap > (START_WINDOW if query.game is not None else LONE_START_WINDOW):
                text = _utc(query.text_start)
                return GameMiss(f"only candidate {cand.event.id} starts {gap} away from the rules text start {text}")
        if query.start is not None:
            target = datetime.combine(query.day, query.start, EASTERN)
            gap = abs(cand.event.commence_time - target)
            window = START_WINDOW if query.game is not None else LONE_START_WINDOW
            if gap > window:
                return GameMiss(
                    f"only candidate {cand.event.id} starts {gap} away from the ticker start {query.start:%H:%M} ET"
                )
            if query.occurrence is not None:
                late = abs(cand.event.commence_time + OCCURRENCE_LAG - query.occurrence)
                if late > LONE_OCCURRENCE_WINDOW:
                    return GameMiss(f"only candidate {cand.event.id} starts {late} away from occurrence_datetime - 3 h")
            evidence.append(Evidence("start_time", 1.0, f"ticker start {query.start:%H:%M} ET within {gap}"))
        elif query.game is not None:
            if query.occurrence is not None:
                gap = abs(cand.event.commence_time + OCCURRENCE_LAG - query.occurrence)
                if gap <= START_WINDOW:
                    evidence.append(Evidence("start_time", 0.8, f"occurrence_datetime - 3 h within {gap} of the start"))
                    return cand
            return GameMiss(
                f"doubleheader game {query.game} without a start time and one candidate: cannot tell which game"
            )
        elif query.occurrence is not None:
            gap = abs(cand.event.commence_time + OCCURRENCE_LAG - query.occurrence)
            if gap > LONE_OCCURRENCE_WINDOW:
                return GameMiss(f"only candidate {cand.event.id} starts {gap} away from occurrence_datetime - 3 h")
        return cand

    def _candidates(self, bucket: _LeagueEvents, query: GameQuery) -> list[_Candidate]:
        out: list[_Candidate] = []
        home, away = query.home, query.away
        if home.team is not None and away.team is not None:
            pair = bucket.by_pair.get(frozenset((home.team.odds_name, away.team.odds_name)), ())
            if pair:
                detail = f"{away.code}={away.team.odds_name}, {home.code}={home.team.odds_name}"
                ev = (Evidence("team_table", 1.0, detail),)  # the same for every event of the pair
                for i in pair:
                    event = bucket.events[i]
                    day = bucket.days[i] or bucket.day(i)
                    if bucket.home[i] is not home.team:  # reversed
                        outcomes = {home.code: event.away_team, away.code: event.home_team}
                        out.append(_Candidate(event, day, 100.0, True, outcomes, ev))
                    else:
                        outcomes = {home.code: event.home_team, away.code: event.away_team}
                        out.append(_Candidate(event, day, 100.0, False, outcomes, ev))
            if not bucket.unresolved:
                return out
            plausible = self._plausible(bucket, home) & self._plausible(bucket, away)
            indices: Sequence[int] = sorted(plausible & set(bucket.unresolved))
        else:
            indices = sorted(self._plausible(bucket, home) & self._plausible(bucket, away))
        lo, hi = query.day - timedelta(days=1), query.day + timedelta(days=1)
        for i in indices:
            if not lo <= bucket.day(i) <= hi:
                continue
            cand = self._scored_candidate(bucket, i, query)
            if cand is not None:
                out.append(cand)
        return out

    @staticmethod
    def _plausible(bucket: _LeagueEvents, side: KalshiSide) -> set[int]:
        """Events with a team that could be ``side``: the same table team, or a name the batch scores reach
        ``MATCH`` for. A cheap superset; each one is then scored properly."""
        out: set[int] = set()
        if side.team is not None:
            out.update(bucket.by_team().get(side.team.odds_name, ()))
        if bucket.fuzzy is not None:
            for name in side.queries():
                for form in bucket.fuzzy.above(name, MATCH):
                    out.update(bucket.by_form.get(form, ()))
        return out

    @staticmethod
    def _side_score(bucket: _LeagueEvents, side: KalshiSide, team: Team | None, name: str) -> float:
        if side.team is not None and team is not None:
            return 100.0 if side.team is team else 0.0
        names = side.queries()
        if team is not None and any(fold(n) in team.folded_names for n in names):
            return 100.0
        if bucket.fuzzy is None:
            return 0.0
        return max((bucket.fuzzy.score(n, name) for n in names), default=0.0)

    def _scored_candidate(self, bucket: _LeagueEvents, i: int, query: GameQuery) -> _Candidate | None:
        event = bucket.events[i]
        hh = self._side_score(bucket, query.home, bucket.home[i], event.home_team)
        aa = self._side_score(bucket, query.away, bucket.away[i], event.away_team)
        ha = self._side_score(bucket, query.home, bucket.away[i], event.away_team)
        ah = self._side_score(bucket, query.away, bucket.home[i], event.home_team)
        straight, crossed = min(hh, aa), min(ha, ah)
        if straight >= MATCH and crossed >= MATCH:
            return None  # both teams fit both sides: cannot tell which team is which
        score = max(straight, crossed)
        if score < MATCH:
            return None
        reversed_ = crossed > straight
        if reversed_:
            outcomes = {query.home.code: event.away_team, query.away.code: event.home_team}
        else:
            outcomes = {query.home.code: event.home_team, query.away.code: event.away_team}
        detail = f"{query.away.label}->{outcomes[query.away.code]}, {query.home.label}->{outcomes[query.home.code]}"
        evidence = (Evidence("fuzzy_name", score / 100.0, detail),)
        return _Candidate(event, bucket.day(i), score, reversed_, outcomes, evidence)


def _kalshi_times(query: GameQuery) -> list[tuple[str, datetime]]:
    """Each start Kalshi states for the game, with how the reason names it."""
    out: list[tuple[str, datetime]] = []
    if query.start is not None:
        out.append((f"the ticker start {query.start:%H:%M} ET", datetime.combine(query.day, query.start, EASTERN)))
    if query.text_start is not None:
        out.append((f"the rules text start {_utc(query.text_start)}", query.text_start))
    if query.occurrence is not None:
        start = query.occurrence - OCCURRENCE_LAG
        out.append((f"occurrence_datetime {_utc(query.occurrence)} - 3 h = {_utc(start)}", start))
    return out


def _times_disagree(chosen: _Candidate, pool: Sequence[_Candidate], query: GameQuery, how: str) -> str | None:
    """Why ``chosen`` is not the game every Kalshi time points at (within ``START_WINDOW``), or None.

    Among games of one pair on one day a time must fit the chosen game and no other: a time that fits the
    other game, or none of them, means the listing is not the game the order or the ticker suggests.
    """
    for label, start in _kalshi_times(query):
        fits = [c for c in pool if abs(c.event.commence_time - start) <= START_WINDOW]
        if fits == [chosen]:
            continue
        starts = ", ".join(f"{c.event.id} at {_utc(c.event.commence_time)}" for c in pool)
        fit = "fits none of them" if not fits else "fits " + " and ".join(c.event.id for c in fits)
        return (
            f"{how} {chosen.event.id} (starts {_utc(chosen.event.commence_time)}), but {label} {fit} "
            f"within {START_WINDOW} (candidates: {starts})"
        )
    return None


def _utc(moment: datetime) -> str:
    """``2026-12-02T03:00Z``: times in reasons, in one zone so they compare at a glance."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _matchup(query: GameQuery) -> str:
    """``Away at Home``, for the reasons of a miss (built only when there is one)."""
    return f"{query.away.label} at {query.home.label}"


class _Candidate(NamedTuple):
    event: OddsEvent
    day: date
    """The event's Eastern start date."""
    score: float
    reversed_: bool
    outcomes: dict[str, str]
    evidence: tuple[Evidence, ...]
