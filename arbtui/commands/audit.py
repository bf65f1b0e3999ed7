"""``arbtui audit``: the audit log, so an operator can answer "why did it buy this?" a week later.

Reads the store the engine writes (``--db``, else ``DATABASE_URL``, else the user's data directory) and never
creates one: a missing file is one line saying where it looked. ``--json`` prints one object per line with
``ts`` (ISO 8601 UTC), ``kind``, ``ticker`` when the event has one, and the event's recorded fields.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.config.settings import settings_for_command
from engine.execution.model import AuditEvent, AuditKind
from engine.store import StoreError, StoreLocation, open_store, resolve_location

_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "audit",
        help="print the audit log: signals, breaker decisions, orders, fills, halts and reconciliations",
        description="Print what the engine decided and did, oldest first, with the inputs behind each step. "
        "The store is --db, else DATABASE_URL, else $XDG_DATA_HOME/arbtui/arbtui.db.",
    )
    parser.add_argument(
        "--since",
        type=_since_arg,
        help="only events at or after WHEN: ISO 8601 (a time without zone is UTC) or an age like 30m, 12h, 7d",
    )
    parser.add_argument("--market", metavar="TICKER", help="only events on this Kalshi market ticker")
    parser.add_argument(
        "--kind",
        action="append",
        choices=[k.value for k in AuditKind],
        help="only events of this kind (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    parser.add_argument("--db", metavar="PATH", help="store file to read (overrides DATABASE_URL)")
    parser.add_argument("--env-file", help="settings file to read; must exist (default: ./.env if present)")
    parser.set_defaults(func=run)


def parse_since(text: str, now: datetime) -> datetime:
    """``--since`` as an aware UTC datetime: an age before ``now`` (``90m``, ``7d``) or an ISO 8601 time."""
    value = text.strip()
    relative = _RELATIVE.match(value.lower())
    if relative:
        return now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is neither an ISO 8601 time nor an age like 30m, 12h, 7d") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _since_arg(text: str) -> datetime:
    try:
        return parse_since(text, datetime.now(UTC))
    except (ValueError, OverflowError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def locate(db: str | None, env_file: str | None, env: Mapping[str, str]) -> StoreLocation:
    """``--db`` wins; otherwise the settings' ``DATABASE_URL`` (read only when needed)."""
    if db is not None:
        if not db.strip():
            raise StoreError("--db is empty; give the store file's path")
        return StoreLocation(Path(db).expanduser(), "--db")
    return resolve_location(settings_for_command(env_file).database_url, env)


def event_json(event: AuditEvent) -> dict[str, Any]:
    """The ``--json`` object: ``ts``, ``kind``, ``ticker`` (when there is one), then the recorded fields."""
    head: dict[str, Any] = {"ts": event.ts.astimezone(UTC).strftime(_TS_FORMAT), "kind": event.kind.value}
    if event.ticker is not None:
        head["ticker"] = event.ticker
    return {**head, **{k: v for k, v in event.data.items() if k not in head}}


def _compact(data: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in data.items())


def summary(event: AuditEvent) -> str:
    """One human line per event; the full inputs are in ``--json``."""
    d = event.data
    g = d.get
    if event.kind is AuditKind.DECISION:
        verdict = "allowed" if g("allowed") else "REJECTED"
        return f"{verdict} {g('rule', '')}: {g('detail', '')}"
    if event.kind is AuditKind.ORDER:
        return (
            f"{g('client_order_id')} {g('action')} {g('count')} {g('side')} @ {g('limit_price')} "
            f"{g('time_in_force', '')} {g('mode')}"
        ).replace("  ", " ")
    if event.kind is AuditKind.ORDER_STATE:
        line = f"{g('client_order_id')} {g('previous', '?')} -> {g('state')} filled {g('filled_count', '?')}"
        return f"{line} ({g('reason')})" if g("reason") else line
    if event.kind is AuditKind.FILL:
        return (
            f"{g('client_order_id')} {g('action', '')} {g('count')} {g('side', '')} @ {g('price')} fee {g('fee')}"
        ).replace("  ", " ")
    if event.kind is AuditKind.SETTLEMENT:
        return f"settled at {g('value')} revenue {g('revenue', '0')}"
    if event.kind is AuditKind.PROFILE:
        overrides = g("overrides") or {}
        return f"profile {g('profile')}" + (f" overrides {_compact(overrides)}" if overrides else "")
    return _compact(d)


def render_text(events: list[AuditEvent]) -> str:
    lines = []
    for event in events:
        ts = event.ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
        lines.append(f"{ts}  {event.kind.value:<11}  {event.ticker or '-':<30}  {summary(event)}")
    return "\n".join(lines)


async def read_events(
    location: StoreLocation, since: datetime | None, ticker: str | None, kinds: list[AuditKind] | None
) -> list[AuditEvent]:
    if location.in_memory:
        raise StoreError("DATABASE_URL is an in-memory database; nothing outlives the engine to audit")
    path = Path(location.path)
    if not location.is_server and not path.exists():  # a server: opening it says whether it is there
        raise StoreError(f"no store at {path} (from {location.source}); nothing has been recorded there")
    if not location.is_server and not path.is_file():
        raise StoreError(f"{path} (from {location.source}) is not a file")
    store = await open_store(location)
    try:
        return await store.audit(since=since, ticker=ticker, kinds=kinds)
    finally:
        await store.close()


def run(args: argparse.Namespace) -> int:
    location = locate(args.db, args.env_file, os.environ)
    kinds = [AuditKind(k) for k in args.kind] if args.kind else None
    events = asyncio.run(read_events(location, args.since, args.market, kinds))
    if args.json:
        for event in events:
            sys.stdout.write(json.dumps(event_json(event), separators=(",", ":")) + "\n")
    elif events:
        print(render_text(events))
    else:
        print(f"audit: no events in {location.path}", file=sys.stderr)
    return 0
