"""`?`: every key of the screen it was opened on, made from the bindings themselves.

The same sections make `thesis keys` and the README's key tables (a test compares them), so
the help, the key bar, the palette and the README never disagree.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.screens.base import TableScreen
from tui.widgets.keys import Key, keys_of

Section = tuple[str, list[Key]]

GLOBAL_KEYS = [
    Key("0 … 6", "Dashboard, Models, Applications, Ports, Analyses, Batch jobs, Reports", ""),
    Key("$", "Usage & cost: the LLM calls, tokens and USD (in a job: what it spent)", "usage"),
    Key("T", "Templates: the apps a study generates, by number", "templates"),
    Key("?", "These keys (esc, q or ? closes)", "help"),
    Key("ctrl+p", "Command palette: every action of this screen, by name", ""),
    Key("tab", "Move to the next part of the screen (table, log, filter)", ""),
    Key("q", "Quit (asks first while analyses run here); go back in a detail", ""),
]


def _own(cls: type, base: type | None) -> list[Key]:
    """The keys `cls` adds to (or changes from) `base`."""
    inherited = {(k.key, k.action) for k in keys_of(base)} if base is not None else set()
    return [k for k in keys_of(cls) if (k.key, k.action) not in inherited]


def help_sections(screen_cls: type) -> list[Section]:
    """(heading, keys) for the screen `screen_cls`: its own keys, then its parts', then the
    ones every table and every screen has."""
    table = issubclass(screen_cls, TableScreen)
    sections: list[Section] = [("This screen", _own(screen_cls, TableScreen if table else None))]
    for heading, part in getattr(screen_cls, "HELP_PARTS", []):
        sections.append((heading, keys_of(part)))
    if table:
        sections.append(("Every table", keys_of(TableScreen)))
    sections.append(("Everywhere", GLOBAL_KEYS))
    return [(heading, keys) for heading, keys in sections if keys]


def help_text(screen_cls: type) -> Group:
    """Each section as a heading over a two-column grid (long sentences wrap in theirs)."""
    parts: list[Text | Table] = []
    for heading, keys in help_sections(screen_cls):
        parts.append(Text(heading, style="bold"))
        grid = Table.grid(padding=(0, 2), pad_edge=True)
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(ratio=1)
        for key in keys:
            grid.add_row(f" {key.key}", key.help)
        parts.append(grid)
        parts.append(Text())
    parts += [Text(note, style="dim") for note in getattr(screen_cls, "HELP_NOTES", [])]
    if parts and not getattr(screen_cls, "HELP_NOTES", []):
        parts.pop()
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close"),
        Binding("j,down", "scroll('down')", "Scroll down", show=False),
        Binding("k,up", "scroll('up')", "Scroll up", show=False),
        Binding("pagedown,space", "scroll('page_down')", "Page down", show=False),
        Binding("pageup", "scroll('page_up')", "Page up", show=False),
    ]

    def __init__(self, screen_cls: type) -> None:
        super().__init__()
        self.screen_cls = screen_cls

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(f"Keys · {self._title()}", id="help-title")
            with VerticalScroll(id="help-dialog"):
                yield Static(help_text(self.screen_cls), id="help-body")
            yield Static("", id="help-more")

    def _title(self) -> str:
        return getattr(self.screen_cls, "SUB_TITLE", "") or "ThesisApp"

    def on_mount(self) -> None:
        self.query_one("#help-dialog").can_focus = False
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        # Borders, the title and the hint line take 4 rows; the keys scroll in the rest.
        self.query_one("#help-dialog").styles.max_height = max(self.app.size.height - 4, 3)
        self.call_after_refresh(self._show_more)

    def _show_more(self) -> None:
        """Under the dialog: whether it scrolls, and how to close it."""
        dialog = self.query_one("#help-dialog", VerticalScroll)
        hint = "esc closes"
        if dialog.max_scroll_y > 0:
            below = dialog.max_scroll_y - round(dialog.scroll_y)
            hint = f"↓ {below} more lines: j/k, space · {hint}" if below > 0 else f"end · {hint}"
        self.query_one("#help-more", Static).update(hint)

    def action_scroll(self, where: str) -> None:
        dialog = self.query_one("#help-dialog", VerticalScroll)
        getattr(dialog, f"scroll_{where}")(animate=False)
        self.call_after_refresh(self._show_more)

    def action_close(self) -> None:
        self.dismiss()
