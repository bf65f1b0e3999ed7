"""Log lines leave the event loop through a bounded queue to a writer thread.

Writing to a terminal or a pipe can block (a paused ``less``, a full journald pipe); done on the loop, that
would stall detection. The handler never blocks: when the queue is full the line is dropped and counted,
and the count is in the engine's snapshot like every other drop.
"""

from __future__ import annotations

import logging
import logging.handlers
import queue


class DroppingQueueHandler(logging.handlers.QueueHandler):
    """A ``QueueHandler`` over a bounded queue that drops (and counts) instead of blocking or raising."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self.lines: queue.Queue[logging.LogRecord] = queue.Queue(maxsize)
        super().__init__(self.lines)
        self.dropped = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.lines.put_nowait(record)
        except queue.Full:
            self.dropped += 1


def start_log_thread(
    target: logging.Handler, logger: logging.Logger, level: int = logging.INFO
) -> tuple[DroppingQueueHandler, logging.handlers.QueueListener]:
    """Route ``logger`` through a dropping queue to ``target`` on a thread; stop the listener to flush."""
    handler = DroppingQueueHandler()
    listener = logging.handlers.QueueListener(handler.lines, target, respect_handler_level=True)
    logger.addHandler(handler)
    logger.setLevel(level)
    listener.start()
    return handler, listener
