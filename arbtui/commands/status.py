"""``arbtui status [--json]``: what the running engine is doing, asked from another shell.

``--json`` prints the engine's status document as one object (see :mod:`engine.runtime.control_api`) for
scripts and monitoring; the default is a short human summary with the breaker's limits and the feeds as
tables. Fields a newer engine adds are shown too, so the summary never hides what the engine reports.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from arbtui.commands._control import add_target_arguments, target
from arbtui.commands._redis_status import run_from_redis
from arbtui.textable import render_table
from engine.config.settings import settings_for_command
from engine.runtime.control_client import NoEngineError, command, find_engine
from engine.runtime.control_protocol import Request

_SHOWN = frozenset(
    {
        "mode",
        "demo",
        "profile",
        "breaker",
        "feeds",
        "loop_lag_ms",
        "markets",
        "signals",
        "orders",
        "positions",
        "pnl",
        "ts",
        "started_at",
    }
)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "status",
        help="show what the running engine is doing",
        description="Ask the running engine (arbtui launch) for its status through its control socket.",
    )
    parser.add_argument("--json", action="store_true", help="print the status document as one JSON object")
    parser.add_argument("--redis", action="store_true", help="read the status the engine publishes in REDIS_URL")
    parser.add_argument("--follow", action="store_true", help="with --redis: print each status as it is published")
    add_target_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.redis or args.follow:
        return run_from_redis(args, render_status)
    data_dir = target(args)
    try:
        pid = find_engine(data_dir).pid
    except NoEngineError:
        fallback = settings_for_command(args.env_file).redis_url  # no local engine: follow it through Redis
        if fallback:
            return run_from_redis(args, render_status, fallback)
        raise
    status = command(data_dir, Request("status"))
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        print(render_status(status, data_dir, pid))
    return 0


def render_status(status: Mapping[str, Any], data_dir: Path, pid: int) -> str:
    """The human summary: one line per section, then the breaker's limits and the feeds as tables."""
    mode = str(status.get("mode", "?"))
    if status.get("demo") is True:
        mode += " (demo)"
    since = f", since {status['started_at']}" if status.get("started_at") else ""
    breaker = _mapping(status.get("breaker"))
    state = str(breaker.get("state", "?"))
    reason = str(breaker.get("reason") or "")
    signals = _mapping(status.get("signals"))
    kinds = _mapping(signals.get("by_kind"))
    by_kind = f" ({_pairs(kinds)})" if kinds else ""
    lag = _mapping(status.get("loop_lag_ms"))
    positions = _mapping(status.get("positions"))
    legged = _legged(breaker.get("legged")) or _legged(positions.get("legged"))
    rows = [
        ("engine", f"PID {pid}{since}; data {data_dir}"),
        ("mode", mode),
        ("profile", str(status.get("profile", "?"))),
        ("breaker", state + (f": {reason}" if reason else "")),
        *(("legged", line) for line in legged),
        ("loop lag", f"p50 {lag.get('p50', '?')} ms, p99 {lag.get('p99', '?')} ms"),
        ("markets", _pairs(_mapping(status.get("markets")))),
        ("signals", f"{signals.get('live', '?')} live{by_kind}"),
        ("orders", _pairs(_mapping(status.get("orders")))),
        (
            "positions",
            f"{positions.get('count', '?')}, exposure {positions.get('exposure', '?')}"
            + (f", {len(legged)} legged" if legged else ""),
        ),
        ("pnl", _pairs(_mapping(status.get("pnl")))),
    ]
    rows.extend((key, _text(value)) for key, value in status.items() if key not in _SHOWN)
    width = max(len(k) for k, _ in rows)
    out = [f"{k.ljust(width)}  {v}" for k, v in rows]
    limits = _mapping(breaker.get("limits"))
    if limits:
        table = [
            (name, str(_mapping(v).get("used", "")), str(_mapping(v).get("limit", ""))) for name, v in limits.items()
        ]
        out += ["", render_table(("LIMIT", "USED", "OF"), table, right=frozenset({1, 2}))]
    feeds = _mapping(status.get("feeds"))
    if feeds:
        out += [
            "",
            render_table(("FEED", "STATE", "AGE", "DETAIL"), [_feed_row(n, _mapping(f)) for n, f in feeds.items()]),
        ]
    return "\n".join(out)


def _legged(value: object) -> list[str]:
    """One line per LEGGED event: the event, then each leg with what it holds (``flat`` when nothing)."""
    lines = []
    for item in value if isinstance(value, list) else []:
        entry = _mapping(item)
        legs = []
        for leg in entry.get("legs") or []:
            held = _mapping(leg)
            side, count = held.get("side"), held.get("count", 0)
            legs.append(f"{held.get('ticker', '?')} " + (f"{count} {str(side).upper()}" if side and count else "flat"))
        lines.append(f"{entry.get('event', '?')} LEGGED: " + ("; ".join(legs) if legs else "legs unknown"))
    return lines


def _feed_row(name: str, feed: Mapping[str, Any]) -> tuple[str, str, str, str]:
    age = feed.get("age_s")
    age_text = "never" if age is None else (f"{age:.1f} s" if isinstance(age, int | float) else str(age))
    rest = {k: v for k, v in feed.items() if k not in {"state", "age_s"}}
    return name, str(feed.get("state", "?")), age_text, _pairs(rest)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _pairs(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {_text(v)}" for k, v in values.items())


def _text(value: object) -> str:
    if isinstance(value, Mapping):
        return _pairs(value) if value else "none"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) if value else "none"
    return "-" if value is None else str(value)
