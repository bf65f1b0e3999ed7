"""Async Kalshi REST client: one pooled ``httpx.AsyncClient``, every request signed, throttled by the tier's
token buckets, reads retried on 429/5xx/transport errors with jittered backoff.

Order creation is special: a create whose outcome is unknown (timeout, reset connection, 5xx) is never
re-sent blindly. The order is looked up by its ``client_order_id``; only when the exchange shows no such
order is it sent again, with the same ``client_order_id``, which the exchange refuses to duplicate (409).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from engine.clock import SYSTEM_CLOCK
from engine.config.settings import Settings
from engine.connectors.errors import (
    ApiError,
    ConflictError,
    KeyFileError,
    OrderOutcomeUnknownError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from engine.connectors.http import RetryPolicy, api_error, transport_error
from engine.connectors.kalshi.models import (
    Balance,
    CancelResult,
    ExchangeStatus,
    Fill,
    Order,
    OrderAck,
    OrderGroup,
    OrderRequest,
    Position,
    Settlement,
    parse_balance,
    parse_cancel,
    parse_exchange_status,
    parse_fill,
    parse_order,
    parse_order_ack,
    parse_order_group,
    parse_position,
    parse_settlement,
)
from engine.connectors.kalshi.ratelimit import BATCH_CANCEL_COST_PER_ORDER, DEFAULT_COST, AsyncRateLimiter
from engine.connectors.kalshi.signing import KalshiSigner
from engine.errors import PayloadError
from engine.markets.kalshi import (
    KalshiEvent,
    KalshiMarket,
    Orderbook,
    SeriesInfo,
    parse_event,
    parse_market,
    parse_orderbook,
    parse_series,
)

log = logging.getLogger(__name__)
VENUE = "kalshi"
T = TypeVar("T")
Params = dict[str, str | int | list[str]]
CANCEL_COST = 2
MAX_ORDERBOOKS_PER_CALL = 100
LOOKUP_MARGIN_S = 300
"""An order lookup lists orders created since the first send minus this margin (clock skew, queueing)."""


class KalshiRestClient:
    """``async with KalshiRestClient(base_url, signer) as kalshi: await kalshi.markets(series_ticker=...)``."""

    def __init__(
        self,
        base_url: str,
        signer: KalshiSigner | None = None,
        *,
        limiter: AsyncRateLimiter | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 10.0,
        wall_ms: Callable[[], int] = SYSTEM_CLOCK.ms,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._root_path = urlsplit(self.base_url).path.rstrip("/")
        self._signer = signer
        self._limiter = limiter or AsyncRateLimiter.for_tier("basic")
        self._retry = retry or RetryPolicy()
        self._wall_ms = wall_ms
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            transport=transport,
            headers={"Accept": "application/json"},
        )
        self.payload_errors: list[PayloadError] = []
        self.last_server_date: datetime | None = None
        self.last_local_ms: int | None = None
        self.requests_sent = 0
        self.retries = 0

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> KalshiRestClient:
        """A signed client when both KALSHI_KEY_ID and KALSHI_PRIVATE_KEY_PATH are set, else unsigned."""
        signer = None
        if settings.kalshi_key_id and settings.kalshi_private_key_path:
            signer = KalshiSigner.from_file(settings.kalshi_key_id, settings.kalshi_private_key_path)
        elif settings.kalshi_key_id or settings.kalshi_private_key_path:
            raise KeyFileError("set both KALSHI_KEY_ID and KALSHI_PRIVATE_KEY_PATH, or neither")
        kwargs.setdefault("limiter", AsyncRateLimiter.for_tier(settings.kalshi_tier))
        return cls(settings.kalshi_base_url, signer, **kwargs)

    async def __aenter__(self) -> KalshiRestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- transport -------------------------------------------------------------------------------------

    async def _send_once(
        self, method: str, path: str, *, params: Params | None, body: Any, write: bool, cost: int
    ) -> Any:
        """One throttled, signed attempt; the decoded JSON body or a typed error."""
        await self._limiter.acquire(write=write, cost=cost)
        headers: dict[str, str] = {}
        now_ms = self._wall_ms()
        if self._signer is not None:
            headers.update(self._signer.headers(method, self._root_path + path, now_ms))
        self.requests_sent += 1
        try:
            response = await self._http.request(method, path.lstrip("/"), params=params, json=body, headers=headers)
        except httpx.TransportError as exc:
            raise transport_error(VENUE, method, path, exc) from None
        self._note_date(response, now_ms)
        log.debug("kalshi %s %s -> %s", method, path, response.status_code)
        if response.status_code >= 400:
            raise api_error(VENUE, method, path, response)
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise ProtocolError(f"kalshi {method} {path}: response is not JSON") from None

    def _note_date(self, response: httpx.Response, sent_ms: int) -> None:
        """Keep the server's clock from a single Date header, always zone-aware: "-0000" (UTC, RFC 5322)
        parses without a zone, and a header sent twice is ambiguous, so it is not used at all."""
        raw = response.headers.get_list("date")
        if len(raw) == 1:
            try:
                server = parsedate_to_datetime(raw[0])
            except (TypeError, ValueError):
                return
            self.last_server_date = server if server.tzinfo is not None else server.replace(tzinfo=UTC)
            self.last_local_ms = (sent_ms + self._wall_ms()) // 2

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        write: bool = False,
        cost: int = DEFAULT_COST,
        idempotent: bool | None = None,
    ) -> Any:
        """Send with retries: 429 is always retried (the exchange refused it, nothing happened); 5xx and
        transport errors only when repeating the call cannot do harm (reads, cancels)."""
        repeatable = (not write) if idempotent is None else idempotent
        attempt = 0
        while True:
            try:
                return await self._send_once(method, path, params=params, body=body, write=write, cost=cost)
            except RateLimitedError:
                if attempt + 1 >= self._retry.max_attempts:
                    raise
            except ServerError:
                if not repeatable or attempt + 1 >= self._retry.max_attempts:
                    raise
            except TransportError as exc:
                if (exc.maybe_delivered and not repeatable) or attempt + 1 >= self._retry.max_attempts:
                    raise
            attempt += 1
            self.retries += 1
            await self._sleep(self._retry.delay(attempt))

    async def pages(
        self, path: str, key: str, params: Params | None = None, *, page_size: int | None = 200
    ) -> AsyncIterator[list[Any]]:
        """Follow ``cursor`` until the venue returns none (or an empty one), yielding each page's items.
        ``page_size`` None sends no ``limit`` (``/series`` documents none)."""
        query: Params = dict(params or {})
        if page_size is not None:
            query["limit"] = page_size
        seen: set[str] = set()
        while True:
            doc = await self.request("GET", path, params=query)
            items = doc.get(key) if isinstance(doc, dict) else None
            if not isinstance(items, list):
                raise ProtocolError(f"kalshi GET {path}: '{key}' missing or not an array")
            yield items
            cursor = doc.get("cursor")
            if not isinstance(cursor, str) or not cursor:
                return
            if cursor in seen:
                raise ProtocolError(f"kalshi GET {path}: cursor repeated; refusing to loop")
            seen.add(cursor)
            query["cursor"] = cursor

    async def collect(
        self, path: str, key: str, params: Params | None = None, *, page_size: int | None = 200
    ) -> list[Any]:
        out: list[Any] = []
        async for page in self.pages(path, key, params, page_size=page_size):
            out.extend(page)
        return out

    def _parse_all(self, items: Iterable[Any], parse: Callable[[Any], T]) -> tuple[T, ...]:
        """Parse each item; a bad one is logged and kept in ``payload_errors``, the rest still arrive."""
        out: list[T] = []
        for item in items:
            try:
                out.append(parse(item))
            except PayloadError as exc:
                log.warning("kalshi: skipped bad payload: %s", exc)
                self.payload_errors.append(exc)
        return tuple(out)

    # -- market data -----------------------------------------------------------------------------------

    async def series_raw(self, *, category: str | None = None, tags: str | None = None) -> list[Any]:
        params: Params = {}
        if category:
            params["category"] = category
        if tags:
            params["tags"] = tags
        return await self.collect("/series", "series", params, page_size=None)

    async def series_list(self, *, category: str | None = None, tags: str | None = None) -> tuple[SeriesInfo, ...]:
        return self._parse_all(await self.series_raw(category=category, tags=tags), parse_series)

    async def series_one_raw(self, ticker: str) -> Any:
        doc = await self.request("GET", f"/series/{ticker}")
        return doc.get("series") if isinstance(doc, dict) else None

    async def series(self, ticker: str) -> SeriesInfo:
        return parse_series(await self.series_one_raw(ticker))

    async def events_raw(
        self, *, series_ticker: str | None = None, status: str | None = None, with_nested_markets: bool = True
    ) -> list[Any]:
        params: Params = {"with_nested_markets": "true" if with_nested_markets else "false"}
        if series_ticker:
            params["series_ticker"] = series_ticker
        if status:
            params["status"] = status
        return await self.collect("/events", "events", params)

    async def events(
        self, *, series_ticker: str | None = None, status: str | None = None, with_nested_markets: bool = True
    ) -> tuple[KalshiEvent, ...]:
        raw = await self.events_raw(series_ticker=series_ticker, status=status, with_nested_markets=with_nested_markets)
        return self._parse_all(raw, parse_event)

    async def event(self, event_ticker: str) -> KalshiEvent:
        doc = await self.request("GET", f"/events/{event_ticker}", params={"with_nested_markets": "true"})
        event = doc.get("event") if isinstance(doc, dict) else None
        if isinstance(event, dict) and "markets" not in event and isinstance(doc.get("markets"), list):
            event = {**event, "markets": doc["markets"]}
        return parse_event(event)

    async def markets_raw(
        self,
        *,
        series_ticker: str | None = None,
        event_ticker: str | None = None,
        status: str | None = None,
        tickers: Sequence[str] = (),
        min_close_ts: int | None = None,
        max_close_ts: int | None = None,
        page_size: int = 200,
    ) -> list[Any]:
        """``GET /markets`` with its filters, every page until the cursor runs out."""
        params: Params = {}
        for name, value in (("series_ticker", series_ticker), ("event_ticker", event_ticker), ("status", status)):
            if value:
                params[name] = value
        if tickers:
            params["tickers"] = ",".join(tickers)
        if min_close_ts is not None:
            params["min_close_ts"] = min_close_ts
        if max_close_ts is not None:
            params["max_close_ts"] = max_close_ts
        return await self.collect("/markets", "markets", params, page_size=page_size)

    async def markets(self, **filters: Any) -> tuple[KalshiMarket, ...]:
        return self._parse_all(await self.markets_raw(**filters), parse_market)

    async def market(self, ticker: str) -> KalshiMarket:
        doc = await self.request("GET", f"/markets/{ticker}")
        return parse_market(doc.get("market") if isinstance(doc, dict) else None)

    async def orderbook_raw(self, ticker: str, *, depth: int | None = None) -> Any:
        params: Params = {"depth": depth} if depth else {}
        return await self.request("GET", f"/markets/{ticker}/orderbook", params=params)

    async def orderbook(self, ticker: str, *, depth: int | None = None) -> Orderbook:
        return parse_orderbook(ticker, await self.orderbook_raw(ticker, depth=depth))

    async def orderbooks_raw(self, tickers: Sequence[str]) -> dict[str, Any]:
        """``GET /markets/orderbooks`` in chunks of 100: ticker -> ``{"orderbook_fp": ...}``."""
        out: dict[str, Any] = {}
        unique = list(dict.fromkeys(tickers))
        for i in range(0, len(unique), MAX_ORDERBOOKS_PER_CALL):
            chunk = unique[i : i + MAX_ORDERBOOKS_PER_CALL]
            doc = await self.request("GET", "/markets/orderbooks", params={"tickers": chunk})
            books = doc.get("orderbooks") if isinstance(doc, dict) else None
            if not isinstance(books, list):
                raise ProtocolError("kalshi GET /markets/orderbooks: 'orderbooks' missing or not an array")
            for entry in books:
                if isinstance(entry, dict) and isinstance(entry.get("ticker"), str):
                    out[entry["ticker"]] = {"orderbook_fp": entry.get("orderbook_fp")}
        return out

    async def orderbooks(self, tickers: Sequence[str]) -> dict[str, Orderbook]:
        out: dict[str, Orderbook] = {}
        for ticker, body in (await self.orderbooks_raw(tickers)).items():
            try:
                out[ticker] = parse_orderbook(ticker, body)
            except PayloadError as exc:
                self.payload_errors.append(exc)
        return out

    async def exchange_status(self) -> ExchangeStatus:
        return parse_exchange_status(await self.request("GET", "/exchange/status"))

    # -- portfolio -------------------------------------------------------------------------------------

    async def balance(self) -> Balance:
        return parse_balance(await self.request("GET", "/portfolio/balance"))

    async def positions(self, *, ticker: str | None = None, event_ticker: str | None = None) -> tuple[Position, ...]:
        params: Params = {}
        if ticker:
            params["ticker"] = ticker
        if event_ticker:
            params["event_ticker"] = event_ticker
        raw = await self.collect("/portfolio/positions", "market_positions", params)
        return self._parse_all(raw, parse_position)

    async def fills(self, *, ticker: str | None = None, order_id: str | None = None) -> tuple[Fill, ...]:
        params: Params = {}
        if ticker:
            params["ticker"] = ticker
        if order_id:
            params["order_id"] = order_id
        return self._parse_all(await self.collect("/portfolio/fills", "fills", params), parse_fill)

    async def settlements(self, *, ticker: str | None = None) -> tuple[Settlement, ...]:
        params: Params = {"ticker": ticker} if ticker else {}
        raw = await self.collect("/portfolio/settlements", "settlements", params)
        return self._parse_all(raw, parse_settlement)

    # -- orders ----------------------------------------------------------------------------------------

    async def orders(
        self,
        *,
        ticker: str | None = None,
        event_ticker: str | None = None,
        status: str | None = None,
        min_ts: int | None = None,
    ) -> tuple[Order, ...]:
        params: Params = {}
        for name, value in (("ticker", ticker), ("event_ticker", event_ticker), ("status", status)):
            if value:
                params[name] = value
        if min_ts is not None:
            params["min_ts"] = min_ts
        return self._parse_all(await self.collect("/portfolio/orders", "orders", params), parse_order)

    async def get_order(self, order_id: str) -> Order:
        doc = await self.request("GET", f"/portfolio/orders/{order_id}")
        return parse_order(doc.get("order") if isinstance(doc, dict) else None)

    async def find_order_by_client_id(
        self, ticker: str, client_order_id: str, *, min_ts: int | None = None
    ) -> Order | None:
        """The order with this ``client_order_id`` on ``ticker`` (created after ``min_ts``, unix seconds, when
        given), or None when the exchange has none."""
        for order in await self.orders(ticker=ticker, min_ts=min_ts):
            if order.client_order_id == client_order_id:
                return order
        return None

    async def create_order(self, order: OrderRequest) -> OrderAck:
        """Place one order (V2). Raises :class:`OrderOutcomeUnknownError` only when neither the create nor
        the lookups could establish whether the order exists."""
        path = "/portfolio/events/orders"
        cid = order.client_order_id
        attempt = 0
        reason = ""
        maybe_sent = False  # True once an attempt may have reached the exchange
        last_refusal: ApiError | TransportError | None = None
        started_ms = self._wall_ms()
        while attempt < self._retry.max_attempts:
            if attempt:
                self.retries += 1
                await self._sleep(self._retry.delay(attempt))
            attempt += 1
            try:
                doc = await self._send_once("POST", path, params=None, body=order.body(), write=True, cost=DEFAULT_COST)
                return parse_order_ack(doc)
            except RateLimitedError as exc:
                last_refusal = exc  # refused before processing: sending again is safe
                continue
            except TransportError as exc:
                if not exc.maybe_delivered:
                    last_refusal = exc
                    continue
                reason = str(exc)
            except ServerError as exc:
                reason = str(exc)
            except ConflictError as exc:
                if not maybe_sent:
                    raise  # nothing of ours was sent before: the caller reused a client_order_id
                reason = str(exc)  # the client_order_id exists: an earlier attempt of ours landed
            except ApiError as exc:
                if not maybe_sent:
                    raise  # refused, and no earlier attempt can have placed it
                # e.g. insufficient balance because the earlier attempt did land: only a lookup can tell
                found = await self._lookup(order, started_ms)
                if found is not None:
                    return found.ack()
                raise OrderOutcomeUnknownError(cid, f"refused after an attempt of unknown outcome: {exc}") from None
            maybe_sent = True
            log.warning("kalshi order %s: outcome unknown (%s); looking it up", cid, reason)
            found = await self._lookup(order, started_ms)
            if found is not None:
                return found.ack()
        if not maybe_sent and last_refusal is not None:
            raise last_refusal  # never reached the exchange: the outcome is known, nothing was placed
        raise OrderOutcomeUnknownError(cid, reason or "retries exhausted")

    async def _lookup(self, order: OrderRequest, since_ms: int) -> Order | None:
        min_ts = since_ms // 1000 - LOOKUP_MARGIN_S
        try:
            return await self.find_order_by_client_id(order.ticker, order.client_order_id, min_ts=min_ts)
        except (ApiError, TransportError) as exc:
            raise OrderOutcomeUnknownError(order.client_order_id, f"lookup failed: {exc}") from None

    async def cancel_order(self, order_id: str, market_ticker: str) -> CancelResult:
        """Cancel one order. ``market_ticker`` routes the cancel to the market's exchange shard; without it
        the venue looks on shard 0 only and cannot find an order on another shard (exchange_sharding.md).

        The venue may answer a successful cancel with a body describing another order (changelog
        2026-06-18); then only the cancel itself is trusted and ``reduced_by`` is None (unknown)."""
        doc = await self.request(
            "DELETE",
            f"/portfolio/events/orders/{order_id}",
            params={"market_ticker": market_ticker},
            write=True,
            cost=CANCEL_COST,
            idempotent=True,
        )
        result = parse_cancel(doc)
        if result.order_id != order_id:
            log.warning(
                "kalshi cancel %s: the response describes order %s; its counts are ignored", order_id, result.order_id
            )
            return CancelResult(order_id, "", None)
        return result

    async def batch_cancel(self, orders: Mapping[str, str]) -> tuple[CancelResult, ...]:
        """Cancel many orders, ``{order_id: market_ticker}`` (the ticker routes each to its exchange shard),
        in as few calls as the write bucket allows: a batch is billed 2 tokens per order and must fit the
        bucket whole (rate_limits.md), so a Basic account cancels 50 per call."""
        unique = list(orders.items())
        per_call = max(1, int(self._limiter.write.capacity // BATCH_CANCEL_COST_PER_ORDER))
        out: list[CancelResult] = []
        for i in range(0, len(unique), per_call):
            chunk = unique[i : i + per_call]
            body = {"orders": [{"order_id": oid, "market_ticker": ticker} for oid, ticker in chunk]}
            cost = BATCH_CANCEL_COST_PER_ORDER * len(chunk)
            doc = await self.request(
                "DELETE", "/portfolio/events/orders/batched", body=body, write=True, cost=cost, idempotent=True
            )
            items = doc.get("orders") if isinstance(doc, dict) else None
            if not isinstance(items, list):
                raise ProtocolError("kalshi batch cancel: 'orders' missing or not an array")
            out.extend(self._parse_all(items, parse_cancel))
        return tuple(out)

    # -- order groups ----------------------------------------------------------------------------------

    async def create_order_group(self, contracts_limit: int, *, exchange_index: int = 0) -> OrderGroup:
        """A group lives on one exchange shard and only takes orders of markets on that shard: pass the
        markets' ``exchange_index`` (baseball is on 3; exchange_sharding.md)."""
        if contracts_limit < 1:
            raise ValueError("an order group's contracts_limit must be at least 1")
        body = {"contracts_limit": contracts_limit, "exchange_index": exchange_index}
        doc = await self.request("POST", "/portfolio/order_groups/create", body=body, write=True)
        group = parse_order_group(doc)
        return replace(group, exchange_index=group.exchange_index if "exchange_index" in doc else exchange_index)

    async def get_order_group(self, order_group_id: str, *, exchange_index: int = 0) -> OrderGroup:
        doc = await self.request(
            "GET", f"/portfolio/order_groups/{order_group_id}", params={"exchange_index": exchange_index}
        )
        return parse_order_group(doc, order_group_id)

    async def trigger_order_group(self, order_group_id: str, *, exchange_index: int = 0) -> None:
        """Cancel every order of the group and refuse new ones until reset: the exchange-side kill switch."""
        path = f"/portfolio/order_groups/{order_group_id}/trigger"
        params: Params = {"exchange_index": exchange_index}
        await self.request("PUT", path, params=params, body={}, write=True, idempotent=True)

    async def reset_order_group(self, order_group_id: str, *, exchange_index: int = 0) -> None:
        path = f"/portfolio/order_groups/{order_group_id}/reset"
        params: Params = {"exchange_index": exchange_index}
        await self.request("PUT", path, params=params, body={}, write=True, idempotent=True)

    async def delete_order_group(self, order_group_id: str, *, exchange_index: int = 0) -> None:
        """Cancel the group's orders and remove it."""
        path = f"/portfolio/order_groups/{order_group_id}"
        params: Params = {"exchange_index": exchange_index}
        await self.request("DELETE", path, params=params, write=True, idempotent=True)
