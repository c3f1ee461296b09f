"""3 · Ports: the host ports allocated to each app."""

from __future__ import annotations

from typing import Any

from tui.screens.base import Column, Query, TableScreen
from tui.services.common import Page
from tui.services.ports import PortRow, list_allocations
from tui.widgets.format import when


class PortsScreen(TableScreen):
    SUB_TITLE = "Ports"
    MODE = "ports"
    NOUN = "allocations"
    EMPTY_HINT = (
        "No ports allocated yet.\n\n"
        "Give every app a backend and frontend port with  thesis ports allocate --all\n"
        "(ranges: THESIS_BACKEND_PORTS, THESIS_FRONTEND_PORTS)."
    )
    COLUMNS = [
        Column("model", "Model"),
        Column("app", "App"),
        Column("backend", "Backend"),
        Column("frontend", "Frontend"),
        Column("allocated", "Allocated"),
    ]

    def fetch(self, query: Query) -> Page[Any]:
        return list_allocations(self.thesis.db, search=query.search)

    def row_cells(self, row: PortRow) -> tuple[str, tuple[Any, ...]]:
        return str(row.id), (
            row.model_slug,
            str(row.app_number),
            str(row.backend_port),
            str(row.frontend_port),
            when(row.allocated_at),
        )
