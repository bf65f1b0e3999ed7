"""Helpers both venue servers share: JSON error bodies, query parsing and the fault middleware."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web

from engine.sim.faults import Faults
from engine.sim.pagination import CursorError, page

T = TypeVar("T")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadQuery(Exception):
    """A query parameter the endpoint cannot accept; answered with 400."""


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message, "details": ""}, status=status)


def paged_json(
    request: web.Request, items: Sequence[T], limit: int, body: Callable[[list[T]], dict[str, Any]]
) -> web.Response:
    """One page of ``items`` from the request's cursor, as ``body(page)`` plus the next ``cursor``."""
    try:
        chunk, cursor = page(items, request.query.get("cursor", ""), limit)
    except CursorError as exc:
        return error(400, "bad_request", str(exc))
    return web.json_response({**body(chunk), "cursor": cursor})


def query_int(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadQuery(f"{name} must be an integer, got {raw[:40]!r}") from None
    if value < lo or value > hi:
        raise BadQuery(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def query_bool(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "").lower()
    if raw in ("", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise BadQuery(f"{name} must be true or false, got {raw[:40]!r}")


def query_list(request: web.Request, name: str) -> list[str]:
    """Both ``tickers=A,B`` and ``tickers=A&tickers=B`` (the orderbooks endpoint explodes its array)."""
    out: list[str] = []
    for raw in request.query.getall(name, []):
        out.extend(t.strip() for t in raw.split(",") if t.strip())
    return out


def fault_middleware(faults: Faults, too_many: Callable[[], web.Response]) -> Any:
    """Latency first, then an injected 503 or 429, before the request reaches its handler."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if faults.latency_s > 0:
            await asyncio.sleep(faults.latency_s)
        if faults.take_5xx():
            return error(503, "service_unavailable", "injected fault: service unavailable")
        if faults.take_429():
            return too_many()
        try:
            return await handler(request)
        except BadQuery as exc:
            return error(400, "bad_request", str(exc))

    return middleware
