"""Building a new detection board away from the event loop: parse the market list, map it, build and load
the ``Board``; then catch it up with what changed meanwhile, a bounded number of changes per loop turn.

Mapping 2,000 markets and loading a board over them takes a few hundred milliseconds of CPU. Done on the
loop, that stalled every book update, timer and order behind it (the demo's loop-lag p99 of ~200 ms), so
the engine runs :func:`build_board` in a worker thread over *copies* of the books and quotes, while the old
board goes on serving. Every change that arrives during the build is written to a :class:`Journal`; the
new board replays the journal on the loop (``catch_up``, a few dozen changes per turn) and is swapped in
only when nothing is left, in one turn, so no signal is ever computed from a half-updated board.

Nothing here reads a clock or touches the engine: the worker gets everything it needs in a
:class:`BoardPlan` and returns a :class:`BuiltBoard`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.config.profiles import Profile
from engine.detection.board import Board
from engine.detection.detector import DetectionContext
from engine.errors import PayloadError
from engine.mapping.cache import Mapper
from engine.mapping.resolver import winner_groups
from engine.mapping.types import MappingResult
from engine.markets.kalshi import KalshiMarket, Orderbook, SeriesInfo, parse_market, parse_series
from engine.markets.odds import OddsEvent, parse_odds_event

log = logging.getLogger(__name__)

ErrorSink = Callable[[str, BaseException], None]


@dataclass(slots=True)
class Universe:
    """What discovery and mapping decided: the markets priced, their series and the mapping."""

    markets: tuple[KalshiMarket, ...] = ()
    series: Mapping[str, SeriesInfo] = field(default_factory=dict)
    mapping: MappingResult = field(default_factory=lambda: MappingResult({}))


@dataclass(frozen=True, slots=True)
class RawUniverse:
    """The market list as served (``/series`` and ``/markets`` objects): parsed in the worker, not the loop."""

    series: Sequence[Any]
    markets: Sequence[Any]


@dataclass(frozen=True, slots=True)
class BoardPlan:
    """Everything one build needs, copied on the loop when the build starts.

    ``raw`` (a fresh market list) or ``markets``/``series`` (the current universe, re-mapped); ``mapping`` is
    given to re-use a mapping as is (a profile switch), otherwise ``mapper`` maps. ``lifecycle`` are the
    markets whose status a lifecycle message changed: they win over the list, which may predate them.
    """

    profile: Profile
    bankroll: Decimal
    max_position: int
    books: Mapping[str, Orderbook]
    events: Mapping[str, OddsEvent]
    lifecycle: Mapping[str, KalshiMarket]
    now: datetime
    raw: RawUniverse | None = None
    markets: tuple[KalshiMarket, ...] = ()
    series: Mapping[str, SeriesInfo] = field(default_factory=dict)
    mapping: MappingResult | None = None
    mapper: Mapper | None = None
    fresh_list_after: int | None = None
    """The lifecycle sequence number when the list in ``raw`` was requested (see ``Pipeline.lifecycle_mark``)."""


@dataclass(slots=True)
class BuiltBoard:
    """A board ready to be caught up and swapped in, with what the build found wrong."""

    plan: BoardPlan
    universe: Universe
    board: Board
    sink: _DeferredErrors
    problems: list[str]
    """Series or markets that could not be parsed (skipped), one line each."""


class _DeferredErrors:
    """The board's error sink: collected while it is built in the worker, forwarded once it is installed."""

    def __init__(self) -> None:
        self.collected: list[tuple[str, BaseException]] = []
        self.target: ErrorSink | None = None

    def __call__(self, what: str, exc: BaseException) -> None:
        if self.target is None:
            self.collected.append((what, exc))
        else:
            self.target(what, exc)


def parse_universe(raw: RawUniverse) -> tuple[tuple[KalshiMarket, ...], dict[str, SeriesInfo], list[str]]:
    """Markets and series as the engine uses them; a malformed object is skipped with one line why."""
    problems: list[str] = []
    series: dict[str, SeriesInfo] = {}
    for obj in raw.series:
        try:
            info = parse_series(obj)
        except PayloadError as exc:
            problems.append(f"discovery: skipped a bad series: {exc}")
            continue
        series[info.ticker] = info
    markets: list[KalshiMarket] = []
    for obj in raw.markets:
        try:
            markets.append(parse_market(obj))
        except PayloadError as exc:
            problems.append(f"discovery: skipped a bad market: {exc}")
    return tuple(markets), series, problems


def with_lifecycle(markets: Sequence[KalshiMarket], lifecycle: Mapping[str, KalshiMarket]) -> tuple[KalshiMarket, ...]:
    """The list with each market a lifecycle message changed replaced by its changed copy."""
    if not lifecycle:
        return tuple(markets)
    return tuple(lifecycle.get(m.ticker, m) for m in markets)


def build_board(plan: BoardPlan) -> BuiltBoard:
    """Parse, map, build and load: safe in a worker thread (it reads only the plan and the mapper, which only
    one build at a time uses)."""
    problems: list[str] = []
    if plan.raw is not None:
        markets, series, problems = parse_universe(plan.raw)
    else:
        markets, series = plan.markets, dict(plan.series)
    markets = with_lifecycle(markets, plan.lifecycle)
    if plan.mapping is not None:
        mapping = plan.mapping
    else:
        mapper = plan.mapper if plan.mapper is not None else Mapper()
        mapping = mapper.map(markets, list(plan.events.values()), plan.now)
    universe = Universe(markets, series, mapping)
    sink = _DeferredErrors()
    board = new_board(universe, plan.profile, plan.bankroll, plan.max_position, sink)
    board.load(plan.books.values(), plan.events.values(), plan.now)
    return BuiltBoard(plan, universe, board, sink, problems)


def new_board(universe: Universe, profile: Profile, bankroll: Decimal, max_position: int, on_error: ErrorSink) -> Board:
    ctx = DetectionContext(profile, bankroll, max_position, dict(universe.series))
    markets = universe.markets
    return Board(markets, universe.mapping, ctx, winner_groups(markets), on_error=on_error)


def forward_errors(built: BuiltBoard, sink: ErrorSink) -> None:
    """Report what the build collected and send the board's later errors to ``sink``."""
    for what, exc in built.sink.collected:
        sink(what, exc)
    built.sink.collected.clear()
    built.sink.target = sink


@dataclass(slots=True)
class Journal:
    """What changed while a board was being built: replayed onto it before it is swapped in."""

    books: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)
    markets: set[str] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.books) + len(self.events) + len(self.markets)

    def take(self, limit: int) -> tuple[list[str], list[str], list[str]]:
        """Up to ``limit`` entries (markets first: a closed market must never be priced as open)."""
        out: tuple[list[str], list[str], list[str]] = ([], [], [])
        for target, source in ((out[2], self.markets), (out[0], self.books), (out[1], self.events)):
            while source and len(out[0]) + len(out[1]) + len(out[2]) < limit:
                target.append(source.pop())
        return out


def parse_odds(raw_events: Sequence[Any]) -> tuple[list[OddsEvent], list[str]]:
    """An Odds API response's events, parsed (in a worker: a response holds hundreds), and what was skipped."""
    parsed: list[OddsEvent] = []
    problems: list[str] = []
    for raw in raw_events:
        try:
            parsed.append(parse_odds_event(raw, american=True))
        except PayloadError as exc:
            problems.append(str(exc))
    return parsed, problems
