"""What an executor returns, and the one interface the order manager sends through (paper or live).

An :class:`Execution` is the exchange's answer to one order as far as it is known when ``execute``
returns: its id there, its fills so far, and the state those imply. The manager turns it into state
changes in the store; it never needs to know which executor produced it, which is what lets paper and
live be compared fill for fill on the same book.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from engine.execution.model import FillRecord, Mode, OrderIntent, OrderRecord, OrderState


@dataclass(frozen=True, slots=True)
class Execution:
    """``state`` is where the order stands: ACKED (resting), FILLED, CANCELLED (the unfilled rest of an
    IOC/FOK), REJECTED (refused, nothing placed) or UNKNOWN (may or may not be at the exchange)."""

    client_order_id: str
    state: OrderState
    exchange_order_id: str | None = None
    fills: tuple[FillRecord, ...] = ()
    reason: str = ""

    @property
    def filled(self) -> int:
        return sum(f.count for f in self.fills)


class Executor(Protocol):
    """Places orders somewhere and can tell, later, what became of one."""

    mode: Mode

    async def execute(self, intent: OrderIntent) -> Execution:
        """Send one order; never raises for an exchange refusal or an uncertain outcome (those are states)."""
        ...

    async def resolve(self, record: OrderRecord) -> Execution:
        """What the venue knows of an order the process lost track of (SENT or UNKNOWN), by client id."""
        ...

    async def cancel(self, record: OrderRecord) -> Execution:
        """Cancel a resting order; the answer carries any fills that happened before the cancel."""
        ...
