"""Helpers for the connector tests: real clients pointed at the simulator, with fast retries."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

from engine.connectors.http import RetryPolicy
from engine.connectors.kalshi.ratelimit import AsyncRateLimiter
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.connectors.kalshi.signing import KalshiSigner
from engine.connectors.kalshi.ws import Backoff, KalshiWebSocket
from engine.connectors.odds_api.client import OddsApiClient
from engine.connectors.odds_api.quota import QuotaBudget

FAST_RETRY = RetryPolicy(max_attempts=8, base_s=0.01, cap_s=0.1, rng=random.Random(7))


def signer_for(sim: Any) -> KalshiSigner:
    return KalshiSigner.from_file(sim.key_id, sim.private_key_path)


def kalshi_client(sim: Any, **kwargs: Any) -> KalshiRestClient:
    kwargs.setdefault("retry", FAST_RETRY)
    kwargs.setdefault("limiter", AsyncRateLimiter.for_tier("basic"))
    kwargs.setdefault("timeout_s", 5.0)
    kwargs.setdefault("wall_ms", sim.clock.ms)
    return KalshiRestClient(sim.kalshi_url, kwargs.pop("signer", None) or signer_for(sim), **kwargs)


def kalshi_ws(sim: Any, **kwargs: Any) -> KalshiWebSocket:
    kwargs.setdefault("backoff", Backoff(base_s=0.02, cap_s=0.2, rng=random.Random(3)))
    kwargs.setdefault("resync_timeout_s", 0.5)
    kwargs.setdefault("wall_ms", sim.clock.ms)
    return KalshiWebSocket(sim.ws_url, signer_for(sim), **kwargs)


def odds_client(sim: Any, daily_credits: int = 500, **kwargs: Any) -> OddsApiClient:
    kwargs.setdefault("retry", FAST_RETRY)
    kwargs.setdefault("now", sim.clock.now)
    return OddsApiClient(sim.odds_url, kwargs.pop("api_key", sim.odds_api_key), QuotaBudget(daily_credits), **kwargs)


async def eventually(predicate: Callable[[], bool], timeout_s: float = 5.0, interval_s: float = 0.02) -> None:
    """Wait for a condition that depends on time passing (e.g. staleness), bounded by ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(interval_s)


def game_in(sim: Any, league: str) -> Any:
    """A game of ``league`` on the simulator's board: tests choose by the fact they need, never by position."""
    for game in sim.board.games:
        if game.league == league:
            return game
    raise AssertionError(f"the simulator board has no {league} game")
