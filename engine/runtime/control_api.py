"""What the control socket needs from a running engine: a status document and four commands.

The pipeline's ``Engine`` implements :class:`EngineControl`; the control server (``engine.runtime.control``)
serves any implementation, so the socket, the CLI commands and (later) the dashboard drive one engine through
one narrow interface instead of reaching into its parts. ``dashboard()`` is the dashboard's fuller picture,
``signal_detail(key)`` the selected signal's consensus pane.

The status document (``snapshot().to_json()``) is JSON-ready: money as decimal strings, never floats, times
as ISO 8601 UTC, ages as float seconds. ``STATUS_FIELDS`` lists the top-level keys every engine reports and
``status --json`` promises operators:

- ``mode``: ``"PAPER"`` or ``"LIVE"``; ``profile``: the trading profile's name.
- ``breaker``: ``{"state", "reason", "limits": {name: {"limit", "used"}}, "legged": [...]}``; each legged
  entry is ``{"event", "reason", "legs": [{"ticker", "side", "count"}]}`` (an event in REDUCING because its
  Kalshi-only arbitrage filled on some legs only).
- ``feeds``: ``{component: {"state", "age_s"}}``; the Odds API entry also has ``credits_left`` and
  ``credits_spent_today``.
- ``loop_lag_ms``: ``{"p50", "p99"}``.
- ``markets``: ``{"discovered", "mapped", "subscribed"}``.
- ``signals``: ``{"live", "by_kind": {kind: count}}``.
- ``orders``: ``{"open", "unknown"}``; ``positions``: ``{"count", "exposure", "legged"}`` (legged as in
  ``breaker``).
- ``pnl``: ``{"realised", "unrealised", "fees", "today", "unmarked"}`` (unmarked: open positions with no bid,
  valued at zero).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.runtime.dashboard import DashboardSnapshot, SignalDetail

STATUS_FIELDS: tuple[str, ...] = (
    "mode",
    "profile",
    "breaker",
    "feeds",
    "loop_lag_ms",
    "markets",
    "signals",
    "orders",
    "positions",
    "pnl",
)
"""Top-level keys of the status document; the control server refuses to serve a snapshot missing one."""


class StatusSnapshot(Protocol):
    """An immutable picture of the engine at one instant (the pipeline's frozen ``EngineSnapshot``)."""

    def to_json(self) -> Mapping[str, Any]:
        """The status document described in this module's docstring."""
        ...


class EngineControl(Protocol):
    """The commands an operator gives a running engine from another shell.

    Each command takes effect before it returns (a halt returns once no new order can be sent), so the
    server can answer with the status that follows it. A refused command raises an ``ArbError`` whose
    message is shown to the operator as is (``set_profile`` with an unknown name lists the known ones).
    """

    def snapshot(self) -> StatusSnapshot:
        """The latest snapshot; cheap and non-blocking, it never waits on the pipeline."""
        ...

    async def dashboard(self) -> DashboardSnapshot:
        """Everything the dashboard shows (:class:`engine.runtime.dashboard.DashboardSnapshot`).

        The in-process engine answers from its latest state without waiting on the pipeline; a remote one
        (``arbtui attach``) fetches it over the control socket as ``DashboardSnapshot.to_json()`` and
        rebuilds it with ``DashboardSnapshot.from_json``. The app calls it about ten times a second.
        """
        ...

    async def signal_detail(self, key: str) -> SignalDetail | None:
        """The consensus pane of the signal whose row key is ``key`` (``kind|ticker|side``), or None when it
        is not live. Apart from ``dashboard()`` so the 10 Hz snapshot carries rows only; the app asks it for
        the selected signal alone, latest selection wins."""
        ...

    async def halt(self, reason: str) -> None:
        """Stop sending new orders; resting orders stay (``kill`` cancels them)."""
        ...

    async def kill(self, reason: str) -> None:
        """Halt and cancel every resting order (the kill switch); only ``resume`` trades again."""
        ...

    async def resume(self) -> None:
        """Leave a halt or a kill: orders flow again under the breaker's rules."""
        ...

    async def set_profile(self, name: str) -> None:
        """Switch the trading profile; the next evaluation uses it, no restart."""
        ...
