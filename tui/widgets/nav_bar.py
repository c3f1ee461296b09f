"""The top line: the app's name and the five screens by key, the current one lit."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

# (mode, key, label) in key order; tui.app builds its bindings from the same list.
SCREENS: list[tuple[str, str, str]] = [
    ("models", "1", "Models"),
    ("applications", "2", "Apps"),
    ("ports", "3", "Ports"),
    ("analyses", "4", "Analyses"),
    ("batch", "5", "Batch"),
]


class NavBar(Static):
    def __init__(self, current: str) -> None:
        super().__init__(id="nav-bar")
        self.current = current

    def render(self) -> Text:
        text = Text(" ThesisApp ", style="bold")
        for mode, key, label in SCREENS:
            text.append("│")
            style = "reverse bold" if mode == self.current else ""
            text.append(f" {key} {label} ", style=style)
        if getattr(self.app, "docker_problem", None):
            text.append("│")
            text.append(" Docker unavailable ", style="bold red")
        return text
