"""One detection pass over a board: which Kalshi orders are worth placing right now, and why not the rest.

Pure: everything arrives as arguments, including ``now``. The live pipeline calls :func:`evaluate_market`
per changed market; a full pass is :func:`detect`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from engine.config.profiles import Profile
from engine.detection.arbitrage import TIES_SETTLE_HALF, arb_signal, kalshi_arb_signal
from engine.detection.edge import edge_signal
from engine.detection.quotes import book_views
from engine.detection.signals import Side, Signal, Skip
from engine.mapping.types import MappingResult, MarketMatch
from engine.markets.dedupe import unique_markets, unique_odds_events
from engine.markets.kalshi import KalshiMarket, Orderbook, SeriesInfo
from engine.markets.odds import OddsEvent
from engine.money import ONE, ZERO
from engine.pricing.fees import DEFAULT_FEES, FeeSchedule


@dataclass(frozen=True, slots=True)
class DetectionContext:
    """What stays fixed across one pass: the operator's profile, bankroll, limits and fee table."""

    profile: Profile
    bankroll: Decimal
    max_position: int
    series: Mapping[str, SeriesInfo] = field(default_factory=dict)

    def fees_for(self, market: KalshiMarket) -> FeeSchedule:
        info = self.series.get(market.series_ticker)
        return info.fees if info is not None else DEFAULT_FEES


def in_range(book: Orderbook) -> bool:
    """Every level strictly between $0 and $1. The parsers refuse other levels, but a book built elsewhere
    (tests, a feed applying deltas) could hold one, and a $0 ask would be sized as a free contract."""
    return all(ZERO < level.price < ONE for level in (*book.yes_bids, *book.no_bids))


@dataclass(frozen=True, slots=True)
class MarketResult:
    signals: tuple[Signal, ...] = ()
    skip: Skip | None = None


def evaluate_market(
    market: KalshiMarket,
    book: Orderbook | None,
    match: MarketMatch | None,
    event: OddsEvent | None,
    ctx: DetectionContext,
    now: datetime,
) -> MarketResult:
    """Edge and arb signals for one mapped market, or the reason it was not priced."""
    if not market.is_active:
        return MarketResult(skip=Skip(market.ticker, f"market status is {market.status!r}, not active"))
    if match is None:
        return MarketResult(skip=Skip(market.ticker, "not mapped to a sportsbook event"))
    if event is None:
        return MarketResult(skip=Skip(market.ticker, f"mapped odds event {match.odds_event_id} not in the data"))
    if event.commence_time <= now:
        return MarketResult(skip=Skip(market.ticker, "game has started (pre-game only)"))
    if book is None:
        return MarketResult(skip=Skip(market.ticker, "no orderbook"))
    if not in_range(book):
        return MarketResult(skip=Skip(market.ticker, "orderbook has a level outside 0..1 dollars"))
    fees = ctx.fees_for(market)
    if not fees.supported:
        return MarketResult(skip=Skip(market.ticker, f"fee_type {fees.fee_type.value} is not modelled"))
    profile = ctx.profile
    views, notes = book_views(event, match, profile.books, profile.max_quote_age_s, profile.vig_method, now)
    signals: list[Signal] = []
    for side in (Side.YES, Side.NO):
        edge = edge_signal(match, book, views, side, fees, profile, ctx.bankroll, ctx.max_position)
        if edge is not None:
            signals.append(edge)
        ties = event.sport_key in TIES_SETTLE_HALF
        arb = arb_signal(match, book, views, side, fees, ctx.max_position, ties_settle_half=ties)
        if arb is not None:
            signals.append(arb)
    if not signals and len(views) < profile.book_consensus:
        why = f"{len(views)} fresh books, {profile.book_consensus} needed"
        if notes:
            why += " (" + "; ".join(notes) + ")"
        return MarketResult(skip=Skip(market.ticker, why))
    return MarketResult(signals=tuple(signals))


def evaluate_group(
    group: Sequence[KalshiMarket], books: Mapping[str, Orderbook], ctx: DetectionContext
) -> tuple[Signal, ...]:
    """Kalshi-only arbitrage over one exhaustive event (all YES or all NO)."""
    if any(not m.is_active for m in group):
        return ()
    if any(not in_range(books[m.ticker]) for m in group if m.ticker in books):
        return ()
    fees = ctx.fees_for(group[0])
    if not fees.supported:
        return ()
    out = []
    for side in (Side.YES, Side.NO):
        signal = kalshi_arb_signal(group, books, side, fees, ctx.max_position)
        if signal is not None:
            out.append(signal)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class DetectionResult:
    signals: tuple[Signal, ...]
    skipped: tuple[Skip, ...]


def rank(signals: Iterable[Signal]) -> tuple[Signal, ...]:
    """Best expected value first; ties broken by ticker so output is stable."""
    return tuple(sorted(signals, key=lambda s: (-s.ev, s.ticker, s.kind.value, s.side.value)))


def detect(
    markets: Sequence[KalshiMarket],
    orderbooks: Mapping[str, Orderbook],
    events: Iterable[OddsEvent],
    mapping: MappingResult,
    ctx: DetectionContext,
    now: datetime,
    groups: Sequence[Sequence[KalshiMarket]] = (),
) -> DetectionResult:
    """A full pass. ``groups`` are the provably exhaustive winner events (see ``mapping.winner_groups``).

    Each market and event counts once (:mod:`engine.markets.dedupe`): a market listed twice would otherwise
    be sized twice to the full limit; one whose copies differ is skipped with the reason."""
    unique = unique_markets(markets)
    by_id = {e.id: e for e in unique_odds_events(events).items}
    signals: list[Signal] = []
    skipped: list[Skip] = [Skip(e.ident, e.problem) for e in unique.refused]
    for market in unique.items:
        match = mapping.matches.get(market.ticker)
        event = by_id.get(match.odds_event_id) if match is not None else None
        result = evaluate_market(market, orderbooks.get(market.ticker), match, event, ctx, now)
        signals.extend(result.signals)
        if result.skip is not None:
            skipped.append(result.skip)
    for group in groups:
        signals.extend(evaluate_group(group, orderbooks, ctx))
    return DetectionResult(rank(signals), tuple(skipped))
