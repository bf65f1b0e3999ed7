"""The header bar, impossible to misread: PAPER or LIVE, profile, breaker, money, feeds and loop lag."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from arbtui.app.format import age, money, signed_money
from engine.runtime.dashboard import DashboardSnapshot

BREAKER_STYLE = {"ACTIVE": "bold green", "REDUCING": "bold yellow", "HALTED": "bold white on red"}
FEED_STYLE = {"connected": "green", "idle": "dim", "starting": "yellow", "stale": "yellow",
              "degraded": "yellow", "down": "bold red"}  # fmt: skip


def header_text(snap: DashboardSnapshot, attached: bool) -> Text:
    t = Text()
    if snap.mode == "LIVE":
        t.append(" LIVE · REAL MONEY ", style="bold white on red")
    else:
        t.append(" PAPER ", style="bold black on green")
    if snap.demo:
        t.append(" DEMO", style="bold cyan")
    if attached:
        t.append(" ATTACHED", style="bold magenta")
    t.append("  profile ", style="dim")
    t.append(snap.profile, style="bold")
    t.append("  breaker ", style="dim")
    t.append(f" {snap.breaker_state} ", style=BREAKER_STYLE.get(snap.breaker_state, "bold"))
    if snap.breaker_reason:
        t.append(f" {snap.breaker_reason}", style="italic")
    for shard in snap.shards:
        t.append(f"  shard {shard.shard} ", style="dim")
        t.append(f"bankroll {money(shard.bankroll)} cash {money(shard.cash)}")
    t.append("\n")
    t.append("P&L ", style="dim")
    t.append(f"realised {signed_money(snap.realised)}  unrealised {signed_money(snap.unrealised)}  "
             f"fees {money(snap.fees)}  today {signed_money(snap.today)}")  # fmt: skip
    for f in snap.feeds:
        t.append(f"  {f.name} ", style="dim")
        t.append(f.state, style=FEED_STYLE.get(f.state, ""))
        t.append(f" {age(f.age_s)}")
        if f.credits_left is not None:
            t.append(f" {f.credits_left:,} credits")
        if f.burn_per_hour is not None:
            t.append(f" {f.burn_per_hour:,.0f}/h")
    t.append("  lag ", style="dim")
    t.append(f"p50 {snap.lag_p50_ms:.1f}ms p99 {snap.lag_p99_ms:.1f}ms")
    return t


class StatusBar(Static):
    """Repainted only when its text changes."""

    def __init__(self, *, attached: bool = False) -> None:
        super().__init__(id="status-bar")
        self.attached = attached
        self._last: Text | None = None

    def show(self, snap: DashboardSnapshot) -> None:
        text = header_text(snap, self.attached)
        if text != self._last:
            self._last = text
            self.update(text)
        self.set_class(snap.mode == "LIVE", "-live")
        self.set_class(snap.breaker_state == "HALTED", "-halted")
