"""1 · Models: the catalogue of LLMs and how many apps each generated."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.widgets import DataTable

from tui.errors import ThesisError
from tui.screens.base import Column, Query, Scope, TableScreen
from tui.widgets.confirm import ConfirmModal
from tui.widgets.format import flags, money, number

if TYPE_CHECKING:
    from tui.services.common import Page
    from tui.services.model_listing import ModelRow
    from tui.services.schemas import ModelCreate, ModelRead, ModelUpdate

# The first screen: what it needs only to act (the catalogue service, the form, OpenRouter,
# the next screen of a drill-down) is imported on first use, so the TUI paints sooner.


class ModelsScreen(TableScreen):
    SUB_TITLE = "Models"
    MODE = "models"
    BINDINGS = [
        Binding("enter", "drill_down", "Apps", tooltip="The model's apps (esc comes back)"),
        Binding("a", "add", "Add", tooltip="Add a model by hand"),
        Binding("e", "edit", "Edit", tooltip="Edit the highlighted model"),
        Binding(
            "d",
            "delete",
            "Delete",
            tooltip="Delete the model with its apps, ports and analyses (asks first; files stay)",
        ),
        Binding(
            "u",
            "sync",
            "Sync",
            tooltip="Update the catalogue from OpenRouter (as thesis models sync)",
        ),
    ]
    HELP_NOTES = ["Caps: V vision, F tools (function calling), J JSON mode, S streaming."]
    NOUN = "models"
    ROW_ACTIONS = frozenset({"drill_down", "edit", "delete"})
    EMPTY_HINT = (
        "No models in the catalogue yet.\n\n"
        "Import them with  thesis models sync  (from OpenRouter)\n"
        "or  thesis models sync --from models.json  (offline)."
    )
    COLUMNS = [
        Column("slug", "Slug", sortable=True, elide="middle", min_width=16),
        # Provider and name mostly repeat the slug: they go first on a narrow screen.
        Column("provider", "Provider", sortable=True, priority=5, elide="end"),
        Column("name", "Name", sortable=True, priority=4, elide="end"),
        Column("params", "Params B", sortable=True, priority=3),
        Column("context", "Context", sortable=True, priority=2),
        Column("in", "$in/1M", sortable=True, priority=1),
        Column("out", "$out/1M", sortable=True, priority=1),
        Column("caps", "Caps", priority=3),
        Column("apps", "Apps", sortable=True),
    ]

    def fetch(self, query: Query, count: bool = True) -> Page[Any]:
        from tui.services.model_listing import list_models

        return list_models(
            self.thesis.db,
            **query.listing(count),
        )

    def row_cells(self, row: ModelRow) -> tuple[str, tuple[Any, ...]]:
        cells = (
            row.slug,
            row.provider,
            row.name,
            number(row.parameters_billions, 1) if row.parameters_billions else "—",
            number(row.context_length),
            money(row.price_prompt),
            money(row.price_completion),
            flags(V=row.vision, F=row.function_calling, J=row.json_mode, S=row.streaming),
            str(row.app_count),
        )
        # Models the last sync no longer listed stay (with their apps), dimmed.
        style = "" if row.is_available else "dim strike"
        return str(row.id), tuple(Text(cell, style=style) for cell in cells)

    def action_sync(self) -> None:
        """Update the catalogue from OpenRouter's model list, as `thesis models sync` does."""
        from tui.services import catalog
        from tui.services.openrouter import fetch_openrouter_models

        thesis, settings = self.thesis, self.thesis.settings
        self.notify(f"Fetching the model list from {settings.openrouter_base_url} …")
        self.run_service(
            lambda: catalog.sync_models(thesis.db, fetch_openrouter_models(settings)).summary()
        )

    # --- add / edit / delete -----------------------------------------------------------

    def action_add(self) -> None:
        from tui.screens.model_form import ModelFormScreen

        self.app.push_screen(ModelFormScreen(), self._create)

    def _create(self, data: ModelCreate | ModelUpdate | None) -> None:
        from tui.services import catalog
        from tui.services.schemas import ModelCreate

        if isinstance(data, ModelCreate):
            thesis = self.thesis
            self.run_service(lambda: f"Added {catalog.create_model(thesis.db, data).slug}.")

    def action_edit(self) -> None:
        row = self.require_selection()
        if row is not None:
            self._open_editor(row.slug)

    @work(thread=True, exit_on_error=False, group="read:model")
    def _open_editor(self, slug: str) -> None:
        from tui.screens.model_form import ModelFormScreen
        from tui.services import catalog

        try:
            model = catalog.get_model(self.thesis.db, slug)
        except ThesisError as exc:
            self.app.call_from_thread(self.notify, exc.msg, severity="error")
            return
        self.app.call_from_thread(
            self.app.push_screen, ModelFormScreen(model), lambda data: self._update(model, data)
        )

    def _update(self, model: ModelRead, data: ModelCreate | ModelUpdate | None) -> None:
        from tui.services import catalog
        from tui.services.schemas import ModelUpdate

        if isinstance(data, ModelUpdate):
            thesis = self.thesis
            self.run_service(
                lambda: f"Saved {catalog.update_model(thesis.db, model.slug, data).slug}."
            )

    def action_delete(self) -> None:
        row = self.require_selection()
        if row is not None:
            self._confirm_delete(row.slug)

    @work(thread=True, exit_on_error=False, group="read:model")
    def _confirm_delete(self, slug: str) -> None:
        from tui.services import catalog

        try:
            apps = catalog.count_apps(self.thesis.db, slug)
        except ThesisError as exc:
            self.app.call_from_thread(self.notify, exc.msg, severity="error")
            return
        body = (
            f"Delete the model {slug}"
            + (
                f" and its {apps} app{'s' if apps != 1 else ''}, with their ports and analyses?"
                if apps
                else "? It has no apps."
            )
            + "\nFiles on disk are not touched."
        )
        self.app.call_from_thread(
            self.app.push_screen,
            ConfirmModal("Delete model", body),
            lambda yes: self._delete(slug) if yes else None,
        )

    def _delete(self, slug: str) -> None:
        from tui.services import catalog

        thesis = self.thesis

        def delete() -> str:
            apps = catalog.delete_model(thesis.db, slug)
            return f"Deleted {slug}" + (f" and {apps} apps." if apps else ".")

        self.run_service(delete)

    @on(DataTable.RowSelected)
    def action_drill_down(self) -> None:
        """enter: the highlighted model's apps, on a screen of their own (esc back)."""
        from tui.screens.applications import ApplicationsScreen

        row = self.selected_row()
        if row is not None:
            self.app.push_screen(ApplicationsScreen(Scope(row.slug)))
