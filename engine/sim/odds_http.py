"""The Odds-API-compatible server: ``/v4/sports``, events, odds, scores, with the quota headers.

Every answer carries ``x-requests-remaining``, ``x-requests-used`` and ``x-requests-last``. ``/odds`` costs
markets x regions (a ``bookmakers`` list counts one region per ten books); an unaffordable call is refused
with 401 and spends nothing. A bad ``apiKey`` is 401; more than about 30 calls a second is 429.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from engine.markets.fields import parse_timestamp
from engine.sim.board import Game
from engine.sim.faults import Faults
from engine.sim.http_common import Handler, fault_middleware
from engine.sim.odds_state import (
    BOOK_TITLES,
    BOOK_VIG,
    SPORT_META,
    OddsState,
    american,
    spread_point,
    total_line,
    vig_pair,
)
from engine.sim.payloads import iso
from engine.sim.ratelimit import TokenBucket

REGIONS = ("us", "us2", "uk", "eu", "au")
MARKETS = ("h2h", "spreads", "totals")
US_BOOKS = ("draftkings", "fanduel", "betmgm", "williamhill_us")


class OddsServer:
    """Holds the Odds API state and the per-process frequency bucket; one instance per simulator."""

    def __init__(
        self, state: OddsState, api_key: str, faults: Faults, rate: float, clock: Any, enforce_rate: bool = True
    ) -> None:
        self.state = state
        self.api_key = api_key
        self.faults = faults
        self.clock = clock
        self.enforce_rate = enforce_rate
        self.bucket = TokenBucket(rate, rate)
        self.monotonic: Callable[[], float] = time.monotonic

    # -- plumbing ----------------------------------------------------------------------------------------
    def _json(self, body: Any, status: int = 200, last: int = 0) -> web.Response:
        headers = {
            "x-requests-remaining": str(self.state.credits_remaining),
            "x-requests-used": str(self.state.credits_used),
            "x-requests-last": str(last),
        }
        return web.json_response(body, status=status, headers=headers)

    def _fail(self, status: int, code: str, message: str) -> web.Response:
        return self._json({"message": message, "error_code": code, "details_url": ""}, status=status)

    def too_many(self) -> web.Response:
        return self._fail(429, "EXCEEDED_FREQ_LIMIT", "Requests are being sent too frequently.")

    @web.middleware
    async def gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.query.get("apiKey") != self.api_key:
            return self._fail(401, "INVALID_KEY", "API key is not valid or is missing (apiKey query parameter).")
        if self.enforce_rate and not self.bucket.take(1.0, self.monotonic()):
            return self.too_many()
        return await handler(request)

    def _games(self, sport: str) -> list[Game]:
        return [g for g in self.state.board.games if g.sport_key == sport]

    def _sport_known(self, sport: str) -> bool:
        return sport in SPORT_META

    # -- routes ------------------------------------------------------------------------------------------
    async def sports(self, request: web.Request) -> web.Response:
        active = {g.sport_key for g in self.state.board.games}
        out = [
            {
                "key": key,
                "group": group,
                "title": title,
                "description": desc,
                "active": key in active,
                "has_outrights": False,
            }
            for key, (group, title, desc) in SPORT_META.items()
            if key in active or request.query.get("all") == "true"
        ]
        return self._json(out)

    def _event(self, game: Game, unix: bool = False) -> dict[str, Any]:
        return {
            "id": game.odds_id,
            "sport_key": game.sport_key,
            "sport_title": SPORT_META[game.sport_key][1],
            "commence_time": _when(game.commence, unix),
            "home_team": game.home.odds_name,
            "away_team": game.away.odds_name,
        }

    def _filtered(self, request: web.Request, sport: str) -> list[Game]:
        """Upcoming games of ``sport`` (finished ones only appear in scores) narrowed by the query."""
        games = [g for g in self._games(sport) if g.odds_id not in self.state.results]
        ids = {i for i in request.query.get("eventIds", "").split(",") if i}
        if ids:
            games = [g for g in games if g.odds_id in ids]
        lo = request.query.get("commenceTimeFrom")
        hi = request.query.get("commenceTimeTo")
        if lo:
            start = parse_timestamp(lo)
            games = [g for g in games if g.commence >= start]
        if hi:
            end = parse_timestamp(hi)
            games = [g for g in games if g.commence <= end]
        return games

    async def events(self, request: web.Request) -> web.Response:
        sport = request.match_info["sport"]
        if not self._sport_known(sport):
            return self._fail(404, "UNKNOWN_SPORT", f"Unknown sport {sport}")
        try:
            games = self._filtered(request, sport)
        except ValueError as exc:
            return self._fail(422, "INVALID_COMMENCE_TIME", str(exc))
        return self._json([self._event(g) for g in games])

    def book_json(
        self, game: Game, book: str, markets: list[str], american_fmt: bool, unix: bool = False
    ) -> dict[str, Any] | None:
        quote = self.state.quote(game, book)
        if quote is None:
            return None
        stamp = _when(quote.last_update, unix)

        def shown(a: int) -> float | int:
            return a if american_fmt else round(1 + (a / 100 if a > 0 else 100 / -a), 2)

        line_price, _ = vig_pair(BOOK_VIG.get(book, 0.045))
        out_markets: list[dict[str, Any]] = []
        for key in markets:
            if key == "h2h":
                outcomes: list[dict[str, Any]] = [
                    {"name": game.away.odds_name, "price": shown(american(quote.away_implied))},
                    {"name": game.home.odds_name, "price": shown(american(quote.home_implied))},
                ]
            elif key == "spreads":
                point = spread_point(game, quote.home_implied)
                outcomes = [
                    {"name": game.away.odds_name, "price": shown(line_price), "point": -point},
                    {"name": game.home.odds_name, "price": shown(line_price), "point": point},
                ]
            else:
                line = total_line(game)
                outcomes = [
                    {"name": "Over", "price": shown(line_price), "point": line},
                    {"name": "Under", "price": shown(line_price), "point": line},
                ]
            out_markets.append({"key": key, "last_update": stamp, "outcomes": outcomes})
        return {"key": book, "title": BOOK_TITLES.get(book, book), "last_update": stamp, "markets": out_markets}

    async def odds(self, request: web.Request) -> web.Response:
        sport = request.match_info["sport"]
        if not self._sport_known(sport):
            return self._fail(404, "UNKNOWN_SPORT", f"Unknown sport {sport}")
        markets = [m for m in request.query.get("markets", "h2h").split(",") if m]
        bad = [m for m in markets if m not in MARKETS]
        if bad or not markets:
            return self._fail(422, "INVALID_MARKET", f"Invalid markets: {','.join(bad) or '(none)'}")
        books_param = [b for b in request.query.get("bookmakers", "").split(",") if b]
        if books_param:
            regions_count = math.ceil(len(books_param) / 10)
            books = [b for b in books_param if b in self.state.bookmakers]
        else:
            regions = [r for r in request.query.get("regions", "").split(",") if r]
            if not regions or any(r not in REGIONS for r in regions):
                return self._fail(422, "INVALID_REGION", "regions must be a comma list of us, us2, uk, eu, au")
            regions_count = len(regions)
            books = [b for b in self.state.bookmakers if "us" in regions and b in US_BOOKS]
        fmt = request.query.get("oddsFormat", "decimal")
        date_format = request.query.get("dateFormat", "iso")
        if date_format not in ("iso", "unix"):
            return self._fail(422, "INVALID_DATE_FORMAT", "dateFormat must be iso or unix")
        unix = date_format == "unix"
        if fmt not in ("american", "decimal"):
            return self._fail(422, "INVALID_ODDS_FORMAT", "oddsFormat must be american or decimal")
        try:
            games = self._filtered(request, sport)
        except ValueError as exc:
            return self._fail(422, "INVALID_COMMENCE_TIME", str(exc))
        cost = len(markets) * regions_count
        if not games:
            cost = 0
        if not self.state.charge(cost):
            return self._fail(
                401, "OUT_OF_USAGE_CREDITS", "Usage quota has been reached. Upgrade the plan or wait for the reset."
            )
        out = []
        for game in games:
            event = self._event(game, unix)
            event["bookmakers"] = [
                b for b in (self.book_json(game, book, markets, fmt == "american", unix) for book in books) if b
            ]
            out.append(event)
        return self._json(out, last=cost)

    async def scores(self, request: web.Request) -> web.Response:
        sport = request.match_info["sport"]
        if not self._sport_known(sport):
            return self._fail(404, "UNKNOWN_SPORT", f"Unknown sport {sport}")
        days_from = request.query.get("daysFrom")
        if days_from is not None and days_from not in ("1", "2", "3"):
            return self._fail(422, "INVALID_DAYS_FROM", "daysFrom must be 1, 2 or 3")
        cost = 2 if days_from else 1
        if not self.state.charge(cost):
            return self._fail(401, "OUT_OF_USAGE_CREDITS", "Usage quota has been reached.")
        out = []
        for game in self._games(sport):
            event = self._event(game)
            event.update({"completed": False, "scores": None, "last_update": None})
            final = self.state.results.get(game.odds_id)
            if final is not None:
                away, home, finished = final
                event.update({"completed": True, "last_update": iso(finished)})
                event["scores"] = [
                    {"name": game.away.odds_name, "score": str(away)},
                    {"name": game.home.odds_name, "score": str(home)},
                ]
            out.append(event)
        return self._json(out, last=cost)


def _when(moment: datetime, unix: bool) -> str | int:
    """``dateFormat=iso`` (default) or ``unix`` seconds."""
    return int(moment.timestamp()) if unix else iso(moment)


def build_odds_app(server: OddsServer) -> web.Application:
    app = web.Application(middlewares=[fault_middleware(server.faults, server.too_many), server.gate])
    app.router.add_get("/v4/sports", server.sports)
    app.router.add_get("/v4/sports/", server.sports)
    app.router.add_get("/v4/sports/{sport}/events", server.events)
    app.router.add_get("/v4/sports/{sport}/odds", server.odds)
    app.router.add_get("/v4/sports/{sport}/scores", server.scores)
    return app
