"""A log pane for one app's build output or container logs that keeps up with thousands of
lines a second.

Producers, often worker threads, call `push()`, which only appends to a deque. A timer on the
event loop drains the deque every `flush_interval` seconds into a Textual `Log` with one
`write_lines()` call, as k9s and lazydocker flush: the Log takes at most 20 writes a second
however fast lines arrive. Both the deque and the `Log` hold at most `max_lines` lines; the
full log stays on disk.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable

from rich.highlighter import Highlighter
from rich.style import Style
from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import var
from textual.widgets import Input, Log, Static

MAX_LINE_CHARS = 4_000
"""Longer lines are cut here and end in `…`: one minified bundle must not stall rendering."""

# Escape sequences docker and build tools print: CSI (colours, cursor moves, erase line),
# OSC (titles, hyperlinks), DCS/SOS/PM/APC strings, and the short two-byte escapes.
_ANSI = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|[PX^_][^\x1b]*(?:\x1b\\)?|[ -/]*[0-~])?"
)
# What is left after the escapes: C0/C1 controls except tab, and the characters that
# `str.splitlines()` (which `Log.write_lines` applies) would treat as line breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def clean_line(raw: str) -> list[str]:
    """The display lines for one pushed string: escapes and controls removed, tabs expanded,
    long lines cut. A string with embedded newlines gives several lines; trailing newlines none.
    Bytes (what docker-py streams) are decoded as UTF-8 rather than crashing the flush.
    """
    if type(raw) is not str:
        raw = raw.decode(errors="replace") if isinstance(raw, bytes | bytearray) else str(raw)
    if len(raw) <= MAX_LINE_CHARS and raw.isprintable():
        return [raw]  # the common case, decided in C
    lines = []
    for part in raw.rstrip("\r\n").split("\n"):
        cut = len(part) > 4 * MAX_LINE_CHARS  # escapes make raw text longer than it shows
        if cut:
            part = part[: 4 * MAX_LINE_CHARS]
        if "\x1b" in part:
            part = _ANSI.sub("", part)
        if "\r" in part:
            # A progress bar redraws its line after `\r`; keep what a terminal would show.
            part = part.rstrip("\r").rpartition("\r")[2]
        part = _CONTROL.sub("", part)
        if "\t" in part:
            part = part.expandtabs()  # so search offsets match what is shown
        if cut or len(part) > MAX_LINE_CHARS:
            part = part[:MAX_LINE_CHARS] + "…"
        lines.append(part)
    return lines


class _MatchHighlighter(Highlighter):
    """Highlights every match of the search pattern in a rendered line."""

    def __init__(self, pattern: re.Pattern[str], style: Style) -> None:
        self.pattern = pattern
        self.style = style

    def highlight(self, text: Text) -> None:
        text.highlight_regex(self.pattern, style=self.style)


class LogPanel(Vertical, can_focus=True):
    """A header, a `Log` that follows new lines until the user scrolls up, and a `/` search.

    `push()` and `push_many()` may be called from any thread; everything else from the event
    loop. The panel takes focus itself (the `Log` inside does not), so its keys work the same
    wherever the user clicked.
    """

    DEFAULT_CSS = """
    LogPanel {
        height: 1fr;
        & > #log-panel-header {
            height: 1;
            padding: 0 1;
            background: $panel;
            color: $text-muted;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
        &:focus > #log-panel-header {
            color: $text;
            text-style: bold;
        }
        & > #log-panel-log {
            height: 1fr;
        }
        &:focus > #log-panel-log {
            background-tint: $foreground 5%;
        }
        & > #log-panel-search {
            display: none;
            height: 1;
            border: none;
            padding: 0 1;
        }
        &.-searching > #log-panel-search {
            display: block;
        }
        & > .log-panel--match {
            background: $warning;
            color: black;
            text-style: bold;
        }
    }
    """

    COMPONENT_CLASSES = {"log-panel--match"}

    BINDINGS = [
        Binding("f", "toggle_follow", "Follow", tooltip="Follow new lines, or stop at this one"),
        Binding("c", "clear", "Clear", tooltip="Clear the log on screen (files stay)"),
        Binding("slash", "open_search", "Search", tooltip="Search the log (matches lit)"),
        Binding("n", "next_match", "Next", tooltip="Next match"),
        Binding("N", "previous_match", "Previous", show=False, tooltip="Previous match"),
        Binding("escape", "close_search", "Close", tooltip="Close the search"),
        Binding("end,G", "follow_end", "End", show=False),
        Binding("home,g", "scroll('home')", "Top", show=False),
        Binding("up,k", "scroll('up')", "Up", show=False),
        Binding("down,j", "scroll('down')", "Down", show=False),
        Binding("pageup", "scroll('page_up')", "Page up", show=False),
        Binding("pagedown", "scroll('page_down')", "Page down", show=False),
        Binding("left", "scroll('left')", "Left", show=False),
        Binding("right", "scroll('right')", "Right", show=False),
    ]

    follow: var[bool] = var(True)
    """Scroll to new lines as they arrive. Scrolling up pauses it; back at the end resumes it."""

    def __init__(
        self,
        *,
        max_lines: int = 10_000,
        flush_interval: float = 0.05,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        if max_lines < 1:
            raise ValueError("max_lines must be at least 1")
        super().__init__(name=name, id=id, classes=classes)
        self._max_lines = max_lines
        self._flush_interval = flush_interval
        # Written by producer threads, drained by the event loop: append and popleft are
        # atomic. The maxlen keeps memory bounded even if the loop falls behind.
        self._pending: deque[str] = deque(maxlen=max_lines)
        self._title = "logs"
        self._header_text = ""
        self._written = 0  # lines written to the Log since the last clear: absolute numbering
        self._unseen = 0  # lines that arrived while follow was paused
        self._paused_by_scroll = False  # only a pause the user scrolled into ends by scrolling
        self._query = ""
        self._pattern: re.Pattern[str] | None = None
        self._matches: list[int] = []  # absolute numbers of the matching lines held by the Log
        self._current_match: int | None = None
        self._header = Static("", id="log-panel-header", markup=False)
        self._log = Log(max_lines=max_lines, auto_scroll=False, id="log-panel-log")
        self._log.can_focus = False
        self._search = Input(
            placeholder="search: enter next match, escape close", id="log-panel-search"
        )

    # --- public API --------------------------------------------------------------------

    def set_title(self, title: str) -> None:
        """The first part of the header, e.g. "logs · openai_gpt-4o app 1"."""
        self._title = title
        self._update_header()

    def push(self, line: str) -> None:
        """Queue one line for the next flush. Thread-safe and cheap: call it from any thread."""
        self._pending.append(line)

    def push_many(self, lines: Iterable[str]) -> None:
        """Queue several lines for the next flush. Thread-safe."""
        self._pending.extend(lines)

    def clear(self) -> None:
        """Empty the queue and the Log and reset the counters (call from the event loop)."""
        self._pending.clear()
        self._log.clear()
        self._log.scroll_to(x=0, y=0, animate=False)
        self._log.refresh()
        self._written = 0
        self._unseen = 0
        self._matches = []
        self._current_match = None
        if self._paused_by_scroll:
            self.follow = True  # nothing is left to read where the user had scrolled to
        self._update_header()

    @property
    def lines(self) -> list[str]:
        """The lines the Log holds now (pending lines appear after the next flush)."""
        return list(self._log.lines)

    async def flushed(self) -> None:
        """Write pending lines now; tests await this instead of sleeping."""
        self._flush()

    # --- widget life -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self._header
        yield self._log
        yield self._search

    def on_mount(self) -> None:
        self.watch(self._log, "scroll_target_y", self._log_scrolled, init=False)
        # After a theme change, once the new colours are applied.
        self.watch(
            self.app, "theme", lambda: self.call_after_refresh(self._restyle_matches), init=False
        )
        self.set_interval(self._flush_interval, self._flush)
        self._update_header()

    def on_resize(self) -> None:
        self.call_after_refresh(self._stick_to_end)

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self._unseen = 0
            self._paused_by_scroll = False
            if self.is_mounted:
                self._log.scroll_end(animate=False, immediate=True, x_axis=False)
        self._update_header()

    # --- flushing ----------------------------------------------------------------------

    def _flush(self) -> None:
        pending = self._pending
        count = len(pending)
        if not count:
            return
        popleft = pending.popleft
        lines: list[str] = []
        for _ in range(count):
            lines.extend(clean_line(popleft()))
        if len(lines) > self._max_lines:
            lines = lines[-self._max_lines :]
        log = self._log
        held_before = len(log.lines)
        # `Log.write_lines` runs `splitlines()` on each line, which turns "" into nothing.
        log.write_lines([line or "\n" for line in lines] if "" in lines else lines, False)
        pruned = held_before + len(lines) - len(log.lines)
        first_new = self._written
        self._written += len(lines)
        if self._pattern is not None:
            search = self._pattern.search
            self._matches.extend(first_new + i for i, line in enumerate(lines) if search(line))
            if pruned:
                del self._matches[: bisect_left(self._matches, self._first_held)]
        if self.follow:
            if not log.is_vertical_scrollbar_grabbed:  # never pull the bar from under the mouse
                log.scroll_end(animate=False, immediate=True, x_axis=False)
        else:
            self._unseen += len(lines)
            if pruned:
                # Lines left the top of the Log: keep the same text in view while paused.
                log.scroll_to(y=max(0, log.scroll_y - pruned), animate=False)
        self._update_header()

    @property
    def _first_held(self) -> int:
        """The absolute number of the Log's first line."""
        return self._written - len(self._log.lines)

    def _stick_to_end(self) -> None:
        """A resize or the search box changes the Log's height: stay at the end if following."""
        if self.follow and not self._log.is_vertical_scroll_end:
            self._log.scroll_end(animate=False, immediate=True, x_axis=False)

    def _log_scrolled(self) -> None:
        """Every scroll sets `scroll_target_y`, before any animation: the user's intent."""
        log = self._log
        at_end = log.scroll_target_y >= log.max_scroll_y
        if self.follow and not at_end:
            self._pause(by_scroll=True)
        elif not self.follow and at_end and self._paused_by_scroll:
            self.follow = True

    def _pause(self, *, by_scroll: bool) -> None:
        self._paused_by_scroll = by_scroll
        self.follow = False

    def _update_header(self) -> None:
        parts = [self._title]
        if self.follow:
            held = len(self._log.lines)
            parts += ["follow", f"{held:,} line{'' if held == 1 else 's'}"]
        elif self._unseen:
            parts += ["paused", f"+{self._unseen:,} new (f to follow)"]
        else:
            parts += ["paused (f to follow)"]
        if self._pattern is not None:
            found = len(self._matches)
            parts.append(f"search “{self._query}”: {found:,} match{'' if found == 1 else 'es'}")
        text = " · ".join(parts)
        if text != self._header_text:
            self._header_text = text
            self._header.update(text, layout=False)

    # --- search ------------------------------------------------------------------------

    @on(Input.Changed, "#log-panel-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._set_query(event.value)

    @on(Input.Submitted, "#log-panel-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._jump(forward=True)

    def _set_query(self, query: str) -> None:
        log = self._log
        self._current_match = None
        self._query = query
        if query:
            self._pattern = re.compile(re.escape(query), re.IGNORECASE)
            search = self._pattern.search
            first = self._first_held
            self._matches = [first + i for i, line in enumerate(log.lines) if search(line)]
        else:
            self._pattern = None
            self._matches = []
        self._restyle_matches()
        self._update_header()

    def _restyle_matches(self) -> None:
        """Install (or remove) the match highlighter and re-render the visible lines."""
        log = self._log
        if self._pattern is None:
            log.highlight = False
        else:
            style = self.get_component_rich_style("log-panel--match")
            log.highlighter = _MatchHighlighter(self._pattern, style)
            log.highlight = True
        # The Log caches rendered lines; without this, visible lines keep their old look.
        log._render_line_cache.clear()
        log.refresh()

    def _jump(self, *, forward: bool) -> None:
        """Scroll the next (or previous) matching line to the top of the view; pause follow."""
        matches = self._matches
        if not matches:
            self.app.bell()
            return
        log = self._log
        first = self._first_held
        top = first + round(log.scroll_y)
        height = log.scrollable_content_region.height
        current = self._current_match
        if current is not None and top <= current < top + height:
            anchor = current  # continue from the match the user is looking at
        else:
            anchor = top - 1 if forward else top + height  # from what is on screen
        if forward:
            index = bisect_right(matches, anchor)
            target = matches[index if index < len(matches) else 0]
        else:
            index = bisect_left(matches, anchor) - 1
            target = matches[index if index >= 0 else -1]
        self._current_match = target
        log.scroll_to(y=target - first, animate=False)
        self._pause(by_scroll=True)

    # --- actions -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_search":
            return self.has_class("-searching")  # otherwise escape belongs to the screen
        return True

    def action_toggle_follow(self) -> None:
        if self.follow:
            self._pause(by_scroll=False)
        else:
            self.follow = True

    def action_follow_end(self) -> None:
        self.follow = True
        self._log.scroll_end(animate=False, immediate=True, x_axis=False)

    def action_clear(self) -> None:
        self.clear()

    def action_open_search(self) -> None:
        self.add_class("-searching")
        self.refresh_bindings()
        self._search.focus()
        self.call_after_refresh(self._stick_to_end)

    def action_close_search(self) -> None:
        self.remove_class("-searching")
        self.refresh_bindings()
        self.focus()
        self.call_after_refresh(self._stick_to_end)

    def action_next_match(self) -> None:
        self._jump(forward=True)

    def action_previous_match(self) -> None:
        self._jump(forward=False)

    def action_scroll(self, where: str) -> None:
        """Keyboard scrolling of the Log, without animation: a log is read line by line."""
        log = self._log
        horizontal = where in ("left", "right")
        if not (log.allow_horizontal_scroll if horizontal else log.allow_vertical_scroll):
            raise SkipAction()  # nothing to scroll: let the screen have the key
        if where == "home":
            log.scroll_home(animate=False, x_axis=False)
        else:
            getattr(log, f"scroll_{where}")(animate=False)
