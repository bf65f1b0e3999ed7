"""JSON shapes of the Kalshi 2026 API, rendered from the simulator's state.

Prices are ``*_dollars`` strings with four decimals, counts ``*_fp`` strings with two, times ISO-8601 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.money import ONE, ZERO
from engine.sim.board import COMPETITION, EASTERN, EXCHANGE_INDEX, RULES_SPORT, Game, SeriesSpec
from engine.sim.book import NO, YES, MarketBook
from engine.sim.exchange import Exchange, MarketState, OrderGroup
from engine.sim.records import Fill, Order, Position, Settlement

PRICE_RANGES = [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}]


def dollars(value: Decimal) -> str:
    return f"{value:.4f}"


def fp(value: Decimal) -> str:
    return f"{value:.2f}"


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def series_json(spec: SeriesSpec) -> dict[str, Any]:
    return {
        "ticker": spec.ticker,
        "frequency": "custom",
        "title": spec.title,
        "category": "Sports",
        "tags": [COMPETITION[spec.league].split()[1]],
        "settlement_sources": [{"name": "The Associated Press", "url": "https://apnews.com/"}],
        "contract_url": "",
        "contract_terms_url": "",
        "fee_type": spec.fees.fee_type.value,
        "fee_multiplier": float(spec.fees.multiplier),
        "additional_prohibitions": [],
        "exchange_index": EXCHANGE_INDEX.get(spec.league, 0),
    }


def _date_words(game: Game) -> str:
    """The scheduled date as the rules text prints it: US-Eastern, with the time for MLB."""
    local = game.commence.astimezone(EASTERN)
    words = f"{local:%b} {local.day}, {local.year}"
    if game.league == "mlb":
        hour = local.hour % 12 or 12
        words += f" at {hour}:{local:%M} {local:%p} {local.tzname()}"
    return words


def _short_date(game: Game) -> str:
    local = game.commence.astimezone(EASTERN)
    return f"{local:%b} {local.day}"


def market_json(state: MarketState) -> dict[str, Any]:
    game = state.game
    team = game.team_of(state.ticker)
    book = state.book
    yes_bid = book.best_price(YES)
    no_bid = book.best_price(NO)
    sport = RULES_SPORT[game.league]
    expected = game.commence + timedelta(hours=3)
    latest = game.commence + timedelta(days=14)
    out: dict[str, Any] = {
        "ticker": state.ticker,
        "event_ticker": game.event_ticker,
        "market_type": "binary",
        "title": f"{game.away.kalshi_name} at {game.home.kalshi_name} Winner?",
        "subtitle": "",
        "yes_sub_title": team.kalshi_name,
        "no_sub_title": team.kalshi_name,
        "created_time": iso(state.created),
        "updated_time": iso(state.created),
        "open_time": iso(state.created),
        "close_time": iso(latest),
        "expected_expiration_time": iso(expected),
        "expiration_time": iso(latest),
        "latest_expiration_time": iso(latest),
        "settlement_timer_seconds": 300,
        "status": state.status,
        "notional_value_dollars": "1.0000",
        "yes_bid_dollars": dollars(yes_bid if yes_bid is not None else ZERO),
        "yes_bid_size_fp": fp(book.level_total(YES, yes_bid) if yes_bid is not None else ZERO),
        "yes_ask_dollars": dollars(ONE - no_bid if no_bid is not None else ONE),
        "yes_ask_size_fp": fp(book.level_total(NO, no_bid) if no_bid is not None else ZERO),
        "no_bid_dollars": dollars(no_bid if no_bid is not None else ZERO),
        "no_ask_dollars": dollars(ONE - yes_bid if yes_bid is not None else ONE),
        "last_price_dollars": dollars(state.last_price),
        "previous_yes_bid_dollars": "0.0000",
        "previous_yes_ask_dollars": "0.0000",
        "previous_price_dollars": "0.0000",
        "volume_fp": fp(state.volume),
        "volume_24h_fp": fp(state.volume),
        "open_interest_fp": fp(state.open_interest),
        "liquidity_dollars": "0.0000",
        "result": state.result,
        "can_close_early": True,
        "expiration_value": "",
        "occurrence_datetime": iso(expected),
        "rules_primary": (
            f"If {team.kalshi_name} wins the {game.away.kalshi_name} at {game.home.kalshi_name} {sport} game "
            f"originally scheduled for {_date_words(game)}, then the market resolves to Yes."
        ),
        "rules_secondary": "",
        "price_level_structure": "linear_cent",
        "price_ranges": PRICE_RANGES,
        "exchange_index": EXCHANGE_INDEX.get(game.league, 0),
    }
    if state.settlement_value is not None and state.settled is not None:
        out["settlement_value_dollars"] = dollars(state.settlement_value)
        out["settlement_ts"] = iso(state.settled)
    return out


def event_json(game: Game, markets: list[MarketState] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "event_ticker": game.event_ticker,
        "series_ticker": game.series_ticker,
        "sub_title": f"{game.away.code} at {game.home.code} ({_short_date(game)})",
        "title": f"{game.away.kalshi_name} at {game.home.kalshi_name}",
        "collateral_return_type": "binary",
        "mutually_exclusive": True,
        "category": "Sports",
        "available_on_brokers": False,
        "product_metadata": {"competition": COMPETITION[game.league], "competition_scope": "Game"},
        "settlement_sources": [],
        "exchange_index": EXCHANGE_INDEX.get(game.league, 0),
    }
    if markets is not None:
        out["markets"] = [market_json(m) for m in markets]
    return out


def orderbook_json(book: MarketBook, depth: int = 0) -> dict[str, Any]:
    """``orderbook_fp`` with each ladder ascending by price; ``depth`` keeps only the best levels."""
    sides: dict[str, list[list[str]]] = {}
    for side, name in ((YES, "yes_dollars"), (NO, "no_dollars")):
        levels = book.levels(side)
        prices = sorted(levels)
        if depth > 0:
            prices = prices[-depth:]
        sides[name] = [[dollars(p), fp(levels[p])] for p in prices]
    return sides


def order_amounts(order: Order) -> dict[str, Any]:
    """Price, counts, costs and fees of an order: the part REST orders and WebSocket ``user_order`` share."""
    return {
        "yes_price_dollars": dollars(order.price),
        "fill_count_fp": fp(order.filled),
        "remaining_count_fp": fp(order.remaining),
        "initial_count_fp": fp(order.initial),
        "taker_fill_cost_dollars": dollars(order.taker_cost),
        "maker_fill_cost_dollars": dollars(order.maker_cost),
        "taker_fees_dollars": dollars(order.taker_fees),
        "maker_fees_dollars": dollars(order.maker_fees),
    }


def order_json(order: Order, exchange_index: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {
        "order_id": order.order_id,
        "user_id": "sim-user",
        "client_order_id": order.client_order_id,
        "ticker": order.ticker,
        "side": order.outcome_side,
        "action": "buy",
        "outcome_side": order.outcome_side,
        "book_side": order.book_side,
        "type": "limit",
        "status": order.status,
        **order_amounts(order),
        "no_price_dollars": dollars(ONE - order.price),
        "created_time": iso(order.created),
        "last_update_time": iso(order.updated),
        "self_trade_prevention_type": order.self_trade_prevention,
        "order_group_id": order.order_group_id,
        "cancel_order_on_pause": False,
        "subaccount_number": 0,
        "exchange_index": exchange_index,
    }
    if order.expiration_ts is not None:
        out["expiration_time"] = iso(datetime.fromtimestamp(order.expiration_ts, tz=UTC))
    return out


def fill_json(fill: Fill, exchange_index: int = 0) -> dict[str, Any]:
    return {
        "fill_id": fill.fill_id,
        "trade_id": fill.fill_id,
        "exchange_index": exchange_index,
        "order_id": fill.order_id,
        "ticker": fill.ticker,
        "market_ticker": fill.ticker,
        "side": fill.outcome_side,
        "action": "buy",
        "outcome_side": fill.outcome_side,
        "book_side": fill.book_side,
        "count_fp": fp(fill.count),
        "yes_price_dollars": dollars(fill.yes_price),
        "no_price_dollars": dollars(ONE - fill.yes_price),
        "is_taker": fill.is_taker,
        "created_time": iso(fill.created),
        "fee_cost": dollars(fill.fee),
        "subaccount_number": 0,
        "ts": int(fill.created.timestamp()),
    }


def position_json(pos: Position, exchange_index: int = 0) -> dict[str, Any]:
    updated = pos.updated or datetime.fromtimestamp(0, tz=UTC)
    return {
        "ticker": pos.ticker,
        "exchange_index": exchange_index,
        "total_traded_dollars": dollars(pos.total_traded),
        "position_fp": fp(pos.position),
        "market_exposure_dollars": dollars(pos.exposure),
        "realized_pnl_dollars": dollars(pos.realized_pnl),
        "fees_paid_dollars": dollars(pos.fees_paid),
        "last_updated_ts": iso(updated),
    }


def event_positions_json(positions: list[Position]) -> list[dict[str, Any]]:
    by_event: dict[str, list[Position]] = {}
    for pos in positions:
        by_event.setdefault(pos.event_ticker, []).append(pos)
    out = []
    for event, group in sorted(by_event.items()):
        out.append(
            {
                "event_ticker": event,
                "total_cost_dollars": dollars(sum((p.total_traded for p in group), ZERO)),
                "total_cost_shares_fp": fp(sum((abs(p.position) for p in group), ZERO)),
                "event_exposure_dollars": dollars(sum((p.exposure for p in group), ZERO)),
                "realized_pnl_dollars": dollars(sum((p.realized_pnl for p in group), ZERO)),
                "fees_paid_dollars": dollars(sum((p.fees_paid for p in group), ZERO)),
            }
        )
    return out


def settlement_json(s: Settlement, exchange_index: int = 0) -> dict[str, Any]:
    return {
        "ticker": s.ticker,
        "exchange_index": exchange_index,
        "event_ticker": s.event_ticker,
        "market_result": s.result,
        "yes_count_fp": fp(s.yes_count),
        "yes_total_cost_dollars": dollars(s.yes_cost),
        "no_count_fp": fp(s.no_count),
        "no_total_cost_dollars": dollars(s.no_cost),
        "revenue": cents(s.revenue),
        "settled_time": iso(s.settled),
        "fee_cost": dollars(s.fees),
        "value": 100 if s.result == "yes" else 0,
    }


def balance_json(exchange: Exchange) -> dict[str, Any]:
    return {
        "balance": cents(exchange.balance),
        "balance_dollars": dollars(exchange.balance),
        "portfolio_value": cents(exchange.portfolio_value()),
        "updated_ts": int(exchange.balance_updated.timestamp()),
        "balance_breakdown": [{"exchange_index": 0, "balance": dollars(exchange.balance)}],
    }


def order_group_json(group: OrderGroup) -> dict[str, Any]:
    """``GetOrderGroupResponse``: the group's id is only in the path, not in the body."""
    return {
        "is_auto_cancel_enabled": group.triggered,
        "contracts_limit_fp": fp(group.contracts_limit),
        "orders": list(group.order_ids),
        "exchange_index": group.exchange_index,
    }


def order_group_list_json(group: OrderGroup) -> dict[str, Any]:
    """One ``OrderGroup`` of ``GET /portfolio/order_groups``: keyed ``id``, without its orders."""
    return {
        "id": group.group_id,
        "contracts_limit_fp": fp(group.contracts_limit),
        "is_auto_cancel_enabled": group.triggered,
        "exchange_index": group.exchange_index,
    }
