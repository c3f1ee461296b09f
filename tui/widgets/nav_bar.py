"""The top line: the app's name and the seven screens by key, the current one lit."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

# (mode, key, label) in key order; tui.app builds its bindings from the same list.
SCREENS: list[tuple[str, str, str]] = [
    ("dashboard", "0", "Dashboard"),
    ("models", "1", "Models"),
    ("applications", "2", "Apps"),
    ("ports", "3", "Ports"),
    ("analyses", "4", "Analyses"),
    ("batch", "5", "Batch"),
    ("reports", "6", "Reports"),
]


class NavBar(Static):
    def __init__(self, current: str) -> None:
        super().__init__(id="nav-bar")
        self.current = current

    def render(self) -> Text:
        docker = bool(getattr(self.app, "docker_problem", None))
        width = self.size.width or 80
        # The most that fits: the name and full labels, then without the name, then keys only
        # for the screens not shown, then the Docker warning in two words (it always stays).
        for title, short, terse in (
            (True, False, False),
            (False, False, False),
            (False, True, False),
            (False, True, True),
        ):
            text = self._line(title, short, docker, terse)
            if text.cell_len <= width:
                break
        return text

    def _line(self, title: bool, short: bool, docker: bool, terse: bool) -> Text:
        text = Text(" ThesisApp " if title else "", style="bold")
        for mode, key, label in SCREENS:
            if text:
                text.append("│")
            current = mode == self.current
            style = "reverse bold" if current else ""
            text.append(f" {key} {label} " if current or not short else f" {key} ", style=style)
        if docker:
            text.append("│")
            text.append(" No Docker " if terse else " Docker unavailable ", style="bold red")
        return text
