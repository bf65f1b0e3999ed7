"""Async client of The Odds API v4: sports, events, odds and scores, with the quota budget enforced before
every paid call, responses cached by request, and ``x-requests-*`` headers tracked.

The key travels as the ``apiKey`` query parameter, so it is kept out of every error (paths only) and
redacted from httpx's own request log lines.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from engine.clock import SYSTEM_CLOCK
from engine.config.settings import Settings
from engine.connectors.errors import (
    ProtocolError,
    QuotaExceededError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from engine.connectors.http import RetryPolicy, api_error, transport_error
from engine.connectors.odds_api.cache import ResponseCache, cache_key
from engine.connectors.odds_api.quota import QuotaBudget, QuotaState, odds_cost, scores_cost
from engine.errors import ConfigError, PayloadError
from engine.markets.odds import OddsEvent, parse_odds_event

log = logging.getLogger(__name__)
VENUE = "odds api"
_KEY_IN_URL = re.compile(r"(apiKey=)[^&\s\"']+")


class _RedactApiKey(logging.Filter):
    """httpx logs each request URL at INFO; the URL carries the key."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "apiKey=" in message:
            record.msg = _KEY_IN_URL.sub(r"\1<redacted>", message)
            record.args = ()
        return True


STREAM_DECODE_MIN = 64 * 1024
"""Bodies at least this large (an ``/odds`` answer for a full league is ~700 KB) are decoded an element at a
time with the loop handed back between turns; ``json.loads`` of one took 5-8 ms on the loop, and in a worker
thread it would hold the GIL just as long (the C decoder never lets go of it)."""
DECODE_TURN_S = 0.001
"""Decoding work per loop turn for a large body."""
_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip_space(text: str, i: int) -> int:
    found = _SPACE.match(text, i)
    return i if found is None else found.end()


async def decode_json(body: bytes, turn_s: float = DECODE_TURN_S) -> Any:
    """``json.loads(body)``, but a large top-level array is decoded element by element, yielding to the loop
    every ``turn_s`` seconds. Raises ``ValueError`` for anything that is not exactly one JSON document."""
    if len(body) < STREAM_DECODE_MIN:
        return json.loads(body)
    text = body.decode("utf-8-sig")
    i = _skip_space(text, 0)
    if not text.startswith("[", i):
        return json.loads(text)
    i = _skip_space(text, i + 1)
    out: list[Any] = []
    turn = time.perf_counter()
    if not text.startswith("]", i):
        while True:
            value, i = _DECODER.raw_decode(text, i)
            out.append(value)
            i = _skip_space(text, i)
            if text.startswith("]", i):
                break
            if not text.startswith(",", i):
                raise ValueError(f"expected ',' or ']' at character {i}")
            i = _skip_space(text, i + 1)
            if time.perf_counter() - turn > turn_s:
                await asyncio.sleep(0)
                turn = time.perf_counter()
    if _skip_space(text, i + 1) != len(text):
        raise ValueError(f"extra data after the array at character {i + 1}")
    return out


_REDACTOR = _RedactApiKey()
for _name in ("httpx", "httpcore"):
    if _REDACTOR not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_REDACTOR)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _header_int(response: httpx.Response, name: str) -> int | None:
    raw = response.headers.get(name)
    if raw is None:
        return None
    try:
        return int(float(raw))
    except ValueError:
        return None


class OddsApiClient:
    """``async with OddsApiClient(base_url, api_key, budget) as odds: await odds.odds("basketball_nba")``."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        budget: QuotaBudget,
        *,
        retry: RetryPolicy | None = None,
        timeout_s: float = 10.0,
        odds_ttl_s: float = 20.0,
        now: Callable[[], datetime] = SYSTEM_CLOCK.now,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not api_key:
            raise ConfigError("ODDS_API_KEY is not set")
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self.budget = budget
        self.cache = ResponseCache()
        self._retry = retry or RetryPolicy()
        self._odds_ttl_s = odds_ttl_s
        self._now = now
        self._clock = clock
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/", timeout=httpx.Timeout(timeout_s), transport=transport
        )
        self.payload_errors: list[PayloadError] = []
        self.calls = 0

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> OddsApiClient:
        key = settings.odds_api_key.get_secret_value() if settings.odds_api_key else ""
        return cls(settings.odds_api_base_url, key, QuotaBudget(settings.odds_api_daily_credits), **kwargs)

    async def __aenter__(self) -> OddsApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def __repr__(self) -> str:
        return f"OddsApiClient({self.base_url!r}, <key hidden>)"

    @property
    def quota(self) -> QuotaState:
        return self.budget.venue

    async def _get(self, path: str, params: dict[str, str], *, cost: int, ttl_s: float) -> Any:
        key = cache_key(path, params)
        cached = self.cache.get(key, self._clock())
        if cached is not None:
            return cached
        if cost:
            self.budget.check(cost, self._now(), path)
        query = {**params, "apiKey": self._key}
        attempt = 0
        while True:
            try:
                doc = await self._send_once(path, query, cost)
                break
            except (RateLimitedError, ServerError, TransportError) as exc:
                if isinstance(exc, RateLimitedError) and self.budget.venue.remaining == 0:
                    raise QuotaExceededError(f"the odds api quota is exhausted ({exc})") from None
                maybe_charged = isinstance(exc, ServerError) or (
                    isinstance(exc, TransportError) and exc.maybe_delivered
                )
                if cost and maybe_charged:
                    # the venue may have charged a call whose answer we lost: count it, so the budget errs
                    # on the safe side, and re-check it before paying again
                    self.budget.record(cost, QuotaState(), self._now())
                if attempt + 1 >= self._retry.max_attempts:
                    raise
                if cost:
                    self.budget.check(cost, self._now(), path)
            attempt += 1
            await self._sleep(self._retry.delay(attempt))
        self.cache.put(key, doc, self._clock(), ttl_s)
        return doc

    async def _send_once(self, path: str, query: dict[str, str], cost: int) -> Any:
        self.calls += 1
        try:
            response = await self._http.get(path.lstrip("/"), params=query)
        except httpx.TransportError as exc:
            raise transport_error(VENUE, "GET", path, exc) from None
        state = QuotaState(
            _header_int(response, "x-requests-remaining"),
            _header_int(response, "x-requests-used"),
            _header_int(response, "x-requests-last"),
        )
        if response.status_code >= 400:
            if state.remaining is not None:
                self.budget.venue = state
            error = api_error(VENUE, "GET", path, response)
            if "OUT_OF_USAGE_CREDITS" in error.detail or "quota" in error.detail.lower():
                self.budget.venue = QuotaState(0, state.used, state.last)
                raise QuotaExceededError(f"the odds api quota is exhausted ({error})")
            raise error
        self.budget.record(cost, state, self._now())
        try:
            return await decode_json(response.content)
        except ValueError:
            raise ProtocolError(f"odds api GET {path}: response is not JSON") from None

    def _events(self, doc: Any, path: str, american: bool | None) -> tuple[OddsEvent, ...]:
        if not isinstance(doc, list):
            raise ProtocolError(f"odds api GET {path}: expected an array of events")
        out: list[OddsEvent] = []
        for raw in doc:
            try:
                out.append(parse_odds_event(raw, american=american))
            except PayloadError as exc:
                log.warning("odds api: skipped bad event: %s", exc)
                self.payload_errors.append(exc)
        return tuple(out)

    # -- endpoints -------------------------------------------------------------------------------------

    async def sports(self, *, include_all: bool = False) -> list[dict[str, Any]]:
        """Free. ``[{key, group, title, description, active, has_outrights}]``."""
        doc = await self._get("/v4/sports", {"all": "true"} if include_all else {}, cost=0, ttl_s=3600)
        if not isinstance(doc, list):
            raise ProtocolError("odds api GET /v4/sports: expected an array")
        return [s for s in doc if isinstance(s, dict)]

    async def events(
        self,
        sport: str,
        *,
        commence_time_from: datetime | None = None,
        commence_time_to: datetime | None = None,
        event_ids: Sequence[str] = (),
    ) -> tuple[OddsEvent, ...]:
        """Free: the schedule without prices."""
        path = f"/v4/sports/{sport}/events"
        params = self._window(commence_time_from, commence_time_to, event_ids)
        return self._events(await self._get(path, params, cost=0, ttl_s=60), path, None)

    @staticmethod
    def _window(start: datetime | None, end: datetime | None, event_ids: Sequence[str]) -> dict[str, str]:
        params: dict[str, str] = {"dateFormat": "iso"}
        if start is not None:
            params["commenceTimeFrom"] = _iso(start)
        if end is not None:
            params["commenceTimeTo"] = _iso(end)
        if event_ids:
            params["eventIds"] = ",".join(event_ids)
        return params

    async def odds_raw(
        self,
        sport: str,
        *,
        markets: Sequence[str] = ("h2h",),
        regions: Sequence[str] = ("us",),
        bookmakers: Sequence[str] = (),
        odds_format: str = "american",
        event_ids: Sequence[str] = (),
        commence_time_from: datetime | None = None,
        commence_time_to: datetime | None = None,
    ) -> list[Any]:
        """One ``/odds`` call (cost: markets x regions, or per 10 bookmakers). Raw events as served."""
        if odds_format not in ("american", "decimal"):
            raise ValueError("odds_format must be 'american' or 'decimal'")
        path = f"/v4/sports/{sport}/odds"
        params = self._window(commence_time_from, commence_time_to, event_ids)
        params["markets"] = ",".join(markets)
        params["oddsFormat"] = odds_format
        if bookmakers:
            params["bookmakers"] = ",".join(bookmakers)
        else:
            params["regions"] = ",".join(regions)
        cost = odds_cost(markets, regions, bookmakers)
        doc = await self._get(path, params, cost=cost, ttl_s=self._odds_ttl_s)
        if not isinstance(doc, list):
            raise ProtocolError(f"odds api GET {path}: expected an array of events")
        return doc

    async def odds(self, sport: str, **kwargs: Any) -> tuple[OddsEvent, ...]:
        american = kwargs.get("odds_format", "american") == "american"
        doc = await self.odds_raw(sport, **kwargs)
        return self._events(doc, f"/v4/sports/{sport}/odds", american)

    async def scores(self, sport: str, *, days_from: int | None = None) -> list[dict[str, Any]]:
        """Completed and live games (cost 1, or 2 with ``days_from`` 1..3)."""
        if days_from is not None and not 1 <= days_from <= 3:
            raise ValueError("days_from must be 1, 2 or 3")
        params: dict[str, str] = {"dateFormat": "iso"}
        if days_from:
            params["daysFrom"] = str(days_from)
        doc = await self._get(f"/v4/sports/{sport}/scores", params, cost=scores_cost(days_from), ttl_s=30)
        if not isinstance(doc, list):
            raise ProtocolError(f"odds api GET /v4/sports/{sport}/scores: expected an array")
        return [s for s in doc if isinstance(s, dict)]

    async def check_key(self) -> QuotaState:
        """A free call that proves the key is accepted and reads the venue's credit headers."""
        await self._get("/v4/sports", {}, cost=0, ttl_s=0)
        return self.budget.venue
