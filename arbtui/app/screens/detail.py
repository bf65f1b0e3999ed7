"""``enter`` on a signal: its consensus, ladder, fees, hedges and the full audit trail of what was done."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
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

    def compose(self) -> ComposeResult:
        title = Text(f"{self.row.kind} · {self.row.ticker} · {self.row.side.upper()}\n", style="bold")
        audit = Text("\nAudit trail\n", style="bold")
        lines = self.detail.audit if self.detail is not None else ()
        audit.append("\n".join(lines) if lines else "nothing done about this signal yet", style="")
        with VerticalScroll(id="detail-dialog"):
            yield Static(Group(title, consensus_renderable(self.detail, self.row), audit), id="detail-body")

    def action_close(self) -> None:
        self.dismiss(None)
