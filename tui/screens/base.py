"""A screen that shows one table from the database.

Rows are loaded by a service in a thread worker (never on the event loop), filtered and
limited in SQL, and applied to the DataTable by row key: unchanged rows stay, changed cells
update, so the cursor does not jump when the table refreshes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from tui.errors import ThesisError
from tui.widgets.columns import Column, Layout, fit, natural_widths, render
from tui.widgets.filter_bar import FilterBar
from tui.widgets.key_bar import KeyBar
from tui.widgets.nav_bar import NavBar

if TYPE_CHECKING:
    from tui.screens.host import Host
    from tui.services.common import Page


__all__ = ["Column", "Query", "Scope", "TableScreen"]


PAGE = 100
"""Rows a table loads at first: a screenful many times over, cheap to query and draw."""
PAGE_MARGIN = 20
"""The next page loads when the cursor comes this close to the last loaded row."""


@dataclass(frozen=True)
class Query:
    """What the user asked the table for: filter words and sort order."""

    search: str = ""
    sort: str | None = None
    descending: bool = False
    limit: int = PAGE
    """Rows to load: a page, and a page more each time the cursor nears the end."""

    def listing(self, count: bool) -> dict[str, Any]:
        """The arguments every listing service (`list_models`, `list_applications` …) takes
        for this query."""
        return {
            "search": self.search,
            "sort": self.sort,
            "descending": self.descending,
            "limit": self.limit,
            "count": count,
        }


@dataclass(frozen=True)
class Scope:
    """A drill-down: the rows of one model, or of one of its apps; or of the analyses behind
    a cell of the report (their ids, and what they are)."""

    model: str
    app_number: int | None = None
    analyses: tuple[int, ...] | None = None
    what: str = ""

    def __str__(self) -> str:
        if self.what:
            return f"{self.model} ({self.what})"
        return self.model if self.app_number is None else f"{self.model} app {self.app_number}"


class TableScreen(Screen):
    """Base of the five list screens: subclasses name their columns and load their rows."""

    MODE: ClassVar[str] = ""
    COLUMNS: ClassVar[list[Column]] = []
    EMPTY_HINT: ClassVar[str] = "Nothing here yet."
    ROW_ACTIONS: ClassVar[frozenset[str]] = frozenset()
    """Actions on the highlighted row: not offered (key bar, palette) while the table is empty."""
    NOUN: ClassVar[str] = "rows"
    PUSHED: ClassVar[bool] = False
    """Always opened on top of another screen (a job's view, the ranking): escape goes back."""
    LOAD_OUT_OF_SIGHT: ClassVar[bool] = True
    """Load rows when the screen is made ahead, out of sight; False loads them when it is
    first shown (a costly load: the Reports screen)."""

    BINDINGS = [
        Binding(
            "escape",
            "back",
            "Back",
            tooltip="Back to the screen you drilled down from (after enter on a model or an app)",
        ),
        # q goes back one level too; on a top screen it falls through to quit.
        Binding("q", "back", "Back", show=False),
        Binding(
            "slash",
            "filter",
            "Filter",
            tooltip="Filter as you type: every word must match a shown column (esc clears)",
        ),
        Binding(
            "w",
            "toggle_wide",
            "Wide",
            tooltip="Wide view: every column whole, absolute "
            "times; the table scrolls sideways (w again: back)",
        ),
        Binding("o", "sort_next", "Sort", show=False, tooltip="Sort by the next column"),
        Binding("O", "sort_reverse", "Reverse", show=False, tooltip="Reverse the sort"),
        Binding(
            "ctrl+r",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Refresh now (tables also refresh every few seconds)",
        ),
        Binding("j", "cursor_down", "Down", show=False, tooltip="Down (or ↓)"),
        Binding("k", "cursor_up", "Up", show=False, tooltip="Up (or ↑)"),
    ]

    class RowsLoaded(Message):
        def __init__(
            self, query: Query, page: Page[Any], rows: list[tuple[str, tuple[Any, ...]]]
        ) -> None:
            super().__init__()
            self.query = query
            self.page = page
            self.rows = rows
            self.data = {key: row for (key, _), row in zip(rows, page.rows, strict=True)}

    class Counted(Message):
        def __init__(self, query: Query, total: int | None) -> None:
            super().__init__()
            self.query = query
            self.total = total

    class LoadFailed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, scope: Scope | None = None) -> None:
        super().__init__()
        self.scope = scope
        """Set when the screen was opened by a drill-down: it lists that model's or app's rows
        only, and escape goes back."""
        self.query_state = Query()
        self.loaded = False
        self.cursor_to: str | None = None
        """A row to put the cursor on as soon as a load shows it (a run just started)."""
        self.shown_query: Query | None = None
        """The filter and sort of the rows on screen (lags query_state while a load runs)."""
        self.row_data: dict[str, Any] = {}
        self.wide = False
        """Every column at its full width (the table scrolls sideways), times absolute."""
        self.fitted: Layout | None = None
        self._page: Page[Any] | None = None
        self._rows: list[tuple[str, tuple[Any, ...]]] = []

    @property
    def thesis(self) -> Host:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        with Vertical(id="body"):
            yield DataTable(id="table", cursor_type="row", zebra_stripes=True)
            yield Static(self.EMPTY_HINT, id="empty", classes="empty-state")
            yield from self.compose_below_table()
        # The status line quotes the filter as typed: plain text, never markup.
        yield Static("", id="status", classes="status-line", markup=False)
        yield FilterBar(id="filter")
        yield KeyBar()

    def compose_below_table(self) -> ComposeResult:
        """Extra widgets under the table (a detail pane); none by default."""
        yield from ()

    def on_mount(self) -> None:
        # query, not query_one: a screen made while the app quits may have no children
        self.query("#empty").set(display=False)
        self.query(FilterBar).set(display=False)
        if self.LOAD_OUT_OF_SIGHT or self.is_current:
            self.reload()
        interval = self.thesis.settings.refresh_interval
        self.set_interval(interval, self._refresh_while_shown, name="auto-refresh")

    def on_screen_resume(self) -> None:
        if self.loaded or (not self.LOAD_OUT_OF_SIGHT and self.is_current):
            self.reload()

    def _refresh_while_shown(self) -> None:
        # Not `_auto_refresh`: Textual's DOMNode sets an attribute of that name on every
        # instance, which hid the method (tests/test_architecture.py guards such names).
        if self.is_current:
            self.reload()

    # --- loading --------------------------------------------------------------------

    @property
    def search(self) -> str:
        return self.query_state.search

    def fetch(self, query: Query, count: bool = True) -> Page[Any]:
        """Return the page of rows for `query` (runs in a worker thread); with count=False
        the total may be left None when there are more rows than the page."""
        raise NotImplementedError

    def row_cells(self, row: Any) -> tuple[str, tuple[Any, ...]]:
        """(row key, cells in COLUMNS order) for one row of the page."""
        raise NotImplementedError

    def reload(self) -> None:
        self._load(self.query_state)

    @work(thread=True, exclusive=True, exit_on_error=False, group="refresh")
    def _load(self, query: Query) -> None:
        worker = get_current_worker()
        try:
            # The page first, the count after: the table follows the keys at the speed of
            # one page, and "N of M" fills in when the count (a scan of every row) is done.
            page = self.fetch(query, count=False)
            rows = [self.row_cells(row) for row in page.rows]
            if worker.is_cancelled:
                return  # a newer keystroke's load replaced this one: never show stale rows
            self.post_message(self.RowsLoaded(query, page, rows))
            if page.total is None:
                total = self.fetch(replace(query, limit=0)).total  # the count alone
                if not worker.is_cancelled:
                    self.post_message(self.Counted(query, total))
        except ThesisError as exc:
            self.post_message(self.LoadFailed(exc.msg))

    @on(RowsLoaded)
    def _apply_rows(self, message: RowsLoaded) -> None:
        if message.query != self.query_state:
            return  # rows for a filter or sort the user has already changed
        page = message.page
        if page.total is None and self._page is not None and self.shown_query == message.query:
            # A refresh of the same rows: keep the count shown until the new one comes, so
            # "N of M" does not flicker to "N of …" every few seconds.
            page = replace(page, total=self._page.total)
        self._rows = message.rows
        self._show_rows()
        if bool(self.row_data) != bool(message.data):
            self.call_after_refresh(self.refresh_bindings)  # row actions come or go
        self.row_data = message.data
        self.loaded = True
        self.shown_query = message.query
        self.rows_loaded(page)
        empty = not page.rows and not self.search
        table = self.query_one(DataTable)
        table.display = not empty
        self.query_one("#empty").display = empty
        self._show_status(page)

    def _available_width(self) -> int:
        # The table spans the screen; one column stays for its vertical scrollbar.
        return max(self.size.width or self.app.size.width, 20) - 1

    def _show_rows(self) -> None:
        """Put the loaded rows in the table: the columns that fit, long cells cut to size."""
        table = self.query_one(DataTable)
        rows = self._rows
        layout = fit(
            self.COLUMNS,
            natural_widths(self.COLUMNS, [cells for _, cells in rows], self.wide),
            self._available_width(),
            wide=self.wide,
        )
        shown = [(key, self._cells(layout, cells)) for key, cells in rows]
        keys = [key for key, _ in rows]
        with self.app.batch_update():
            existing = [row_key.value for row_key in table.rows]
            if existing == keys and layout == self.fitted:
                self._update_changed_cells(table, layout, shown)
            else:
                self._rebuild(table, layout, shown, existing)
        self.fitted = layout
        if self.cursor_to is not None and self.cursor_to in keys:
            table.move_cursor(row=keys.index(self.cursor_to), scroll=True)
            self.cursor_to = None

    def _cells(self, layout: Layout, cells: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(
            render(cells[i], width, self.COLUMNS[i], self.wide)
            for i, width in zip(layout.shown, layout.widths, strict=True)
        )

    def on_resize(self, event: events.Resize) -> None:
        if self.loaded:
            self._show_rows()
            self.refresh_status()

    def _update_changed_cells(
        self, table: DataTable, layout: Layout, rows: list[tuple[str, tuple[Any, ...]]]
    ) -> None:
        column_keys = [self.COLUMNS[i].key for i in layout.shown]
        for key, cells in rows:
            current = table.get_row(key)
            for column_key, old, new in zip(column_keys, current, cells, strict=True):
                if old != new:
                    table.update_cell(key, column_key, new)

    def _rebuild(
        self,
        table: DataTable,
        layout: Layout,
        rows: list[tuple[str, tuple[Any, ...]]],
        existing: list[str | None],
    ) -> None:
        row = table.cursor_row
        cursor_key = existing[row] if 0 <= row < len(existing) else None
        scroll_x = table.scroll_x
        table.clear(columns=True)
        for i, width in zip(layout.shown, layout.widths, strict=True):
            column = self.COLUMNS[i]
            table.add_column(column.label, key=column.key, width=width)
        for key, cells in rows:
            table.add_row(*cells, key=key)
        keys = [key for key, _ in rows]
        if cursor_key in keys:
            table.move_cursor(row=keys.index(cursor_key))
        if self.wide:
            table.scroll_x = scroll_x

    def shows(self, column_key: str) -> bool:
        """Whether the column `column_key` is on screen now."""
        return self.fitted is not None and any(
            self.COLUMNS[i].key == column_key for i in self.fitted.shown
        )

    def refresh_rows(self, keys: set[str] | None = None) -> None:
        """Draw rows again from `row_cells` (after a mark, say); all rows when `keys` is None."""
        if self.fitted is None:
            return
        self._rows = [
            self.row_cells(self.row_data[key]) if keys is None or key in keys else (key, cells)
            for key, cells in self._rows
        ]
        self._show_rows()  # a changed cell may need a wider column

    def action_toggle_wide(self) -> None:
        """w: every column at full width (scroll sideways) and absolute times, or back."""
        self.wide = not self.wide
        if self.loaded:
            self._show_rows()
            self.refresh_status()

    @on(DataTable.RowHighlighted, "#table")
    @on(DataTable.CellHighlighted, "#table")
    def _more_rows(self, event: DataTable.RowHighlighted | DataTable.CellHighlighted) -> None:
        """Near the end of the loaded rows, load the next page (the cursor stays)."""
        page = self._page
        if page is None or (page.total is not None and page.shown >= page.total):
            return
        row = (
            event.cursor_row
            if isinstance(event, DataTable.RowHighlighted)
            else event.coordinate.row
        )
        if row >= event.data_table.row_count - PAGE_MARGIN:
            limit = self.query_state.limit
            if self.shown_query is not None and self.shown_query.limit == limit:
                self.query_state = replace(self.query_state, limit=limit + PAGE)
                self.reload()

    @on(Counted)
    def _apply_count(self, message: Counted) -> None:
        if message.query == self.shown_query and self._page is not None:
            self._show_status(replace(self._page, total=message.total))

    @on(LoadFailed)
    def _show_failure(self, message: LoadFailed) -> None:
        self.notify(message.error, title="Could not load", severity="error")

    def rows_loaded(self, page: Page[Any]) -> None:
        """A hook for a screen that keeps state about its rows (before the status shows)."""

    def status_suffix(self) -> str:
        """More for the status line (e.g. how many rows are marked); nothing by default."""
        return ""

    def refresh_status(self) -> None:
        if self._page is not None:
            self._show_status(self._page)

    def _show_status(self, page: Page[Any]) -> None:
        self._page = page
        total = "…" if page.total is None else page.total
        text = f"{page.shown} of {total} {self.NOUN}"
        if self.scope is not None:
            text += f" of {self.scope}"
        if page.total is None or page.shown < page.total:
            text += " (more as you scroll; / filters)"
        if self.search:
            text += f" matching “{self.search}”"
        sort = self.query_state.sort
        if sort:
            label = next((c.label for c in self.COLUMNS if c.key == sort), sort)
            text += f" · sorted by {label} {'↓' if self.query_state.descending else '↑'}"
        if self.wide:
            text += " · wide view (w)"
        elif self.fitted is not None and self.fitted.dropped:
            hidden = len(self.fitted.dropped)
            text += f" · w: +{hidden} column{'s' if hidden > 1 else ''}"
        self.query_one("#status", Static).update(text + self.status_suffix())

    # --- actions --------------------------------------------------------------------

    def selected_row(self) -> Any | None:
        """The service row under the cursor, or None when the table is empty."""
        table = self.query_one(DataTable)
        if not table.row_count or not table.display:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.row_data.get(key)

    def require_selection(self) -> Any | None:
        row = self.selected_row()
        if row is None:
            self.notify(f"No {self.NOUN} to act on.", severity="warning")
        return row

    @work(thread=True, exit_on_error=False, group="write")
    def run_service(
        self, action: Callable[[], str | None], then: Callable[[], None] | None = None
    ) -> None:
        """Run a service call off the event loop; say how it went; refresh the table.

        `then` runs on the event loop after a success (e.g. start following logs).
        """
        try:
            message = action()
        except ThesisError as exc:
            self.app.call_from_thread(
                self.notify, exc.msg, title=exc.title, severity="error", timeout=8
            )
            self.app.call_from_thread(self.reload)
            return
        if message:
            self.app.call_from_thread(self.notify, message)
        self.app.call_from_thread(self.reload)
        if then is not None:
            self.app.call_from_thread(then)

    def action_refresh(self) -> None:
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Back only from a drill-down: on a top screen escape is not offered.
        if action == "back":
            return self.scope is not None or self.PUSHED
        # An empty table offers no action on a row.
        return action not in self.ROW_ACTIONS or bool(self.row_data)

    def action_back(self) -> None:
        if self.scope is not None or self.PUSHED:
            self.dismiss()

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.display = True
        bar.focus()

    def action_cursor_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()

    def _sortable(self) -> list[str]:
        return [column.key for column in self.COLUMNS if column.sortable]

    def sort_by(self, key: str | None, descending: bool = False) -> None:
        self.query_state = replace(self.query_state, sort=key, descending=descending, limit=PAGE)
        self.reload()

    def action_sort_next(self) -> None:
        """Sort by the next sortable column (then back to the default order)."""
        keys = self._sortable()
        if not keys:
            self.notify("This table has a fixed order.", severity="warning")
            return
        current = self.query_state.sort
        following = keys[keys.index(current) + 1] if current in keys[:-1] else None
        self.sort_by(keys[0] if current is None else following)

    def action_sort_reverse(self) -> None:
        if self.query_state.sort is not None:
            self.sort_by(self.query_state.sort, not self.query_state.descending)

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value
        if key in self._sortable():
            same = self.query_state.sort == key
            self.sort_by(key, descending=same and not self.query_state.descending)

    @on(FilterBar.Changed)
    def _filter_changed(self, event: FilterBar.Changed) -> None:
        self.query_state = replace(self.query_state, search=event.value.strip(), limit=PAGE)
        self.reload()

    @on(FilterBar.Submitted)
    def _filter_submitted(self) -> None:
        self.query_one(DataTable).focus()

    @on(FilterBar.Dismissed)
    def _filter_dismissed(self) -> None:
        self.query_one(FilterBar).display = False
        self.query_one(DataTable).focus()
