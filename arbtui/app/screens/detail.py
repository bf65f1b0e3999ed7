"""``enter`` on a signal: its consensus, ladder, fees, hedges and the full audit trail of what was done.

The detail is fetched apart from the dashboard's snapshot (``EngineControl.signal_detail``); the screen
opens at once with what the app has and repaints when the app's worker brings a newer one (:meth:`show`).
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from arbtui.app.widgets.consensus import consensus_renderable
from engine.runtime.dashboard import SignalDetail, SignalRow


class SignalDetailScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,q", "close", "Close", id="detail.close")]

    def __init__(self, row: SignalRow, detail: SignalDetail | None) -> None:
        super().__init__()
        self.row = row
        self.detail = detail
        self.loading = detail is None
        """No detail yet: the app's worker is fetching it."""

    def body(self) -> RenderableType:
        title = Text(f"{self.row.kind} · {self.row.ticker} · {self.row.side.upper()}\n", style="bold")
        audit = Text("\nAudit trail\n", style="bold")
        lines = self.detail.audit if self.detail is not None else ()
        audit.append("\n".join(lines) if lines else "nothing done about this signal yet", style="")
        return Group(title, consensus_renderable(self.detail, self.row, loading=self.loading), audit)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-dialog"):
            yield Static(self.body(), id="detail-body")

    def show(self, detail: SignalDetail | None) -> None:
        """A newer detail of this signal (None: it is no longer live)."""
        if detail == self.detail and not self.loading:
            return
        self.detail, self.loading = detail, False
        self.query_one("#detail-body", Static).update(self.body())

    def action_close(self) -> None:
        self.dismiss(None)
