"""Waiting and stopping for the engine's long-running tasks, without losing a cancel.

Python 3.11's ``asyncio.wait_for`` returns the inner result when a cancel lands in the same turn as the
thing it waits for completes: the cancel is lost and a ``while True`` loop goes round again. A feed loop
that waited on its wake event that way could outlive ``LiveFeeds.stop`` (the event set by a book update
as the stop cancelled it), and the engine then never exited on SIGTERM. ``asyncio.timeout`` does not lose
it, and :func:`cancel_and_wait` bounds the stop even for a task that swallows a cancel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

log = logging.getLogger(__name__)


async def wait_event(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait for ``event`` at most ``timeout_s`` seconds; True when it was set."""
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return False
    return True


async def cancel_and_wait(tasks: Sequence[asyncio.Task[object]], grace_s: float = 2.0, rounds: int = 5) -> list[str]:
    """Cancel ``tasks`` and wait for them to end, cancelling again the ones still running after each
    ``grace_s``; after ``rounds`` the ones left are logged and abandoned, so a stop always ends. Returns
    the names of the tasks abandoned (none when every task stopped)."""
    pending = [t for t in tasks if not t.done()]
    for _ in range(rounds):
        if not pending:
            break
        for task in pending:
            task.cancel()
        _, still = await asyncio.wait(pending, timeout=grace_s)
        pending = list(still)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("task %s ended on %r while stopping", task.get_name(), task.exception())
    names = [t.get_name() for t in pending]
    if names:
        log.error("tasks still running after %d cancels, abandoned: %s", rounds, ", ".join(names))
    return names
