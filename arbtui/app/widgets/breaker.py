"""The circuit breaker: its state, every limit with its usage as a bar, and the last refusals."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from arbtui.app.format import count
from arbtui.app.widgets.header import BREAKER_STYLE
from engine.runtime.dashboard import DashboardSnapshot, LimitLine

BAR_WIDTH = 8
MONEY_LIMITS = ("loss", "fees", "event exp.", "league exp.", "total exp.")


def bar(line: LimitLine) -> Text:
    share = 1.0 if line.limit <= 0 else min(1.0, float(line.used / line.limit))
    filled = round(share * BAR_WIDTH)
    style = "red" if share >= 0.9 else "yellow" if share >= 0.6 else "green"
    return Text("█" * filled, style=style) + Text("░" * (BAR_WIDTH - filled), style="dim")


def _amount(name: str, value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.01')):,}" if name in MONEY_LIMITS else count(value)


def breaker_renderable(snap: DashboardSnapshot) -> Group:
    head = Text()
    head.append(f" {snap.breaker_state} ", style=BREAKER_STYLE.get(snap.breaker_state, "bold"))
    if snap.breaker_reason:
        head.append(f" {snap.breaker_reason}", style="italic")
    limits = Table(box=None, padding=(0, 1), show_header=False, expand=True)
    limits.add_column("limit", no_wrap=True, overflow="ellipsis", min_width=13)
    limits.add_column("bar", no_wrap=True)
    limits.add_column("used", justify="right", no_wrap=True)
    for line in snap.limits:
        limits.add_row(line.name, bar(line), f"{_amount(line.name, line.used)}/{_amount(line.name, line.limit)}")
    refusals = Text()
    if snap.rejections:
        refusals.append("last refusals\n", style="bold")
        for r in snap.rejections[:5]:
            refusals.append(f"{r.ts:%H:%M:%S} {r.ticker} ", style="dim")
            refusals.append(f"{r.rule}", style="yellow")
            if r.detail:
                refusals.append(f": {r.detail}")
            refusals.append("\n")
    return Group(head, limits, refusals)


class BreakerPane(Static):
    BORDER_TITLE = "Circuit breaker"

    def __init__(self) -> None:
        super().__init__(id="breaker")
        self._last: tuple[object, ...] | None = None

    def show(self, snap: DashboardSnapshot) -> None:
        key = (snap.breaker_state, snap.breaker_reason, snap.limits, snap.rejections[:5])
        if key != self._last:
            self._last = key
            self.update(breaker_renderable(snap))
