"""2 · Applications: every (model, app N) with its status, ports and last analysis."""

from __future__ import annotations

from typing import Any

from tui.screens.base import Column, Query, TableScreen
from tui.services.apps import AppRow, list_applications
from tui.services.common import Page
from tui.widgets.format import NONE, when
from tui.widgets.format import status as fmt_status


class ApplicationsScreen(TableScreen):
    SUB_TITLE = "Applications"
    MODE = "applications"
    NOUN = "apps"
    EMPTY_HINT = (
        "No generated applications yet.\n\n"
        "Scan a folder laid out <model_slug>/app<N>/ with  thesis apps scan DIR\n"
        "(default folder: THESIS_APPS_DIR)."
    )
    COLUMNS = [
        Column("model", "Model"),
        Column("app", "App"),
        Column("status", "Status"),
        Column("backend", "Backend"),
        Column("frontend", "Frontend"),
        Column("checked", "Last check"),
        Column("analysis", "Last analysis"),
    ]

    def fetch(self, query: Query) -> Page[Any]:
        return list_applications(self.thesis.db, search=query.search)

    def row_cells(self, row: AppRow) -> tuple[str, tuple[Any, ...]]:
        status = f"{row.status} (missing)" if row.missing else row.status
        return str(row.id), (
            row.model_slug,
            str(row.app_number),
            fmt_status(status),
            str(row.backend_port) if row.backend_port else NONE,
            str(row.frontend_port) if row.frontend_port else NONE,
            when(row.last_status_check),
            row.last_analysis or NONE,
        )
