"""Typed connector errors. Messages name the venue, method, path and status; never a key, a signature or
full headers, so any of them can be logged as-is.
"""

from __future__ import annotations

from engine.errors import ArbError


class ConnectorError(ArbError):
    """Base for every failure talking to a venue."""


class KeyFileError(ConnectorError):
    """The Kalshi private key file is missing, unreadable, not a PEM RSA key, or readable by others."""


class TransportError(ConnectorError):
    """The request could not be completed at the network level (refused, reset, timed out).

    ``maybe_delivered`` is False only when the request certainly never reached the server (connection
    refused, connect timeout); otherwise the server may have processed it.
    """

    def __init__(self, message: str, *, maybe_delivered: bool) -> None:
        self.maybe_delivered = maybe_delivered
        super().__init__(message)


class ApiError(ConnectorError):
    """The venue answered with an error status. ``detail`` is the venue's short error text, if any."""

    def __init__(self, venue: str, method: str, path: str, status: int, detail: str = "") -> None:
        self.venue = venue
        self.method = method
        self.path = path
        self.status = status
        self.detail = detail
        suffix = f": {detail}" if detail else ""
        super().__init__(f"{venue} {method} {path} -> HTTP {status}{suffix}")


class AuthError(ApiError):
    """401/403: the key or signature was refused (or, for The Odds API, the key or quota)."""


class NotFoundError(ApiError):
    """404: the object does not exist."""


class ConflictError(ApiError):
    """409: e.g. an order with this ``client_order_id`` already exists."""


class RateLimitedError(ApiError):
    """429 after every retry was spent."""


class ServerError(ApiError):
    """5xx after every retry was spent."""


class OrderOutcomeUnknownError(ConnectorError):
    """An order write failed in a way that may or may not have placed it, and the lookup by
    ``client_order_id`` could not settle the question. The caller must not re-send blindly."""

    def __init__(self, client_order_id: str, reason: str) -> None:
        self.client_order_id = client_order_id
        self.reason = reason
        super().__init__(f"kalshi order {client_order_id}: outcome unknown ({reason})")


class QuotaExceededError(ConnectorError):
    """An Odds API call would spend more credits than the budget (or the venue) has left."""


class ProtocolError(ConnectorError):
    """A venue message is not what the protocol promises (bad JSON, wrong shape)."""
