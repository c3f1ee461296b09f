"""1 · Models: the catalogue of LLMs and how many apps each generated."""

from __future__ import annotations

from typing import Any

from tui.screens.base import Column, Query, TableScreen
from tui.services.catalog import ModelRow, list_models
from tui.services.common import Page
from tui.widgets.format import flags, money, number


class ModelsScreen(TableScreen):
    SUB_TITLE = "Models"
    NOUN = "models"
    EMPTY_HINT = (
        "No models in the catalogue yet.\n\n"
        "Import them with  thesis models sync  (from OpenRouter)\n"
        "or  thesis models sync --from models.json  (offline)."
    )
    COLUMNS = [
        Column("slug", "Slug"),
        Column("provider", "Provider"),
        Column("name", "Name"),
        Column("params", "Params B"),
        Column("context", "Context"),
        Column("in", "$in/1M"),
        Column("out", "$out/1M"),
        Column("caps", "Caps"),
        Column("apps", "Apps"),
    ]

    def fetch(self, query: Query) -> Page[Any]:
        return list_models(self.thesis.db, search=query.search)

    def row_cells(self, row: ModelRow) -> tuple[str, tuple[Any, ...]]:
        return str(row.id), (
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
