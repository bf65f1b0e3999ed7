"""Pieces both HTTP venues share: the retry policy, and turning httpx failures and error statuses into
typed errors that carry method, path and status only (never headers, keys or query strings)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

import httpx

from engine.connectors.errors import (
    ApiError,
    AuthError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
)

NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt ``n`` waits uniformly in ``[0, min(cap, base * 2**n)]``,
    so many clients hit by the same 429 burst do not come back in lockstep."""

    max_attempts: int = 8
    base_s: float = 0.05
    cap_s: float = 2.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0.0, min(self.cap_s, self.base_s * (2**attempt)))


def transport_error(venue: str, method: str, path: str, exc: httpx.TransportError) -> TransportError:
    maybe = not isinstance(exc, NEVER_SENT)
    what = type(exc).__name__
    return TransportError(f"{venue} {method} {path}: {what}", maybe_delivered=maybe)


def error_detail(response: httpx.Response) -> str:
    """The venue's short error text from a JSON body, code first: Kalshi ``{"code", "message"}`` or
    ``{"error": ...}``, The Odds API ``{"error_code", "message"}``. Capped at 200 characters."""
    try:
        doc = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return ""
    if not isinstance(doc, dict):
        return ""
    inner = doc.get("error")
    if isinstance(inner, dict):
        doc = inner
    elif isinstance(inner, str):
        return inner[:200]
    code = doc.get("error_code") or doc.get("code") or ""
    message = doc.get("message") or ""
    text = f"{code}: {message}" if code and message else str(code or message)
    return text[:200]


def api_error(venue: str, method: str, path: str, response: httpx.Response) -> ApiError:
    status = response.status_code
    detail = error_detail(response)
    cls: type[ApiError]
    if status in (401, 403):
        cls = AuthError
    elif status == 404:
        cls = NotFoundError
    elif status == 409:
        cls = ConflictError
    elif status == 429:
        cls = RateLimitedError
    elif status >= 500:
        cls = ServerError
    else:
        cls = ApiError
    return cls(venue, method, path, status, detail)
