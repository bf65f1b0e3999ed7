"""One Kalshi order group per exchange shard in use: the exchange-side half of the kill switch.

Every live order is placed inside the current group of its market's shard (a group lives on one shard and
only takes that shard's orders, exchange_sharding.md). Triggering a group makes the exchange itself cancel
its resting orders and refuse new ones until reset, so ``kill`` holds even if this process dies right after.
``resume`` does not reset old groups: it starts new ones, so nothing from before the kill can come back.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from engine.connectors.errors import ApiError, NotFoundError, TransportError
from engine.connectors.kalshi.rest import KalshiRestClient

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GroupTrigger:
    """What ``trigger_all`` did on one shard: the group and, if the trigger failed, why."""

    exchange_index: int
    order_group_id: str
    error: str = ""


class OrderGroups:
    """Creates each shard's group on first use, with ``contracts_limit`` (the most that may fill in the
    exchange's rolling window before it triggers by itself)."""

    def __init__(self, rest: KalshiRestClient, contracts_limit: int) -> None:
        if contracts_limit < 1:
            raise ValueError("an order group's contracts limit must be at least 1")
        self._rest = rest
        self.contracts_limit = contracts_limit
        self._groups: dict[int, str] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    @property
    def current(self) -> dict[int, str]:
        """Shard -> the group new orders on it go into."""
        return dict(self._groups)

    async def group_for(self, exchange_index: int) -> str:
        known = self._groups.get(exchange_index)
        if known is not None:
            return known
        lock = self._locks.setdefault(exchange_index, asyncio.Lock())
        async with lock:
            known = self._groups.get(exchange_index)
            if known is None:
                group = await self._rest.create_order_group(self.contracts_limit, exchange_index=exchange_index)
                known = self._groups[exchange_index] = group.order_group_id
                log.info("order group %s created on shard %d", known, exchange_index)
            return known

    async def trigger_all(self, shards: set[int] | frozenset[int] = frozenset()) -> list[GroupTrigger]:
        """Trigger the group of every shard in use (creating one on each of ``shards`` that has none, so a
        shard the process has not traded yet is closed too). A failure on one shard does not stop the rest;
        it is reported in the result."""
        for shard in sorted(set(shards) - set(self._groups)):
            try:
                await self.group_for(shard)
            except (ApiError, TransportError) as exc:
                log.error("order group for shard %d could not be created: %s", shard, exc)
        out: list[GroupTrigger] = []
        for shard, group_id in sorted(self._groups.items()):
            try:
                await self._rest.trigger_order_group(group_id, exchange_index=shard)
                out.append(GroupTrigger(shard, group_id))
            except (ApiError, TransportError) as exc:
                out.append(GroupTrigger(shard, group_id, str(exc)))
        return out

    async def renew(self) -> dict[int, str]:
        """New groups on every shard in use (after ``resume``); the triggered ones are deleted, best effort."""
        old = dict(self._groups)
        self._groups.clear()
        for shard, group_id in old.items():
            try:
                await self._rest.delete_order_group(group_id, exchange_index=shard)
            except NotFoundError:
                pass
            except (ApiError, TransportError) as exc:
                log.warning("old order group %s on shard %d not deleted: %s", group_id, shard, exc)
        for shard in sorted(old):
            await self.group_for(shard)
        return dict(self._groups)
