"""Hand-offs that never make the producer wait: a bounded queue that drops its oldest item, and a
latest-value slot that keeps only the newest.

Detection must never stall because a consumer (the order path, the log writer, a dashboard, a viewer) is
slow. Whatever such a consumer misses is counted, and the counts are in the engine's snapshot.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class DropQueue(Generic[T]):
    """A FIFO of at most ``maxsize`` items; ``put`` never blocks: when full, the oldest item is dropped."""

    def __init__(self, name: str, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("a queue must hold at least one item")
        self.name = name
        self._items: deque[T] = deque()
        self._maxsize = maxsize
        self._ready = asyncio.Event()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T) -> None:
        if len(self._items) >= self._maxsize:
            self._items.popleft()
            self.dropped += 1
        self._items.append(item)
        self._ready.set()

    def get_nowait(self) -> T | None:
        if not self._items:
            return None
        item = self._items.popleft()
        if not self._items:
            self._ready.clear()
        return item

    async def get(self) -> T:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        item = self._items.popleft()
        if not self._items:
            self._ready.clear()
        return item


class LatestSlot(Generic[T]):
    """Only the newest value; a value replaced before anyone read it is counted in ``overwritten``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._value: T | None = None
        self._unread = False
        self._ready = asyncio.Event()
        self.overwritten = 0

    def put(self, value: T) -> None:
        if self._unread:
            self.overwritten += 1
        self._value = value
        self._unread = True
        self._ready.set()

    def peek(self) -> T | None:
        return self._value

    async def get(self) -> T:
        """Wait for a value not read yet, and read it."""
        while not self._unread:
            self._ready.clear()
            await self._ready.wait()
        self._unread = False
        self._ready.clear()
        assert self._value is not None
        return self._value


K = TypeVar("K")


class KeyedLatest(Generic[K, T]):
    """The newest value per key, oldest key first; a value replaced before it was taken is counted in
    ``overwritten`` (the consumer only ever acts on the newest state of each key)."""

    def __init__(self, name: str, max_keys: int = 10_000) -> None:
        self.name = name
        self._items: dict[K, T] = {}
        self._max_keys = max_keys
        self._ready = asyncio.Event()
        self.overwritten = 0
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, key: K, value: T) -> None:
        if key in self._items:
            self.overwritten += 1
            del self._items[key]  # re-inserted last: it is the newest news
        elif len(self._items) >= self._max_keys:
            del self._items[next(iter(self._items))]
            self.dropped += 1
        self._items[key] = value
        self._ready.set()

    def discard(self, key: K) -> None:
        self._items.pop(key, None)

    def take_nowait(self) -> tuple[K, T] | None:
        if not self._items:
            self._ready.clear()
            return None
        key = next(iter(self._items))
        return key, self._items.pop(key)

    async def take(self) -> tuple[K, T]:
        while True:
            item = self.take_nowait()
            if item is not None:
                return item
            await self._ready.wait()
