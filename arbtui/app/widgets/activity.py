"""The activity log: decisions, alerts and operator actions, appended as they arrive (never rewritten)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from engine.runtime.dashboard import ActivityLine

KIND_STYLE = {"signal": "cyan", "order": "", "fill": "green", "breaker": "bold yellow", "kill": "bold red",
              "error": "bold red", "feed": "yellow", "profile": "magenta", "operator": "bold magenta"}  # fmt: skip


class ActivityLog(RichLog):
    BORDER_TITLE = "Activity"

    def __init__(self) -> None:
        super().__init__(id="activity", max_lines=500, wrap=False, markup=False, auto_scroll=True)
        self._last: ActivityLine | None = None

    def show(self, lines: tuple[ActivityLine, ...]) -> None:
        start = 0
        if self._last is not None:
            try:
                start = len(lines) - lines[::-1].index(self._last)
            except ValueError:
                start = 0
        for line in lines[start:]:
            text = Text(f"{line.ts:%H:%M:%S} ", style="dim")
            text.append(f"{line.kind:<8} ", style=KIND_STYLE.get(line.kind, ""))
            message = line.message
            if message.startswith(line.kind + " "):
                message = message[len(line.kind) + 1 :]
            text.append(message)
            self.write(text)
        if lines:
            self._last = lines[-1]
