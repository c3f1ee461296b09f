"""The `/` filter: an input under a table that filters as you type."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FilterBar(Input):
    """Hidden until `/`; posts `FilterBar.Changed` as the user types, `escape` clears it."""

    BINDINGS = [
        Binding("enter", "submit", "Keep", tooltip="Keep the filter and go back to the table"),
        Binding("escape", "dismiss", "Clear filter", tooltip="Clear the filter and close it"),
    ]

    class Dismissed(Message):
        """The user left the filter with escape (the filter is cleared)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder="filter: words to match, escape to clear", **kwargs)

    def action_dismiss(self) -> None:
        self.value = ""
        self.post_message(self.Dismissed())
