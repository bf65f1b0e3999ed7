"""The control socket's wire format: one JSON object per line each way, every message carrying a version.

Line-delimited JSON is readable with ``socat`` when debugging and needs no framing library. The version is
checked on both sides so an old CLI talking to a newer engine (or the reverse) fails with one line naming both
versions instead of misreading a field. Pure: bytes in, typed values or a :class:`ControlProtocolError` out.

Request:  ``{"version": 1, "command": "halt", "args": {"reason": "..."}}``
Response: ``{"version": 1, "ok": true, "status": {...}}`` or ``{"version": 1, "ok": false, "error": "..."}``

``dashboard`` (for ``arbtui attach``) is answered with the status and the full dashboard snapshot
(``{"ok": true, "status": {...}, "dashboard": {...}}``); being the one large answer, it may be up to
``MAX_DASHBOARD_LINE`` bytes, and only a reader that asked for a dashboard accepts that much. It carries
rows only; ``detail`` (``{"command": "detail", "args": {"key": "edge|TICKER|yes"}}``) is answered with the
one signal's ``SignalDetail.to_json()`` (``{"ok": true, "status": {...}, "detail": {...}}``), without
``detail`` when that signal is no longer live.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from engine.errors import ArbError

PROTOCOL_VERSION = 1
MAX_LINE = 1 << 20
"""Bytes in one message; a status document is a few kilobytes, so anything near this is not ours."""
MAX_DASHBOARD_LINE = 16 << 20
"""Bytes in a ``dashboard`` answer: every live signal with its books, ladder and audit trail."""

COMMAND_ARGS: Mapping[str, tuple[str, ...]] = {
    "status": (),
    "halt": ("reason",),
    "kill": ("reason",),
    "resume": (),
    "profile": ("name",),
    "dashboard": (),
    "detail": ("key",),
}
"""Each command and the string arguments it requires (no others are accepted)."""


class ControlProtocolError(ArbError):
    """A message that is not a valid control request or response; the text says what is wrong."""


@dataclass(frozen=True, slots=True)
class Request:
    command: str
    args: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Response:
    """``ok`` with the engine's ``status`` after the command, or not ``ok`` with one line in ``error``;
    a ``dashboard`` request's answer also carries the ``DashboardSnapshot.to_json()`` document, a ``detail``
    request's the ``SignalDetail.to_json()`` one (absent: the signal is not live)."""

    ok: bool
    status: Mapping[str, Any] | None = None
    error: str = ""
    dashboard: Mapping[str, Any] | None = None
    detail: Mapping[str, Any] | None = None


def encode_request(request: Request) -> bytes:
    _check_request(request.command, request.args)
    doc = {"version": PROTOCOL_VERSION, "command": request.command, "args": dict(request.args)}
    return _line(doc)


def decode_request(line: bytes) -> Request:
    doc = _object(line, "request")
    command = doc.get("command")
    if not isinstance(command, str):
        raise ControlProtocolError("request: field 'command' must be a string")
    args = doc.get("args", {})
    if not isinstance(args, dict):
        raise ControlProtocolError("request: field 'args' must be an object")
    _check_request(command, args)
    return Request(command, dict(args))


def encode_response(response: Response) -> bytes:
    doc: dict[str, Any] = {"version": PROTOCOL_VERSION, "ok": response.ok}
    if response.ok:
        doc["status"] = response.status
        if response.dashboard is not None:
            doc["dashboard"] = response.dashboard
        if response.detail is not None:
            doc["detail"] = response.detail
    else:
        doc["error"] = response.error
    return _line(doc, MAX_LINE if response.dashboard is None else MAX_DASHBOARD_LINE)


def decode_response(line: bytes, *, limit: int = MAX_LINE) -> Response:
    doc = _object(line, "response", limit)
    ok = doc.get("ok")
    if not isinstance(ok, bool):
        raise ControlProtocolError("response: field 'ok' must be true or false")
    if not ok:
        error = doc.get("error")
        if not isinstance(error, str) or not error:
            raise ControlProtocolError("response: a refusal must carry a non-empty 'error' string")
        return Response(False, error=error)
    status = doc.get("status")
    if not isinstance(status, dict):
        raise ControlProtocolError("response: field 'status' must be an object")
    dashboard = doc.get("dashboard")
    if dashboard is not None and not isinstance(dashboard, dict):
        raise ControlProtocolError("response: field 'dashboard' must be an object")
    detail = doc.get("detail")
    if detail is not None and not isinstance(detail, dict):
        raise ControlProtocolError("response: field 'detail' must be an object")
    return Response(True, status=status, dashboard=dashboard, detail=detail)


def to_wire(value: Any) -> Any:
    """``value`` with Decimals as strings, times as ISO 8601, enums as their value, tuples as lists: what a
    status document may hold, in a form ``json`` writes exactly (money never passes through a float)."""
    if isinstance(value, Mapping):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [to_wire(v) for v in items]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return to_wire(value.value)
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ControlProtocolError(f"status: a {type(value).__name__} value cannot be sent as JSON")


def _check_request(command: str, args: Mapping[str, object]) -> None:
    required = COMMAND_ARGS.get(command)
    if required is None:
        known = ", ".join(COMMAND_ARGS)
        raise ControlProtocolError(f"unknown control command {command!r}; known: {known}")
    extra = sorted(set(args) - set(required))
    if extra:
        raise ControlProtocolError(f"{command}: unexpected argument(s) {', '.join(extra)}")
    for name in required:
        value = args.get(name)
        if not isinstance(value, str) or not value.strip():
            raise ControlProtocolError(f"{command}: argument {name!r} must be a non-empty string")


def _line(doc: Mapping[str, Any], limit: int = MAX_LINE) -> bytes:
    try:
        data = json.dumps(to_wire(doc), separators=(",", ":"), allow_nan=False).encode() + b"\n"
    except ValueError as exc:  # a NaN or an infinity: JSON has no spelling for it
        raise ControlProtocolError(f"message cannot be sent as JSON: {exc}") from None
    if len(data) > limit:
        raise ControlProtocolError(f"message of {len(data)} bytes exceeds the {limit}-byte limit")
    return data


def _object(line: bytes, what: str, limit: int = MAX_LINE) -> dict[str, Any]:
    if len(line) > limit:
        raise ControlProtocolError(f"{what} of {len(line)} bytes exceeds the {limit}-byte limit")
    try:
        doc = json.loads(line, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ControlProtocolError(f"{what} is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ControlProtocolError(f"{what} must be a JSON object")
    version = doc.get("version")
    if version != PROTOCOL_VERSION:
        raise ControlProtocolError(
            f"{what} speaks control protocol {version!r}; this side speaks {PROTOCOL_VERSION} "
            "(run the same arbtui version for the engine and the command)"
        )
    return doc


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")
