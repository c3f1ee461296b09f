"""2 · Applications: every (model, app N) with its status, ports and last analysis."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding

from tui.screens.base import Column, Query, TableScreen
from tui.services.apps import AppRow, list_applications
from tui.services.common import Page
from tui.services.ports import allocate_ports
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
    BINDINGS = [Binding("p", "allocate_ports", "Ports")]
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

    def action_allocate_ports(self) -> None:
        """Give the selected app a backend and frontend port (it keeps ports it has)."""
        row = self.require_selection()
        if row is None:
            return
        db, settings = self.thesis.db, self.thesis.settings

        def allocate() -> str:
            ports = allocate_ports(
                db, row.model_slug, row.app_number, settings.backend_ports, settings.frontend_ports
            )
            return (
                f"{row.model_slug} app {row.app_number}: backend {ports.backend_port}, "
                f"frontend {ports.frontend_port}."
            )

        self.run_service(allocate)
