"""3 · Ports: the host ports allocated to each app, conflicts with the host highlighted."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding

from tui.screens.base import Column, Query, TableScreen
from tui.services import ports
from tui.services.common import Page
from tui.services.ports import PortRow, list_allocations
from tui.widgets.confirm import ConfirmModal
from tui.widgets.format import NONE, when


class PortsScreen(TableScreen):
    SUB_TITLE = "Ports"
    MODE = "ports"
    NOUN = "allocations"
    ROW_ACTIONS = frozenset({"release"})
    BINDINGS = [
        Binding(
            "a",
            "allocate_all",
            "Allocate all",
            tooltip="Give every app without ports a backend and a frontend port",
        ),
        Binding(
            "d", "release", "Release", tooltip="Release the highlighted app's ports (asks first)"
        ),
    ]
    EMPTY_HINT = (
        "No ports allocated yet.\n\n"
        "Press a to give every app a backend and a frontend port\n"
        "(ranges: THESIS_BACKEND_PORTS, THESIS_FRONTEND_PORTS)."
    )
    COLUMNS = [
        Column("model", "Model", sortable=True, elide="middle", min_width=14),
        Column("app", "App", sortable=True),
        Column("backend", "Backend", sortable=True),
        Column("frontend", "Frontend", sortable=True),
        Column("allocated", "Allocated", sortable=True, priority=3),
        Column("conflict", "Host conflict", priority=1, elide="end"),
    ]

    def fetch(self, query: Query, count: bool = True) -> Page[Any]:
        return list_allocations(
            self.thesis.db,
            **query.listing(count),
            with_conflicts=True,
        )

    def row_cells(self, row: PortRow) -> tuple[str, tuple[Any, ...]]:
        # A port another process listens on will make the app fail to start: show it red.
        style = "bold red" if row.conflict else ""
        cells = (
            row.model_slug,
            str(row.app_number),
            str(row.backend_port),
            str(row.frontend_port),
            when(row.allocated_at),
            row.conflict or NONE,
        )
        return str(row.id), tuple(Text(cell, style=style) for cell in cells)

    def action_allocate_all(self) -> None:
        thesis, settings = self.thesis, self.thesis.settings

        def allocate() -> str:
            result = ports.allocate_all(thesis.db, settings.backend_ports, settings.frontend_ports)
            exhausted = result.exhausted_message()
            if exhausted:
                self.app.call_from_thread(
                    self.notify, exhausted, title="No free ports", severity="error", timeout=10
                )
            return result.summary()

        self.run_service(allocate)

    def action_release(self) -> None:
        row = self.require_selection()
        if row is None:
            return
        body = (
            f"Release ports {row.backend_port} and {row.frontend_port} of "
            f"{row.model_slug} app {row.app_number}?\n"
            "Its containers will need new ports before they start again."
        )

        def release(yes: bool | None) -> None:
            if yes:
                thesis = self.thesis
                self.run_service(
                    lambda: self._released(
                        ports.release_ports(thesis.db, row.model_slug, row.app_number)
                    )
                )

        self.app.push_screen(ConfirmModal("Release ports", body, confirm_label="Release"), release)

    @staticmethod
    def _released(row: PortRow | None) -> str:
        if row is None:
            return "That app had no ports."
        ports_text = f"{row.backend_port}/{row.frontend_port}"
        return f"Released {ports_text} of {row.model_slug} app {row.app_number}."
