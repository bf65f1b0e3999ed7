"""Per-test fault injection; every fault is off until a test turns it on.

The servers consult this object on each request or message, so a test flips a switch and the very
next call sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(slots=True)
class Faults:
    latency_s: float = 0.0
    """Added before every HTTP response and WebSocket message."""
    stalled: bool = False
    books_stalled: bool = False
    ticker_skew: Decimal = Decimal(0)
    """Added to the ``ticker`` channel's best YES bid and ask (the books stay right)."""
    _fail_5xx: int = 0
    _fail_429: int = 0
    _malformed_ws: int = 0
    _seq_gap: list[str | None] = field(default_factory=list)
    _reset_after_order: bool = False
    _ack_delay_s: float = 0.0
    _misdescribe_cancel: bool = False
    _drop_hooks: list[Callable[[], None]] = field(default_factory=list)

    def fail_next_5xx(self, n: int = 1) -> None:
        """The next ``n`` HTTP requests (either venue) answer 503."""
        self._fail_5xx += n

    def fail_next_429(self, n: int = 1) -> None:
        """The next ``n`` HTTP requests answer 429 as if the token bucket were empty."""
        self._fail_429 += n

    def malformed_next_ws(self, n: int = 1) -> None:
        """The next ``n`` WebSocket messages sent (any connection) are not valid JSON."""
        self._malformed_ws += n

    def seq_gap_next(self, ticker: str | None = None) -> None:
        """Skip one ``seq`` number on the next orderbook delta (for ``ticker``, or any market)."""
        self._seq_gap.append(ticker)

    def stall_feeds(self, stalled: bool = True) -> None:
        """WebSockets stay open but nothing is sent, not even pings."""
        self.stalled = stalled

    def stall_books(self, stalled: bool = True) -> None:
        """Orderbook deltas stop (they are lost, as a server that stopped publishing loses them) while
        ``ticker`` and every other channel go on: a book feed silent behind a live connection."""
        self.books_stalled = stalled

    def skew_ticker(self, by: Decimal) -> None:
        """The ``ticker`` channel reports best YES bid and ask off by ``by`` dollars (0 restores it)."""
        self.ticker_skew = by

    def reset_after_next_order(self) -> None:
        """The next order POST is placed, then its TCP connection is dropped before any response."""
        self._reset_after_order = True

    def hold_next_order_ack(self, seconds: float) -> None:
        """The next order POST is placed at once, then its response is held back ``seconds`` (a process can
        die between the send and the acknowledgement with the order standing)."""
        self._ack_delay_s = seconds

    def take_ack_delay(self) -> float:
        delay, self._ack_delay_s = self._ack_delay_s, 0.0
        return delay

    def misdescribe_next_cancel(self) -> None:
        """The next V2 cancel executes, but its response describes another order (a documented venue issue,
        changelog 2026-06-18)."""
        self._misdescribe_cancel = True

    def drop_websockets(self) -> None:
        """Close every open WebSocket abruptly (no close frame)."""
        for hook in list(self._drop_hooks):
            hook()

    def on_drop(self, hook: Callable[[], None]) -> None:
        self._drop_hooks.append(hook)

    def take_5xx(self) -> bool:
        if self._fail_5xx > 0:
            self._fail_5xx -= 1
            return True
        return False

    def take_429(self) -> bool:
        if self._fail_429 > 0:
            self._fail_429 -= 1
            return True
        return False

    def take_malformed(self) -> bool:
        if self._malformed_ws > 0:
            self._malformed_ws -= 1
            return True
        return False

    def take_seq_gap(self, ticker: str) -> bool:
        for i, wanted in enumerate(self._seq_gap):
            if wanted is None or wanted == ticker:
                del self._seq_gap[i]
                return True
        return False

    def take_reset_after_order(self) -> bool:
        if self._reset_after_order:
            self._reset_after_order = False
            return True
        return False

    def take_misdescribed_cancel(self) -> bool:
        if self._misdescribe_cancel:
            self._misdescribe_cancel = False
            return True
        return False
