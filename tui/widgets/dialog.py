"""A form dialog whose fields scroll while its title, error line and buttons stay in view.

At 60x20 the analysis form was taller than the terminal, and its Start and Cancel buttons
were off-screen. The fields sit in a `.dialog-body` scroll area sized here, on mount and on
every resize, to what the terminal leaves after the dialog's other parts.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from rich.text import Text
from textual import on
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

T = TypeVar("T")


class FormDialog(ModalScreen[T]):
    """A form: enter in a field or its submit button runs `action_<SUBMIT>`; the `cancel`
    button and `action_cancel` close it with None."""

    SUBMIT: ClassVar[str] = ""
    """The id of the submitting button, and the name of its action (`action_<SUBMIT>`)."""

    def on_mount(self) -> None:
        self.show_error("")

    def submit(self) -> None:
        getattr(self, f"action_{self.SUBMIT}")()

    def action_cancel(self) -> None:
        self.dismiss(None)  # type: ignore[arg-type]

    def refused(self, message: str) -> None:
        """Say why the form was not taken; its submit button works again."""
        self.show_error(message)
        self.query_one(f"#{self.SUBMIT}", Button).disabled = False

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.action_cancel()
        elif event.button.id == self.SUBMIT:
            self.submit()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.submit()

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
