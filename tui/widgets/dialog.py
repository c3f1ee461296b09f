"""A form dialog whose fields scroll while its title, error line and buttons stay in view.

At 60x20 the analysis form was taller than the terminal, and its Start and Cancel buttons
were off-screen. The fields sit in a `.dialog-body` scroll area sized here, on mount and on
every resize, to what the terminal leaves after the dialog's other parts.
"""

from __future__ import annotations

from typing import TypeVar

from rich.text import Text
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

T = TypeVar("T")


class FormDialog(ModalScreen[T]):
    def on_mount(self) -> None:
        self.show_error("")

    def show_error(self, message: str) -> None:
        """The form's error line (hidden while empty); the fields make room for it."""
        error = self.query_one("#form-error", Static)
        error.update(Text(message))  # it may quote what was typed: never markup
        error.set_class(not message, "-empty")
        self.call_after_refresh(self.fit_body)

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit_body)

    def fit_body(self) -> None:
        body = self.query_one(".dialog-body", VerticalScroll)
        dialog = body.parent
        if dialog is None:
            return
        others = sum(child.outer_size.height for child in dialog.children if child is not body)
        chrome = dialog.outer_size.height - dialog.content_size.height  # border, padding
        body.styles.max_height = max(self.app.size.height - others - chrome, 3)
