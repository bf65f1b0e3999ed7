"""``arbtui status --redis [--follow]``: the engine's status as it publishes it in Redis, for a shell on
another machine (or when the local control socket does not answer and ``REDIS_URL`` is set).

One-shot reads the status key; ``--follow`` subscribes to the status channel and prints each status as it
arrives (one JSON object per line with ``--json``) until interrupted. Read-only: commands that change the
engine (halt, kill, resume, profile) go through its control socket only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from engine.config.settings import settings_for_command
from engine.errors import ArbError


def redis_url(args: argparse.Namespace) -> str:
    url = settings_for_command(args.env_file).redis_url
    if not url:
        raise ArbError("--redis needs REDIS_URL (in the environment or the --env-file)")
    return url


def show(doc: Mapping[str, Any], url: str, as_json: bool, render: Callable[[Mapping[str, Any], Path, int], str]) -> str:
    """One status document from Redis as ``status`` prints it, with where it came from."""
    from engine.cache.redis_cache import redact  # the Redis client only for a command that reads Redis

    if as_json:
        return json.dumps(doc["status"])
    found = doc.get("engine")
    engine: Mapping[str, Any] = found if isinstance(found, dict) else {}
    pid_value = engine.get("pid")
    pid = pid_value if isinstance(pid_value, int) else 0
    text = render(doc["status"], Path(str(engine.get("data_dir", "?"))), pid)
    return f"{text}\n\nvia Redis {redact(url)}: published {doc.get('ts', '?')} by host {engine.get('host', '?')}"


def run_from_redis(
    args: argparse.Namespace, render: Callable[[Mapping[str, Any], Path, int], str], url: str | None = None
) -> int:
    from engine.cache.redis_cache import follow_status, read_status

    url = url or redis_url(args)
    if not getattr(args, "follow", False):
        print(show(asyncio.run(read_status(url)), url, args.json, render))
        return 0

    async def follow() -> None:
        async for doc in follow_status(url):
            print(show(doc, url, args.json, render), flush=True)

    asyncio.run(follow())
    return 0
