"""The app's own messages. Bursts collapse (``can_replace``): holding the down key through the signals
table repaints the consensus pane once for the row it stops on, not once per row passed."""

from __future__ import annotations

from textual.message import Message


class Selected(Message):
    """The operator moved to the signal ``key`` (``kind|ticker|side``)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Selected)
