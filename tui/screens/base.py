"""A screen that shows one table from the database.

Rows are loaded by a service in a thread worker (never on the event loop), filtered and
limited in SQL, and applied to the DataTable by row key: unchanged rows stay, changed cells
update, so the cursor does not jump when the table refreshes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tui.errors import ThesisError
from tui.services.common import Page
from tui.widgets.filter_bar import FilterBar
from tui.widgets.nav_bar import NavBar

if TYPE_CHECKING:
    from tui.app import ThesisApp


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None = None
    sortable: bool = False
    """The screen's service can ORDER BY this column (its key is the service's sort name)."""


@dataclass(frozen=True)
class Query:
    """What the user asked the table for: filter words and sort order."""

    search: str = ""
    sort: str | None = None
    descending: bool = False


class TableScreen(Screen):
    """Base of the five list screens: subclasses name their columns and load their rows."""

    MODE: ClassVar[str] = ""
    COLUMNS: ClassVar[list[Column]] = []
    EMPTY_HINT: ClassVar[str] = "Nothing here yet."
    NOUN: ClassVar[str] = "rows"

    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("ctrl+r", "refresh", "Refresh", show=False),
        Binding("o", "sort_next", "Sort", show=False),
        Binding("O", "sort_reverse", "Reverse sort", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    class RowsLoaded(Message):
        def __init__(self, page: Page[Any], rows: list[tuple[str, tuple[Any, ...]]]) -> None:
            super().__init__()
            self.page = page
            self.rows = rows
            self.data = {key: row for (key, _), row in zip(rows, page.rows, strict=True)}

    class LoadFailed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.query_state = Query()
        self.loaded = False
        self.row_data: dict[str, Any] = {}
        self._page: Page[Any] | None = None

    @property
    def thesis(self) -> ThesisApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        with Vertical(id="body"):
            yield DataTable(id="table", cursor_type="row", zebra_stripes=True)
            yield Static(self.EMPTY_HINT, id="empty", classes="empty-state")
            yield from self.compose_below_table()
        yield Static("", id="status", classes="status-line")
        yield FilterBar(id="filter")
        yield Footer(compact=True)

    def compose_below_table(self) -> ComposeResult:
        """Extra widgets under the table (a detail pane); none by default."""
        yield from ()

    def on_mount(self) -> None:
        self.query_one("#empty").display = False
        self.query_one(FilterBar).display = False
        self.reload()
        interval = self.thesis.settings.refresh_interval
        self.set_interval(interval, self._auto_refresh, name="auto-refresh")

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.reload()

    def _auto_refresh(self) -> None:
        if self.is_current:
            self.reload()

    # --- loading --------------------------------------------------------------------

    @property
    def search(self) -> str:
        return self.query_state.search

    def fetch(self, query: Query) -> Page[Any]:
        """Return the page of rows for `query` (runs in a worker thread)."""
        raise NotImplementedError

    def row_cells(self, row: Any) -> tuple[str, tuple[Any, ...]]:
        """(row key, cells in COLUMNS order) for one row of the page."""
        raise NotImplementedError

    def reload(self) -> None:
        self._load(self.query_state)

    @work(thread=True, exclusive=True, exit_on_error=False, group="refresh")
    def _load(self, query: Query) -> None:
        try:
            page = self.fetch(query)
            rows = [self.row_cells(row) for row in page.rows]
        except ThesisError as exc:
            self.post_message(self.LoadFailed(exc.msg))
            return
        self.post_message(self.RowsLoaded(page, rows))

    @on(RowsLoaded)
    def _apply_rows(self, message: RowsLoaded) -> None:
        table = self.query_one(DataTable)
        keys = [key for key, _ in message.rows]
        widths = self._column_widths(message.rows)
        with self.app.batch_update():
            existing = [row_key.value for row_key in table.rows]
            current_widths = [column.width for column in table.ordered_columns]
            fits = len(current_widths) == len(widths) and all(
                map(operator.le, widths, current_widths)
            )
            if existing == keys and fits:
                self._update_changed_cells(table, message.rows)
            else:
                self._rebuild(table, message.rows, widths, existing)
        self.row_data = message.data
        self.loaded = True
        page = message.page
        empty = page.total == 0 and not self.search
        table.display = not empty
        self.query_one("#empty").display = empty
        self._show_status(page)

    def _column_widths(self, rows: list[tuple[str, tuple[Any, ...]]]) -> list[int]:
        # Sized here rather than by DataTable's auto-width, which measures on idle and
        # can leave rows drawn (and cached) at the header's width until the next redraw.
        widths = [cell_len(column.label) for column in self.COLUMNS]
        for _, cells in rows:
            widths = [
                max(width, cell_len(str(cell))) for width, cell in zip(widths, cells, strict=True)
            ]
        return [column.width or width for column, width in zip(self.COLUMNS, widths, strict=True)]

    def _update_changed_cells(
        self, table: DataTable, rows: list[tuple[str, tuple[Any, ...]]]
    ) -> None:
        column_keys = [column.key for column in self.COLUMNS]
        for key, cells in rows:
            current = table.get_row(key)
            for column_key, old, new in zip(column_keys, current, cells, strict=True):
                if old != new:
                    table.update_cell(key, column_key, new)

    def _rebuild(
        self,
        table: DataTable,
        rows: list[tuple[str, tuple[Any, ...]]],
        widths: list[int],
        existing: list[str | None],
    ) -> None:
        row = table.cursor_row
        cursor_key = existing[row] if 0 <= row < len(existing) else None
        table.clear(columns=True)
        for column, width in zip(self.COLUMNS, widths, strict=True):
            table.add_column(column.label, key=column.key, width=width)
        for key, cells in rows:
            table.add_row(*cells, key=key)
        keys = [key for key, _ in rows]
        if cursor_key in keys:
            table.move_cursor(row=keys.index(cursor_key))

    @on(LoadFailed)
    def _show_failure(self, message: LoadFailed) -> None:
        self.notify(message.error, title="Could not load", severity="error")

    def status_suffix(self) -> str:
        """More for the status line (e.g. how many rows are marked); nothing by default."""
        return ""

    def refresh_status(self) -> None:
        if self._page is not None:
            self._show_status(self._page)

    def _show_status(self, page: Page[Any]) -> None:
        self._page = page
        text = f"{page.shown} of {page.total} {self.NOUN}"
        if page.shown < page.total and not self.search:
            text += " (showing the first; press / to filter)"
        if self.search:
            text += f" matching “{self.search}”"
        sort = self.query_state.sort
        if sort:
            label = next((c.label for c in self.COLUMNS if c.key == sort), sort)
            text += f" · sorted by {label} {'↓' if self.query_state.descending else '↑'}"
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
        self.query_state = replace(self.query_state, sort=key, descending=descending)
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
        self.query_state = replace(self.query_state, search=event.value.strip())
        self.reload()

    @on(FilterBar.Submitted)
    def _filter_submitted(self) -> None:
        self.query_one(DataTable).focus()

    @on(FilterBar.Dismissed)
    def _filter_dismissed(self) -> None:
        self.query_one(FilterBar).display = False
        self.query_one(DataTable).focus()
