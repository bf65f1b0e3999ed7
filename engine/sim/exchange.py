"""The simulated Kalshi exchange: markets, books, orders, fills, positions, balance and settlements.

Only the simulated user ("user") trades through the API; the scenario's market maker ("house") supplies
the books. Every mutation takes ``now`` and publishes :mod:`engine.sim.records` events that the WebSocket
layer turns into channel messages. Money is ``Decimal`` throughout and fees come from
:mod:`engine.pricing.fees`, charged per fill with the per-order rounding accumulator as Kalshi does.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from engine.markets.kalshi import Orderbook
from engine.money import ONE, ZERO
from engine.pricing.fees import FeeSchedule, charge_fill
from engine.sim.board import EXCHANGE_INDEX, Board, Game
from engine.sim.book import NO, YES, MarketBook, Resting
from engine.sim.records import (
    ASK,
    BID,
    CANCELED,
    EXECUTED,
    FOK,
    IOC,
    RESTING,
    BookChange,
    ExchangeEvent,
    Fill,
    FillEvent,
    Order,
    OrderChange,
    OrderGroupChange,
    Position,
    PositionChange,
    Settlement,
    TickerChange,
    Trade,
)

log = logging.getLogger(__name__)

USER = "user"
HOUSE = "house"


class OrderRejected(Exception):
    """An order the exchange refuses outright; ``code`` and the message go back in the error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(slots=True)
class MarketState:
    ticker: str
    game: Game
    fees: FeeSchedule
    book: MarketBook
    created: datetime
    status: str = "active"
    result: str = ""
    last_price: Decimal = ZERO
    volume: Decimal = ZERO
    open_interest: Decimal = ZERO
    settled: datetime | None = None
    settlement_value: Decimal | None = None


@dataclass(slots=True)
class OrderGroup:
    group_id: str
    contracts_limit: Decimal
    filled: Decimal = ZERO
    triggered: bool = False
    order_ids: list[str] = field(default_factory=list)
    exchange_index: int = 0
    """The shard the group lives on; it can only hold orders of markets on that shard."""


class Exchange:
    """In-memory Kalshi state with read helpers for test assertions."""

    def __init__(self, board: Board, now: datetime, balance: Decimal) -> None:
        fees = {s.ticker: s.fees for s in board.series}
        self.board = board
        self.markets: dict[str, MarketState] = {}
        for game in board.games:
            for ticker in game.tickers:
                self.markets[ticker] = MarketState(ticker, game, fees[game.series_ticker], MarketBook(ticker), now)
        self.balance = balance
        self.balance_updated = now
        self.orders: dict[str, Order] = {}
        self.fills: list[Fill] = []
        self.trades: list[Trade] = []
        self.positions: dict[str, Position] = {}
        self.settlements: list[Settlement] = []
        self.order_groups: dict[str, OrderGroup] = {}
        self.trading_active = True
        self.paused_shards: set[int] = set()
        """Exchange shards whose trading is paused while the others trade."""
        self._listeners: list[Callable[[ExchangeEvent], None]] = []
        self._ids = itertools.count(1)

    # -- reads -------------------------------------------------------------------------------------------
    def market(self, ticker: str) -> MarketState | None:
        return self.markets.get(ticker)

    def orderbook(self, ticker: str) -> Orderbook:
        return self.markets[ticker].book.snapshot()

    def orders_with_client_id(self, client_order_id: str) -> list[Order]:
        return [o for o in self.orders.values() if o.client_order_id == client_order_id]

    def user_orders(self) -> list[Order]:
        return list(self.orders.values())

    def position(self, ticker: str) -> Position | None:
        return self.positions.get(ticker)

    def best_yes_bid(self, ticker: str) -> Decimal | None:
        return self.markets[ticker].book.best_price(YES)

    def best_yes_ask(self, ticker: str) -> Decimal | None:
        best_no = self.markets[ticker].book.best_price(NO)
        return None if best_no is None else ONE - best_no

    # -- events ------------------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[ExchangeEvent], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _publish(self, event: ExchangeEvent) -> None:
        """Listeners run after the state change; one failing listener never undoes it or starves the rest."""
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("exchange listener failed on %s", type(event).__name__)

    def shard_of(self, ticker: str) -> int:
        """The exchange shard (``exchange_index``) that trades ``ticker``."""
        return EXCHANGE_INDEX.get(self.markets[ticker].game.league, 0)

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):010d}"

    # -- house quotes --------------------------------------------------------------------------------------
    def quote_house(
        self,
        ticker: str,
        yes_levels: list[tuple[Decimal, Decimal]],
        no_levels: list[tuple[Decimal, Decimal]],
        now: datetime,
    ) -> None:
        """Replace the market maker's quotes with ``(price, count)`` bids per ladder.

        A house bid that crosses a resting user order trades with it first (the user is the maker), so GTC
        orders get filled as prices move. Level changes are published as book deltas.
        """
        state = self.markets[ticker]
        book = state.book
        before = {YES: book.levels(YES), NO: book.levels(NO)}
        for order in book.orders_of(HOUSE):
            book.remove(order.order_id)
        for side, levels in ((YES, yes_levels), (NO, no_levels)):
            for price, count in levels:
                left = self._house_take(state, side, price, count, now)
                if left > ZERO:
                    book.add(Resting(self._next_id("house"), HOUSE, side, price, left))
        self._publish_diff(ticker, before, "")
        self._publish(TickerChange(ticker))

    def _house_take(self, state: MarketState, side: str, price: Decimal, count: Decimal, now: datetime) -> Decimal:
        opposite = NO if side == YES else YES
        book = state.book
        for level in book.best_first(opposite):
            if count <= ZERO or level + price < ONE:
                break
            for resting in list(book.ladder(opposite).get(level, ())):
                if count <= ZERO:
                    break
                if resting.owner != USER:
                    continue
                order = self.orders[resting.order_id]
                qty = min(count, resting.remaining)
                opening = qty - min(qty, self._closing(order.ticker, order.book_side))
                if self._worst_cost(state.fees, order.own_price, opening) > self.balance:
                    # no collateral left for it: the exchange cancels the order rather than overdraw
                    self.cancel_order(order.order_id, now, publish_book=False)
                    continue
                book.fill(resting, qty)
                count -= qty
                self._execute(order, qty, order.price, maker=True, now=now)
        return count

    @staticmethod
    def _worst_cost(fees: FeeSchedule, unit: Decimal, count: Decimal) -> Decimal:
        """Upper bound of what buying ``count`` at ``unit`` or better can cost: the fee peaks at $0.50 and
        each fill may add a cent of rounding."""
        if count <= ZERO:
            return ZERO
        return unit * count + fees.trade_fee(Decimal("0.5"), count) + Decimal("0.05")

    def available_balance(self) -> Decimal:
        """Cash not held as collateral for resting orders."""
        held = ZERO
        for order in self.orders.values():
            if order.status == RESTING:
                held += self._worst_cost(self.markets[order.ticker].fees, order.own_price, order.remaining)
        return self.balance - held

    def _publish_diff(self, ticker: str, before: dict[str, dict[Decimal, Decimal]], client_order_id: str) -> None:
        book = self.markets[ticker].book
        for side in (YES, NO):
            after = book.levels(side)
            for price in sorted(set(before[side]) | set(after)):
                delta = after.get(price, ZERO) - before[side].get(price, ZERO)
                if delta != ZERO:
                    self._publish(BookChange(ticker, side, price, delta, client_order_id))

    # -- orders ------------------------------------------------------------------------------------------
    def place_order(
        self,
        *,
        ticker: str,
        book_side: str,
        price: Decimal,
        count: Decimal,
        time_in_force: str,
        post_only: bool,
        self_trade_prevention: str,
        client_order_id: str,
        order_group_id: str,
        expiration_ts: int | None,
        now: datetime,
    ) -> Order:
        """Validate, match and (for GTC) rest one order. Raises :class:`OrderRejected` before any change."""
        self.expire_orders(now)
        if expiration_ts is not None and expiration_ts <= now.timestamp():
            raise OrderRejected(400, "invalid_parameters", "expiration_time must be in the future")
        state = self.markets.get(ticker)
        if state is None:
            raise OrderRejected(404, "market_not_found", f"market {ticker} not found")
        paused = EXCHANGE_INDEX.get(state.game.league, 0) in self.paused_shards
        if not self.trading_active or paused or state.status != "active":
            raise OrderRejected(409, "market_closed", f"market {ticker} is not open for trading")
        if client_order_id and any(o.client_order_id == client_order_id for o in self.orders.values()):
            raise OrderRejected(409, "order_already_exists", f"client_order_id {client_order_id} is already in use")
        group = None
        if order_group_id:
            group = self.order_groups.get(order_group_id)
            if group is None or group.exchange_index != EXCHANGE_INDEX.get(state.game.league, 0):
                raise OrderRejected(404, "order_group_not_found", f"order group {order_group_id} not found")
            if group.triggered:
                raise OrderRejected(409, "order_group_triggered", "order group limit reached; reset it first")
        unit = price if book_side == BID else ONE - price
        worst_cost = self._worst_cost(state.fees, unit, count)
        if self._closing(ticker, book_side) < count and worst_cost > self.available_balance():
            raise OrderRejected(400, "insufficient_balance", "insufficient balance for this order")
        book = state.book
        crossing = self._crossing_quantity(book, book_side, price)
        if post_only and crossing > ZERO:
            raise OrderRejected(400, "post_only_cross", "post-only order would cross the book")
        order = Order(
            order_id=str(uuid.uuid4()),
            client_order_id=client_order_id,
            ticker=ticker,
            book_side=book_side,
            price=price,
            initial=count,
            time_in_force=time_in_force,
            post_only=post_only,
            self_trade_prevention=self_trade_prevention,
            created=now,
            updated=now,
            order_group_id=order_group_id,
            expiration_ts=expiration_ts,
            remaining=count,
        )
        self.orders[order.order_id] = order
        if group is not None:
            group.order_ids.append(order.order_id)
        before = {YES: book.levels(YES), NO: book.levels(NO)}
        if time_in_force == FOK and crossing < count:
            order.remaining = ZERO
            order.status = CANCELED
        else:
            self._match(state, order, now)
            if order.remaining <= ZERO:
                order.status = EXECUTED
            elif order.status == CANCELED or time_in_force in (IOC, FOK):
                # self-trade prevention stopped it, or nothing is left to rest: the remainder is cancelled
                order.remaining = ZERO
                order.status = CANCELED
            else:
                side = YES if book_side == BID else NO
                book.add(Resting(order.order_id, USER, side, order.own_price, order.remaining))
        self._publish_diff(ticker, before, client_order_id)
        self._publish(OrderChange(order.order_id))
        if order.filled > ZERO:
            self._publish(TickerChange(ticker))
        return order

    def _closing(self, ticker: str, book_side: str) -> Decimal:
        pos = self.positions.get(ticker)
        if pos is None:
            return ZERO
        if book_side == ASK and pos.position > ZERO:
            return pos.position
        if book_side == BID and pos.position < ZERO:
            return -pos.position
        return ZERO

    @staticmethod
    def _crossing_quantity(book: MarketBook, book_side: str, price: Decimal) -> Decimal:
        """Contracts from others resting at prices this order would take (self orders are not counted)."""
        total = ZERO
        if book_side == BID:
            for level, queue in book.no.items():
                if ONE - level <= price:
                    total += sum((o.remaining for o in queue if o.owner != USER), ZERO)
        else:
            for level, queue in book.yes.items():
                if level >= price:
                    total += sum((o.remaining for o in queue if o.owner != USER), ZERO)
        return total

    def _match(self, state: MarketState, order: Order, now: datetime) -> None:
        book = state.book
        opposite = NO if order.book_side == BID else YES
        for level in book.best_first(opposite):
            yes_price = ONE - level if order.book_side == BID else level
            if (order.book_side == BID and yes_price > order.price) or (
                order.book_side == ASK and yes_price < order.price
            ):
                break
            for resting in list(book.ladder(opposite).get(level, ())):
                if order.remaining <= ZERO:
                    return
                if resting.owner == USER:
                    if order.self_trade_prevention == "maker":
                        self.cancel_order(resting.order_id, now, publish_book=False)
                        continue
                    order.status = CANCELED
                    return
                qty = min(order.remaining, resting.remaining)
                book.fill(resting, qty)
                self._execute(order, qty, yes_price, maker=False, now=now)
            if order.remaining <= ZERO:
                return

    def _execute(self, order: Order, qty: Decimal, yes_price: Decimal, *, maker: bool, now: datetime) -> None:
        """Book one fill of the user's ``order``: balance, fees, position, records and events."""
        state = self.markets[order.ticker]
        own_price = yes_price if order.book_side == BID else ONE - yes_price
        cost = own_price * qty
        trade_fee = state.fees.trade_fee(yes_price, qty, maker=maker)
        charge, order.fee_accumulator = charge_fill(-cost, trade_fee, order.fee_accumulator)
        net_fee = charge.net_fee
        payout, realized = self._apply_position(order, qty, own_price, now)
        self.balance += charge.balance_change + charge.rebate + payout
        self.balance_updated = now
        order.remaining -= qty
        order.filled += qty
        order.updated = now
        if maker:
            order.maker_fees += net_fee
            order.maker_cost += cost
        else:
            order.taker_fees += net_fee
            order.taker_cost += cost
        if order.remaining <= ZERO:
            order.status = EXECUTED
        pos = self.positions[order.ticker]
        pos.fees_paid += net_fee
        pos.realized_pnl += realized
        state.last_price = yes_price
        state.volume += qty
        state.open_interest = max(ZERO, state.open_interest + qty - payout)
        fill = Fill(
            fill_id=str(uuid.uuid4()),
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            ticker=order.ticker,
            book_side=order.book_side,
            count=qty,
            yes_price=yes_price,
            is_taker=not maker,
            fee=net_fee,
            created=now,
            post_position=pos.position,
        )
        self.fills.append(fill)
        taker_side = order.outcome_side if not maker else ("no" if order.outcome_side == "yes" else "yes")
        trade = Trade(fill.fill_id, order.ticker, yes_price, qty, taker_side, now)
        self.trades.append(trade)
        self._consume_group(order, qty)
        self._publish(FillEvent(fill))
        self._publish(trade)
        self._publish(PositionChange(order.ticker))
        if maker:
            self._publish(OrderChange(order.order_id))

    def _apply_position(self, order: Order, qty: Decimal, own_price: Decimal, now: datetime) -> tuple[Decimal, Decimal]:
        """Net the fill against an opposite holding; returns (dollars paid out for netted pairs, realized P&L)."""
        pos = self.positions.get(order.ticker)
        if pos is None:
            pos = Position(order.ticker, self.markets[order.ticker].game.event_ticker)
            self.positions[order.ticker] = pos
        sign = ONE if order.book_side == BID else -ONE
        held = pos.position
        closing = min(qty, abs(held)) if held * sign < ZERO else ZERO
        payout = realized = ZERO
        if closing > ZERO:
            avg = pos.exposure / abs(held)
            payout = closing
            realized = closing * (ONE - avg - own_price)
            pos.exposure -= avg * closing
        opening = qty - closing
        pos.exposure += own_price * opening
        pos.position = held + sign * qty
        pos.total_traded += own_price * qty
        pos.updated = now
        return payout, realized

    def _consume_group(self, order: Order, qty: Decimal) -> None:
        group = self.order_groups.get(order.order_group_id) if order.order_group_id else None
        if group is None:
            return
        group.filled += qty
        if group.filled >= group.contracts_limit and not group.triggered:
            group.triggered = True
            for oid in group.order_ids:
                if oid != order.order_id:
                    self.cancel_order(oid, order.updated)
            self._publish(OrderGroupChange(group.group_id, "triggered"))

    def expire_orders(self, now: datetime) -> None:
        """Cancel resting orders whose ``expiration_time`` has passed (good-till-time orders)."""
        stamp = now.timestamp()
        for order in list(self.orders.values()):
            if order.status == RESTING and order.expiration_ts is not None and order.expiration_ts <= stamp:
                self.cancel_order(order.order_id, now)

    def cancel_order(self, order_id: str, now: datetime, *, publish_book: bool = True) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise OrderRejected(404, "order_not_found", f"order {order_id} not found")
        if order.status != RESTING:
            return order
        book = self.markets[order.ticker].book
        before = {YES: book.levels(YES), NO: book.levels(NO)}
        book.remove(order_id)
        order.remaining = ZERO
        order.status = CANCELED
        order.updated = now
        if publish_book:
            self._publish_diff(order.ticker, before, order.client_order_id)
        self._publish(OrderChange(order_id))
        return order

    # -- order groups ------------------------------------------------------------------------------------
    def create_order_group(self, contracts_limit: Decimal, exchange_index: int = 0) -> OrderGroup:
        group = OrderGroup(str(uuid.uuid4()), contracts_limit, exchange_index=exchange_index)
        self.order_groups[group.group_id] = group
        self._publish(OrderGroupChange(group.group_id, "created", contracts_limit))
        return group

    def trigger_order_group(self, group_id: str, now: datetime, *, publish: bool = True) -> OrderGroup:
        group = self._group(group_id)
        group.triggered = True
        for oid in group.order_ids:
            self.cancel_order(oid, now)
        if publish:
            self._publish(OrderGroupChange(group_id, "triggered"))
        return group

    def reset_order_group(self, group_id: str) -> OrderGroup:
        group = self._group(group_id)
        group.triggered = False
        group.filled = ZERO
        self._publish(OrderGroupChange(group_id, "reset"))
        return group

    def delete_order_group(self, group_id: str, now: datetime) -> None:
        self.trigger_order_group(group_id, now, publish=False)
        del self.order_groups[group_id]
        self._publish(OrderGroupChange(group_id, "deleted"))

    def _group(self, group_id: str) -> OrderGroup:
        group = self.order_groups.get(group_id)
        if group is None:
            raise OrderRejected(404, "order_group_not_found", f"order group {group_id} not found")
        return group

    # -- settlement --------------------------------------------------------------------------------------
    def settle(self, ticker: str, result: str, now: datetime) -> Settlement | None:
        """Determine ``ticker`` as ``yes`` or ``no``: cancel resting orders, pay positions, close the market."""
        state = self.markets[ticker]
        for order in [o for o in self.orders.values() if o.ticker == ticker and o.status == RESTING]:
            self.cancel_order(order.order_id, now)
        for resting in state.book.orders_of(HOUSE):
            state.book.remove(resting.order_id)
        state.status = "finalized"
        state.result = result
        state.settled = now
        state.settlement_value = ONE if result == "yes" else ZERO
        self._publish(TickerChange(ticker))
        pos = self.positions.get(ticker)
        if pos is None or pos.position == ZERO:
            return None
        yes_count = max(pos.position, ZERO)
        no_count = max(-pos.position, ZERO)
        revenue = yes_count if result == "yes" else no_count
        settlement = Settlement(
            ticker=ticker,
            event_ticker=pos.event_ticker,
            result=result,
            yes_count=yes_count,
            yes_cost=pos.exposure if yes_count else ZERO,
            no_count=no_count,
            no_cost=pos.exposure if no_count else ZERO,
            revenue=revenue,
            fees=pos.fees_paid,
            settled=now,
        )
        self.settlements.append(settlement)
        self.balance += revenue
        self.balance_updated = now
        pos.realized_pnl += revenue - pos.exposure
        pos.exposure = ZERO
        pos.position = ZERO
        pos.updated = now
        self._publish(PositionChange(ticker))
        return settlement

    def portfolio_value(self) -> Decimal:
        """Held contracts marked at the best bid of their side."""
        value = ZERO
        for ticker, pos in self.positions.items():
            if pos.position == ZERO:
                continue
            side = YES if pos.position > ZERO else NO
            bid = self.markets[ticker].book.best_price(side) or ZERO
            value += abs(pos.position) * bid
        return value
