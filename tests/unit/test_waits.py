"""The engine's task stops: a cancel that lands as a wake event is set ends the loop, and a stop always ends."""

from __future__ import annotations

import asyncio

from engine.runtime.waits import cancel_and_wait, wait_event


async def _loop(event: asyncio.Event, rounds: list[int]) -> None:
    """The shape of the feed loops: do the work, then sleep until woken or the interval passes."""
    while True:
        rounds.append(1)
        event.clear()
        await wait_event(event, 5.0)


async def test_a_cancel_in_the_same_turn_as_the_wake_ends_the_loop() -> None:
    event, rounds = asyncio.Event(), []
    task = asyncio.create_task(_loop(event, rounds))
    await asyncio.sleep(0.01)  # the loop is waiting on its event
    event.set()  # a book update wakes it ...
    task.cancel()  # ... in the same turn as the stop cancels it
    stuck = await cancel_and_wait([task], grace_s=0.5, rounds=1)
    assert task.cancelled() and stuck == []
    assert len(rounds) == 1, "the loop went round again after its cancel"


async def test_wait_event_tells_set_from_timed_out() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    event.set()
    assert await wait_event(event, 0.01) is True


async def test_a_task_that_swallows_a_cancel_is_cancelled_again() -> None:
    swallowed = []

    async def stubborn() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            swallowed.append(1)  # a lost cancel, as a buggy wait would lose it
        await asyncio.sleep(60)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    assert await cancel_and_wait([task], grace_s=0.05) == []
    assert swallowed == [1] and task.cancelled()


async def test_a_task_that_never_stops_is_named_and_abandoned_so_the_stop_ends() -> None:
    deaf_until_told = asyncio.Event()

    async def deaf() -> None:
        while not deaf_until_told.is_set():
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(deaf(), name="engine-deaf")
    await asyncio.sleep(0)
    assert await cancel_and_wait([task], grace_s=0.01, rounds=3) == ["engine-deaf"]
    assert not task.done()
    deaf_until_told.set()  # the test's own clean-up
    task.cancel()
    await asyncio.wait([task], timeout=1.0)
    assert task.done()
