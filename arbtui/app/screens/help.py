"""``?``: every key of the dashboard with what it does (built from the bindings themselves)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

INTRO = (
    "The engine runs whatever the screen does: halt and kill are handled before any refresh. "
    "Every action is also in the command palette (ctrl+p)."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss_help", "Close", id="help.close")
    ]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        table = Table(box=None, padding=(0, 2), show_header=False)
        table.add_column("key", style="bold")
        table.add_column("action")
        for key, description in self.keys:
            table.add_row(key, description)
        with VerticalScroll(id="help-dialog"):
            yield Static("[b]arbtui dashboard: keys[/b]\n" + INTRO + "\n")
            yield Static(table)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
