"""`?`: the keys, in one modal."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP_TEXT = """\
[b]Screens[/b]
  1  Models        2  Applications   3  Ports
  4  Analyses      5  Batch jobs

[b]Everywhere[/b]
  ?        this help            ctrl+p   command palette
  q        quit                 ctrl+q   quit
  /        filter the table     escape   clear the filter
  ctrl+r   refresh now          j / k    down / up
  o / O    sort / reverse       tab      next widget

[b]On a screen[/b]
Models   a add   e/enter edit   d delete   u sync (OpenRouter)
Apps     u scan   p ports   enter details   ctrl+r sync with Docker
         b build   s start/stop   r restart   l logs   h health
         x remove containers   X … and their images
         space mark   a analyse the marked apps (or this one)
Analyses n new   enter findings   l follow the log   c cancel the run
Findings o / O sort by severity, tool, file   / filter   esc back
Logs     tab to the log, then f follow   c clear   / search   n next
Ports    a allocate all   d release

The table refreshes by itself every few seconds (THESIS_REFRESH_INTERVAL).
Press escape, q or ? to close this help."""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Static("ThesisApp — keys", id="help-title")
            yield Static(HELP_TEXT, id="help-body")

    def action_close(self) -> None:
        self.dismiss()
