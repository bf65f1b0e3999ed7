"""A small time-to-live cache of Odds API responses keyed by request (path + sorted parameters, never the
key), so repeated polls inside the TTL spend no credits. Pure: ``now`` is a parameter."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

CacheKey = tuple[str, tuple[tuple[str, str], ...]]


def cache_key(path: str, params: Mapping[str, str]) -> CacheKey:
    return path, tuple(sorted((k, v) for k, v in params.items() if k != "apiKey"))


class ResponseCache:
    def __init__(self, max_entries: int = 256) -> None:
        self._entries: OrderedDict[CacheKey, tuple[float, Any]] = OrderedDict()
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def get(self, key: CacheKey, now: float) -> Any | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[1]

    def put(self, key: CacheKey, value: Any, now: float, ttl_s: float) -> None:
        if ttl_s <= 0:
            return
        self._entries[key] = (now + ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
