"""The Kalshi-compatible REST server: exchange status, series, events, markets and orderbooks.

Requests under ``/trade-api/`` are checked in this order: fault injection, signature (required on
``/portfolio``, verified whenever the headers are present), then the read or write token bucket.
Portfolio and order routes live in :mod:`engine.sim.kalshi_portfolio`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from engine.sim.auth import AuthError, verify
from engine.sim.board import EXCHANGE_INDEX, Game
from engine.sim.context import CTX, SimContext
from engine.sim.http_common import Handler, error, fault_middleware, paged_json, query_bool, query_int, query_list
from engine.sim.kalshi_portfolio import add_portfolio_routes
from engine.sim.payloads import event_json, market_json, orderbook_json, series_json

API = "/trade-api/v2"

WRITE_COSTS = {"DELETE": 2}
DEFAULT_COST = 10

MARKET_STATUS = {"open": {"active"}, "unopened": {"initialized", "inactive"}, "closed": {"closed"}}
MARKET_STATUS["settled"] = {"determined", "finalized", "settled"}


def too_many() -> web.Response:
    return web.json_response({"error": "too many requests"}, status=429)


def _is_write(request: web.Request) -> bool:
    return request.method in ("POST", "PUT", "DELETE")


def _cost(request: web.Request) -> int:
    return WRITE_COSTS.get(request.method, DEFAULT_COST)


@web.middleware
async def auth_and_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    ctx = request.app[CTX]
    path = request.path
    if not path.startswith("/trade-api/"):
        return await handler(request)
    headers = {k: v for k, v in request.headers.items() if k.upper().startswith("KALSHI-ACCESS-")}
    headers = {k.upper(): v for k, v in headers.items()}
    if headers or "/portfolio" in path:
        try:
            verify(
                ctx.credentials,
                headers,
                request.method,
                path,
                ctx.now_ms(),
                int(ctx.config.signature_window_s * 1000),
            )
        except AuthError as exc:
            return error(401, "unauthorized", str(exc))
    if ctx.config.rate_limits:
        bucket = ctx.write_bucket if _is_write(request) else ctx.read_bucket
        cost = _cost(request)
        if request.method == "DELETE" and path.endswith("/batched"):
            cost = 0  # billed per order inside the handler
        if cost and not bucket.take(cost, ctx.monotonic()):
            return too_many()
    return await handler(request)


def _ctx(request: web.Request) -> SimContext:
    return request.app[CTX]


async def exchange_status(request: web.Request) -> web.Response:
    """The top level describes shard 0; ``exchange_index_statuses`` has one entry per shard in use."""
    exchange = _ctx(request).exchange
    active = exchange.trading_active
    shards = sorted({0, *(EXCHANGE_INDEX.get(m.game.league, 0) for m in exchange.markets.values())})
    return web.json_response(
        {
            "exchange_active": True,
            "trading_active": active,
            "intra_exchange_transfers_active": True,
            "exchange_estimated_resume_time": None,
            "exchange_index_statuses": [
                {
                    "exchange_index": index,
                    "description": "default" if index == 0 else f"shard {index}",
                    "exchange_active": True,
                    "trading_active": active and index not in exchange.paused_shards,
                    "intra_exchange_transfers_active": True,
                }
                for index in shards
            ],
        }
    )


async def list_series(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    category = request.query.get("category", "")
    tags = set(query_list(request, "tags"))
    out = []
    for spec in ctx.exchange.board.series:
        doc = series_json(spec)
        if category and doc["category"] != category:
            continue
        if tags and not tags.intersection(doc["tags"]):
            continue
        out.append(doc)
    return web.json_response({"series": out})


async def get_series(request: web.Request) -> web.Response:
    ticker = request.match_info["series_ticker"]
    for spec in _ctx(request).exchange.board.series:
        if spec.ticker == ticker:
            return web.json_response({"series": series_json(spec)})
    return error(404, "not_found", f"series {ticker} not found")


def _event_open(ctx: SimContext, game: Game) -> bool:
    return any(ctx.exchange.markets[t].status == "active" for t in game.tickers)


async def list_events(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    limit = query_int(request, "limit", 200, 1, 200)
    nested = query_bool(request, "with_nested_markets")
    series = request.query.get("series_ticker", "")
    status = request.query.get("status", "")
    wanted = set(query_list(request, "event_tickers")) | set(query_list(request, "tickers"))
    games = [
        g
        for g in ctx.exchange.board.games
        if (not series or g.series_ticker == series)
        and (not wanted or g.event_ticker in wanted)
        and (not status or (status == "open") == _event_open(ctx, g))
    ]

    def body(chunk: list[Game]) -> dict[str, Any]:
        nested_markets = [(g, [ctx.exchange.markets[t] for t in g.tickers] if nested else None) for g in chunk]
        return {"events": [event_json(g, markets) for g, markets in nested_markets], "milestones": []}

    return paged_json(request, games, limit, body)


async def get_event(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    ticker = request.match_info["event_ticker"]
    game = next((g for g in ctx.exchange.board.games if g.event_ticker == ticker), None)
    if game is None:
        return error(404, "not_found", f"event {ticker} not found")
    markets = [ctx.exchange.markets[t] for t in game.tickers]
    nested = query_bool(request, "with_nested_markets")
    body: dict[str, Any] = {"event": event_json(game, markets if nested else None)}
    body["markets"] = [] if nested else [market_json(m) for m in markets]
    return web.json_response(body)


async def list_markets(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    limit = query_int(request, "limit", 100, 0, 1000) or 100  # the docs allow 0: the default page
    event = request.query.get("event_ticker", "")
    series = request.query.get("series_ticker", "")
    status = request.query.get("status", "")
    if status and status not in MARKET_STATUS and status != "paused":
        return error(400, "bad_request", f"unknown status {status[:40]!r}")
    allowed = MARKET_STATUS.get(status, set())
    wanted = set(query_list(request, "tickers"))
    states = [
        s
        for s in ctx.exchange.markets.values()
        if (not event or s.game.event_ticker == event)
        and (not series or s.game.series_ticker == series)
        and (not status or s.status in allowed)
        and (not wanted or s.ticker in wanted)
    ]
    return paged_json(request, states, limit, lambda chunk: {"markets": [market_json(s) for s in chunk]})


async def get_market(request: web.Request) -> web.Response:
    ticker = request.match_info["ticker"]
    state = _ctx(request).exchange.market(ticker)
    if state is None:
        return error(404, "not_found", f"market {ticker} not found")
    return web.json_response({"market": market_json(state)})


async def get_orderbook(request: web.Request) -> web.Response:
    ticker = request.match_info["ticker"]
    state = _ctx(request).exchange.market(ticker)
    if state is None:
        return error(404, "not_found", f"market {ticker} not found")
    depth = query_int(request, "depth", 0, -1000, 100)
    return web.json_response({"orderbook_fp": orderbook_json(state.book, depth)})


async def get_orderbooks(request: web.Request) -> web.Response:
    ex = _ctx(request).exchange
    tickers = query_list(request, "tickers")
    if not tickers or len(tickers) > 100:
        return error(400, "bad_request", "tickers must name between 1 and 100 markets")
    books = []
    for ticker in tickers:
        state = ex.market(ticker)
        if state is not None:
            books.append({"ticker": ticker, "orderbook_fp": orderbook_json(state.book)})
    return web.json_response({"orderbooks": books})


def build_kalshi_app(ctx: SimContext) -> web.Application:
    app = web.Application(middlewares=[fault_middleware(ctx.faults, too_many), auth_and_limits])
    app[CTX] = ctx
    r = app.router
    r.add_get(f"{API}/exchange/status", exchange_status)
    r.add_get(f"{API}/series", list_series)
    r.add_get(f"{API}/series/{{series_ticker}}", get_series)
    r.add_get(f"{API}/events", list_events)
    r.add_get(f"{API}/events/{{event_ticker}}", get_event)
    r.add_get(f"{API}/markets", list_markets)
    r.add_get(f"{API}/markets/orderbooks", get_orderbooks)
    r.add_get(f"{API}/markets/{{ticker}}", get_market)
    r.add_get(f"{API}/markets/{{ticker}}/orderbook", get_orderbook)
    add_portfolio_routes(app, API)
    return app
