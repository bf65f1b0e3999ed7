"""The kill switch's three verbs, with the exchange calls they need.

``halt``: no new entries; resting orders stay. ``kill``: halt, then trigger the order group of every shard
in use (the exchange itself cancels their orders and refuses more fills, even if this process dies next),
then cancel every order the exchange still lists as resting, ours in the store or not. ``resume``: back to
ACTIVE with new order groups. The breaker transitions are :mod:`engine.risk`'s; this module carries them out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from engine.connectors.errors import ApiError, TransportError
from engine.connectors.kalshi.rest import KalshiRestClient
from engine.execution.groups import GroupTrigger, OrderGroups
from engine.execution.manager import OrderManager
from engine.execution.model import AuditEvent, AuditKind, OrderState

log = logging.getLogger(__name__)


class BreakerControl(Protocol):
    """The breaker's operator transitions; each persists the new state before returning."""

    async def halt(self, reason: str, now: datetime) -> None: ...

    async def kill(self, reason: str, now: datetime) -> None: ...

    async def resume(self, now: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class KillReport:
    """What ``kill`` did: groups triggered per shard, orders cancelled, and anything that failed."""

    triggered: tuple[GroupTrigger, ...] = ()
    cancelled: tuple[str, ...] = ()
    errors: tuple[str, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        return not self.errors and all(not t.error for t in self.triggered)


class KillSwitch:
    """``rest`` and ``groups`` are None in paper mode, where nothing rests at an exchange."""

    def __init__(
        self,
        manager: OrderManager,
        breaker: BreakerControl,
        now: Callable[[], datetime],
        rest: KalshiRestClient | None = None,
        groups: OrderGroups | None = None,
        shards: frozenset[int] = frozenset(),
    ) -> None:
        self._manager = manager
        self._breaker = breaker
        self._now = now
        self._rest = rest
        self._groups = groups
        self._shards = shards
        """Shards to close on kill even if no order was sent there yet (the markets being watched)."""

    async def _audit(self, kind: AuditKind, data: dict[str, object]) -> None:
        await self._manager.store.append_audit(AuditEvent(self._now(), kind, None, dict(data)))

    async def halt(self, reason: str) -> None:
        await self._breaker.halt(reason, self._now())
        await self._audit(AuditKind.HALT, {"reason": reason})

    async def kill(self, reason: str) -> KillReport:
        await self._breaker.kill(reason, self._now())  # HALTED first: nothing new leaves while we cancel
        triggered: tuple[GroupTrigger, ...] = ()
        cancelled: list[str] = []
        errors: list[str] = []
        if self._groups is not None:
            triggered = tuple(await self._groups.trigger_all(self._shards))
        if self._rest is not None:
            try:
                resting = await self._rest.orders(status="resting")
                if resting:
                    results = await self._rest.batch_cancel({o.order_id: o.ticker for o in resting})
                    for result in results:
                        if result.error:
                            errors.append(f"cancel {result.order_id}: {result.error}")
                        else:
                            cancelled.append(result.order_id)
            except (ApiError, TransportError) as exc:
                errors.append(f"cancel resting orders: {exc}")
        for record in await self._manager.store.orders(states=(OrderState.ACKED, OrderState.PARTIAL)):
            try:
                await self._manager.resolve(record)
            except (ApiError, TransportError) as exc:
                errors.append(f"resolve {record.client_order_id}: {exc}")
        report = KillReport(triggered, tuple(cancelled), tuple(errors))
        await self._audit(
            AuditKind.KILL,
            {
                "reason": reason,
                "groups": [{"exchange_index": t.exchange_index, "order_group_id": t.order_group_id, "error": t.error}
                           for t in triggered],
                "cancelled": list(cancelled),
                "errors": list(errors),
            },
        )  # fmt: skip
        if not report.complete:
            log.error("kill incomplete: %s", "; ".join(errors + [t.error for t in triggered if t.error]))
        return report

    async def resume(self) -> dict[int, str]:
        """ACTIVE again; the shards that had groups get new ones (the triggered ones are deleted)."""
        await self._breaker.resume(self._now())
        groups = {} if self._groups is None else await self._groups.renew()
        await self._audit(AuditKind.RESUME, {"order_groups": {str(k): v for k, v in groups.items()}})
        return groups
