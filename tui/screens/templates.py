"""T · Templates: the app templates in force (ours and THESIS_TEMPLATES_DIR's), by number;
`enter` shows one whole (requirements, endpoints, data model). Files of the user's folder
that were left out are named in a notification, once per visit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tui.screens.base import Column, Query, TableScreen
from tui.widgets.key_bar import KeyBar
from tui.widgets.nav_bar import NavBar

if TYPE_CHECKING:
    from tui.services.common import Page
    from tui.services.generation.templates import Loaded


class TemplatesScreen(TableScreen):
    SUB_TITLE = "Templates"
    MODE = "applications"
    PUSHED = True
    NOUN = "templates"
    ROW_ACTIONS = frozenset({"open"})
    BINDINGS = [
        Binding("enter", "open", "Open", tooltip="The template whole: requirements, endpoints"),
    ]
    EMPTY_HINT = "No template matches."
    COLUMNS = [
        Column("number", "N", sortable=True),
        Column("slug", "Slug", sortable=True, elide="end", min_width=12),
        Column("name", "Name", sortable=True, elide="end", priority=2),
        Column("category", "Category", sortable=True, priority=3),
        Column("endpoints", "Endpoints", sortable=True, priority=1),
        Column("source", "From", sortable=True, priority=1),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._warned = False

    def fetch(self, query: Query, count: bool = True) -> Page[Any]:
        from tui.services.common import Page, matches
        from tui.services.generation.templates import load_templates

        catalogue = load_templates(self.thesis.settings.templates_dir)
        if catalogue.problems and not self._warned:
            self._warned = True
            left_out = "; ".join(catalogue.problems[:3])
            extra = len(catalogue.problems) - 3
            more = f" (and {extra} more)" if extra > 0 else ""
            self.app.call_from_thread(
                self.notify, f"Left out: {left_out}{more}", title="Templates", severity="warning"
            )
        rows = [
            loaded for loaded in catalogue.all() if matches(query.search, " ".join(_cells(loaded)))
        ]
        if query.sort:
            index = [c.key for c in self.COLUMNS].index(query.sort)
            rows.sort(key=lambda loaded: _sort_key(loaded, index), reverse=query.descending)
        return Page(rows, len(rows))

    def row_cells(self, row: Loaded) -> tuple[str, tuple[Any, ...]]:
        return row.template.slug, _cells(row)

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        row = self.require_selection()
        if row is not None:
            self.app.push_screen(TemplateScreen(row))


def _cells(loaded: Loaded) -> tuple[str, ...]:
    template = loaded.template
    return (str(template.number), template.slug, template.name, template.category,
            str(len(template.endpoints)), loaded.source)  # fmt: skip


def _sort_key(loaded: Loaded, index: int) -> Any:
    cell = _cells(loaded)[index]
    return (int(cell), "") if cell.isdigit() else (0, cell)


class TemplateScreen(Screen):
    """One template, as `thesis templates show` prints it (esc back)."""

    SUB_TITLE = "Template"
    BINDINGS = [
        Binding("escape", "dismiss", "Back", tooltip="Back to the templates"),
        Binding("q", "dismiss", "Back", show=False),
    ]

    def __init__(self, loaded: Loaded) -> None:
        super().__init__()
        self.loaded = loaded

    def compose(self) -> ComposeResult:
        from tui.services.generation.templates import describe

        yield NavBar("applications")
        with VerticalScroll(id="template-text"):
            yield Static(describe(self.loaded.template, self.loaded.path), markup=False)
        yield KeyBar()
