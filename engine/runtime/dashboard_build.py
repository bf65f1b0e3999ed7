"""Pure builders of the dashboard's panes from the engine's state: data and ``now`` in, rows out.

Every number the dashboard shows is computed here, in the engine, never in a widget: the signals table's
ages, each book's vig-free probability and quote age, the ladder levels a signal would take, the breaker's
usage per limit, positions marked at the bid we could sell at. No I/O and no clock reads, so a pinned
clock gives the same picture every time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from engine.config.profiles import Profile
from engine.detection.quotes import line_outcomes
from engine.detection.signals import Side, Signal, SignalKind
from engine.errors import PricingError
from engine.execution.model import FillRecord, OrderRecord
from engine.mapping.teams import league_of_series
from engine.mapping.types import MarketMatch
from engine.markets.kalshi import KalshiMarket, Level, Orderbook
from engine.markets.odds import OddsEvent, Outcome
from engine.money import ZERO
from engine.portfolio.ledger import Ledger
from engine.pricing.odds import decimal_to_american
from engine.pricing.vig import remove_vig
from engine.risk.limits import RiskLimits
from engine.risk.state import RATE_WINDOW, BreakerState
from engine.runtime.dashboard import (
    ActivityLine,
    BookQuote,
    FeedLine,
    FillRow,
    HedgeLine,
    LadderLevel,
    LimitLine,
    OrderRow,
    PositionRow,
    SignalDetail,
    SignalRow,
)
from engine.runtime.snapshot import FeedHealth

SignalKey = tuple[str, str, str]
History = Mapping[SignalKey, tuple[tuple[datetime, float], ...]]

GONE_HOLD = timedelta(seconds=5)
"""How long a vanished signal stays on screen (greyed) so it never disappears under the cursor."""
HISTORY_WINDOW = timedelta(minutes=5)
HISTORY_STEP = timedelta(seconds=1)


def key_text(key: SignalKey) -> str:
    """The signal's key as the dashboard's row key: ``kind|ticker|side``."""
    return "|".join(key)


def signal_value(signal: Signal) -> Decimal:
    """The number a signal is judged by: the edge of an ``edge``, the locked margin of an arbitrage."""
    if signal.kind is not SignalKind.EDGE and signal.margin is not None:
        return signal.margin
    return signal.edge


# -- names -------------------------------------------------------------------------------------------------


def market_names(market: KalshiMarket | None, event: OddsEvent | None, ticker: str) -> tuple[str, str, str]:
    """(league, game, market) as an operator reads them; the tickers when nothing better is known."""
    if market is None:
        return "", ticker.rsplit("-", 1)[0], ticker
    found = league_of_series(market.series_ticker)
    league = found[0].key if found is not None else market.series_ticker
    game = f"{event.away_team} @ {event.home_team}" if event is not None else market.event_ticker
    label = market.yes_sub_title or market.title or market.ticker
    return league, game, label


# -- signals -----------------------------------------------------------------------------------------------


def signal_row(
    signal: Signal, first_seen: datetime, names: tuple[str, str, str], now: datetime, *, gone: bool = False
) -> SignalRow:
    league, game, market = names
    return SignalRow(
        key=key_text(signal.key),
        kind=signal.kind.value,
        league=league,
        game=game,
        ticker=signal.ticker,
        market=market,
        side=signal.side.value,
        fair=signal.fair,
        ask=signal.ask,
        edge=signal_value(signal),
        books_agree=signal.books_agree,
        count=signal.count,
        ev=signal.ev,
        age_s=max(0.0, (now - first_seen).total_seconds()),
        gone=gone,
    )


def signal_rows(
    live: Mapping[SignalKey, Signal],
    first_seen: Mapping[SignalKey, datetime],
    gone: Mapping[SignalKey, tuple[Signal, datetime]],
    names: Callable[[Signal], tuple[str, str, str]],
    now: datetime,
) -> tuple[SignalRow, ...]:
    """Live signals, then the recently gone ones (greyed) that are not live again."""
    rows = [signal_row(s, first_seen.get(k, now), names(s), now) for k, s in live.items()]
    for k, (s, at) in gone.items():
        if k not in live:
            rows.append(signal_row(s, first_seen.get(k, at), names(s), now, gone=True))
    return tuple(rows)


def next_gone(
    gone: Mapping[SignalKey, tuple[Signal, datetime]],
    vanished: Iterable[Signal],
    live: Mapping[SignalKey, Signal],
    now: datetime,
    hold: timedelta = GONE_HOLD,
) -> dict[SignalKey, tuple[Signal, datetime]]:
    """The gone signals still shown: newly vanished ones added, expired or live-again ones dropped."""
    out = {k: v for k, v in gone.items() if k not in live and now - v[1] < hold}
    for s in vanished:
        if s.key not in live:
            out[s.key] = (s, now)
    return out


def next_history(
    history: History,
    live: Mapping[SignalKey, Signal],
    now: datetime,
    window: timedelta = HISTORY_WINDOW,
    step: timedelta = HISTORY_STEP,
) -> dict[SignalKey, tuple[tuple[datetime, float], ...]]:
    """Each live signal's edge sampled at most once per ``step`` over the last ``window``; gone ones dropped."""
    out: dict[SignalKey, tuple[tuple[datetime, float], ...]] = {}
    for key, signal in live.items():
        points = tuple(p for p in history.get(key, ()) if now - p[0] <= window)
        if not points or now - points[-1][0] >= step:
            points = (*points, (now, float(signal_value(signal))))
        out[key] = points
    return out


# -- the consensus pane ------------------------------------------------------------------------------------


def _side_outcome(outcomes: Sequence[Outcome], yes_index: int, side: Side) -> Outcome | None:
    if side is Side.YES:
        return outcomes[yes_index]
    others = [o for i, o in enumerate(outcomes) if i != yes_index]
    return others[0] if len(others) == 1 else None


def book_quotes(
    event: OddsEvent, match: MarketMatch, side: Side, profile: Profile, agreeing: Iterable[str], now: datetime
) -> tuple[BookQuote, ...]:
    """Each profile book's quote for ``side`` of the mapped line: odds, vig-free probability, age, stale."""
    agree = set(agreeing)
    out = []
    for key in profile.books:
        bookmaker = event.bookmaker(key)
        market = None if bookmaker is None else bookmaker.market(match.market_key.value)
        if market is None:
            continue
        age = max(0.0, (now - market.last_update).total_seconds())
        selected = line_outcomes(market, match)
        if selected is None:
            out.append(BookQuote(key, "no quote at this line", None, None, age, False, False))
            continue
        outcomes, yes_index = selected
        try:
            fair_yes: float | None = remove_vig([o.implied for o in outcomes], profile.vig_method)[yes_index]
        except PricingError:
            fair_yes = None
        probability = None if fair_yes is None else (fair_yes if side is Side.YES else 1.0 - fair_yes)
        chosen = _side_outcome(outcomes, yes_index, side)
        american: Decimal | None = None
        name = "/".join(o.name for i, o in enumerate(outcomes) if (i == yes_index) == (side is Side.YES))
        if chosen is not None:
            american = chosen.american if chosen.american is not None else decimal_to_american(chosen.decimal_odds)
            name = chosen.name if chosen.point is None else f"{chosen.name} {chosen.point:+}"
        stale = age > profile.max_quote_age_s
        out.append(BookQuote(key, name, american, probability, age, stale, key in agree and not stale))
    return tuple(out)


def ladder(book: Orderbook | None, side: Side, limit_price: Decimal, count: int) -> tuple[tuple[LadderLevel, ...], ...]:
    """(YES asks, NO asks), best first; on ``side``, the levels an order of ``count`` up to ``limit_price``
    would take are marked."""
    if book is None:
        return (), ()
    out = []
    for s in (Side.YES, Side.NO):
        left = Decimal(count) if s is side else ZERO
        levels = []
        for lvl in book.asks(s.value):
            taken = left > 0 and lvl.price <= limit_price
            if taken:
                left -= min(left, lvl.count)
            levels.append(LadderLevel(lvl.price, lvl.count, taken))
        out.append(tuple(levels))
    return tuple(out)


def hedge_lines(signal: Signal) -> tuple[HedgeLine, ...]:
    """An ``arb``'s sportsbook legs for the signal's whole size (stakes per contract times contracts)."""
    out = []
    for h in signal.hedges:
        american = decimal_to_american(h.decimal_odds) if h.decimal_odds > 1 else ZERO
        out.append(HedgeLine(h.book, h.outcome, h.point, american, h.decimal_odds, h.stake * signal.count))
    return tuple(out)


def signal_detail(
    signal: Signal,
    *,
    event: OddsEvent | None,
    match: MarketMatch | None,
    book: Orderbook | None,
    profile: Profile,
    history: Sequence[tuple[datetime, float]],
    audit: Sequence[str],
    now: datetime,
) -> SignalDetail:
    quotes = () if event is None or match is None else book_quotes(
        event, match, signal.side, profile, signal.books, now
    )  # fmt: skip
    yes_asks, no_asks = ladder(book, signal.side, signal.limit_price, signal.count)
    return SignalDetail(
        key=key_text(signal.key),
        ticker=signal.ticker,
        side=signal.side.value,
        consensus=signal.fair,
        books_agree=signal.books_agree,
        quotes=quotes,
        yes_asks=yes_asks,
        no_asks=no_asks,
        count=signal.count,
        limit_price=signal.limit_price,
        cost=signal.cost,
        fees=signal.fees,
        edge_history=tuple(v for _, v in history),
        hedges=hedge_lines(signal),
        audit=tuple(audit),
    )


def audit_trail(lines: Iterable[ActivityLine], tickers: Iterable[str]) -> tuple[str, ...]:
    """The activity lines that name one of ``tickers`` (its signal, orders, fills, refusals), oldest first."""
    wanted = tuple(tickers)
    return tuple(f"{a.ts:%H:%M:%S} {a.kind} {a.message}" for a in lines if any(t in a.message for t in wanted))


# -- breaker, feeds, portfolio -----------------------------------------------------------------------------


def limit_lines(state: BreakerState, limits: RiskLimits, ledger: Ledger, now: datetime) -> tuple[LimitLine, ...]:
    """Every breaker limit with its usage now (today's counters; exposure per event and league is the most
    used one)."""
    events: dict[str, Decimal] = {}
    leagues: dict[str, Decimal] = {}
    total = ZERO
    for p in ledger.positions.values():
        if p.count == 0 or p.settled:
            continue
        total += p.cost
        events[p.event_ticker] = events.get(p.event_ticker, ZERO) + p.cost
        leagues[p.league] = leagues.get(p.league, ZERO) + p.cost
    day = state.day
    recent = sum(1 for t in state.recent_orders if now - t < RATE_WINDOW)
    return (
        LimitLine("loss", limits.max_daily_loss, day.loss),
        LimitLine("trades", Decimal(limits.max_daily_trades), Decimal(day.trades)),
        LimitLine("contracts", Decimal(limits.max_daily_contracts), Decimal(day.contracts)),
        LimitLine("fees", limits.max_daily_fees, day.fees),
        LimitLine("losses in row", Decimal(limits.max_consecutive_losses), Decimal(state.consecutive_losses)),
        LimitLine("event exp.", limits.bankroll * limits.max_event_exposure, max(events.values(), default=ZERO)),
        LimitLine("league exp.", limits.bankroll * limits.max_league_exposure, max(leagues.values(), default=ZERO)),
        LimitLine("total exp.", limits.bankroll * limits.max_total_exposure, total),
        LimitLine("orders/min", Decimal(limits.max_orders_per_minute), Decimal(recent)),
    )


def feed_lines(feeds: Iterable[FeedHealth], started_at: datetime, now: datetime) -> tuple[FeedLine, ...]:
    """Feeds as the header shows them; the Odds API's credits left and burn per hour since the start."""
    hours = max((now - started_at).total_seconds(), 60.0) / 3600.0
    out = []
    for f in feeds:
        left = f.extra.get("credits_left")
        spent = f.extra.get("credits_spent_today")
        burn = float(spent) / hours if isinstance(spent, int | float) and not isinstance(spent, bool) else None
        credits = left if isinstance(left, int) and not isinstance(left, bool) else None
        out.append(FeedLine(f.name, f.state.value, f.age_s, f.detail, credits, burn))
    return tuple(out)


def position_rows(
    ledger: Ledger, marks: Callable[[str, Side], Decimal | None], legged_events: Iterable[str]
) -> tuple[PositionRow, ...]:
    """Open positions marked at the bid we could sell at now (no bid: no mark, no unrealised)."""
    legged = set(legged_events)
    out = []
    for p in sorted(ledger.positions.values(), key=lambda p: (p.event_ticker, p.ticker)):
        if p.count == 0 or p.settled or p.side is None:
            continue
        mark = marks(p.ticker, p.side)
        unrealised = None if mark is None else mark * p.count - p.cost
        out.append(PositionRow(p.ticker, p.event_ticker, p.league, p.side.value, p.count, p.avg_price, mark,
                               unrealised, p.fees, p.realised, p.event_ticker in legged))  # fmt: skip
    return tuple(out)


def order_rows(records: Sequence[OrderRecord], keep: int) -> tuple[OrderRow, ...]:
    """The last ``keep`` orders, newest first."""
    out = []
    for r in list(records)[-keep:][::-1]:
        i = r.intent
        out.append(OrderRow(i.client_order_id, i.created_at, i.ticker, i.side.value, i.count, i.limit_price,
                            r.state.value, r.filled_count, r.reason))  # fmt: skip
    return tuple(out)


def fill_rows(fills: Sequence[FillRecord], keep: int) -> tuple[FillRow, ...]:
    """The last ``keep`` fills, newest first."""
    return tuple(
        FillRow(f.fill_id, f.ts, f.ticker, f.side.value, f.count, f.price, f.fee) for f in list(fills)[-keep:][::-1]
    )


def best_bid(book: Orderbook | None, side: Side) -> Decimal | None:
    if book is None:
        return None
    bids: tuple[Level, ...] = book.yes_bids if side is Side.YES else book.no_bids
    return bids[0].price if bids else None
