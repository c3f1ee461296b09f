"""The keys of what has focus now, at the bottom of every screen (k9s-style).

Textual's footer is one line that scrolls sideways, so most of a busy screen's keys were
off-screen. This bar wraps the keys of the focused widget, then the screen's, then the
app's, over at most two lines (one on a short terminal); what does not fit is left to `?`,
which lists every key. The help screen and the command palette read the same bindings.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from tui.widgets.keys import active_actions, key_display, keys_of

MORE = "? all keys"


class KeyBar(Static):
    DEFAULT_CSS = """
    KeyBar {
        height: auto;
        max-height: 2;
        padding: 0 1 0 0;
        background: $panel;
        color: $text-muted;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh(layout=True)

    def shown_bindings(self) -> list[Binding]:
        """The bindings to show, once per action: the focused widget's, then the screen's (its
        own before the ones every table has), then the app's."""
        screen = self.screen
        order = {key.action: rank for rank, key in enumerate(keys_of(type(screen)))}

        def rank(node: object, binding: Binding) -> tuple[int, int]:
            if binding.action == "back":
                return (0, -1)  # where esc leads is the first thing to know
            if node is screen:
                return (1, order.get(binding.action, len(order)))
            return (2, 0) if node is self.app else (0, 0)

        seen: set[str] = set()
        shown = []
        for node, binding in active_actions(screen):
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                shown.append((rank(node, binding), binding))
        return [binding for _, binding in sorted(shown, key=lambda item: item[0])]

    def render(self) -> Text:
        width = max(self.size.width - 1, 10)  # the last cell stays empty: no stale glyph
        lines = 2 if (self.app.size.height >= 24) else 1
        items = [(key_display(b), b.description) for b in self.shown_bindings()]
        return wrap_keys(items, width, lines)


def wrap_keys(items: list[tuple[str, str]], width: int, lines: int) -> Text:
    """`key label` pairs wrapped into `lines` lines of `width`; `? all keys` if cut short."""
    chunks = [Text.assemble(" ", (key, "bold"), " ", label, " ") for key, label in items]
    rows: list[list[Text]] = [[]]

    def used(row: list[Text]) -> int:
        return sum(chunk.cell_len for chunk in row)

    for chunk in chunks:
        if rows[-1] and used(rows[-1]) + chunk.cell_len > width:
            if len(rows) == lines:
                more = Text.assemble(" ", (MORE, "bold"))
                while rows[-1] and used(rows[-1]) + more.cell_len > width:
                    rows[-1].pop()
                rows[-1].append(more)
                break
            rows.append([])
        rows[-1].append(chunk)
    return Text("\n").join(Text.assemble(*row) for row in rows)
