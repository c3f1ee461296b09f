"""2 · Applications: every (model, app N) with its status, ports and last analysis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from tui.errors import ThesisError
from tui.screens.base import Column, Query, TableScreen
from tui.services.apps import AppDetail, AppRow, get_app_detail, list_applications
from tui.services.common import Page
from tui.services.ports import allocate_ports
from tui.services.scanner import scan_apps
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
    BINDINGS = [
        Binding("p", "allocate_ports", "Ports"),
        Binding("u", "scan", "Scan folder"),
    ]
    COLUMNS = [
        Column("model", "Model", sortable=True),
        Column("app", "App", sortable=True),
        Column("status", "Status", sortable=True),
        Column("backend", "Backend", sortable=True),
        Column("frontend", "Frontend", sortable=True),
        Column("checked", "Last check", sortable=True),
        Column("analysis", "Last analysis", sortable=True),
    ]

    def fetch(self, query: Query) -> Page[Any]:
        return list_applications(
            self.thesis.db, search=query.search, sort=query.sort, descending=query.descending
        )

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

    # --- scan and detail pane ----------------------------------------------------------

    def action_scan(self) -> None:
        """Scan THESIS_APPS_DIR, as `thesis apps scan` does."""
        db, root = self.thesis.db, self.thesis.settings.apps_dir
        self.notify(f"Scanning {root} …")

        def scan() -> str:
            report = scan_apps(db, root)
            if report.skipped:
                skipped = "; ".join(f"{Path(p).name}: {r}" for p, r in report.skipped[:3])
                more = len(report.skipped) - 3
                self.app.call_from_thread(
                    self.notify,
                    skipped + (f"; and {more} more" if more > 0 else ""),
                    title="Folders skipped",
                    severity="warning",
                )
            return report.summary()

        self.run_service(scan)

    def compose_below_table(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static("", id="detail-text")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#detail").display = False

    @on(DataTable.RowSelected)
    def _toggle_detail(self) -> None:
        pane = self.query_one("#detail")
        pane.display = not pane.display
        if pane.display:
            self._show_selected()

    @on(DataTable.RowHighlighted)
    def _follow_cursor(self) -> None:
        if self.query_one("#detail").display:
            self._show_selected()

    def _show_selected(self) -> None:
        row = self.selected_row()
        if row is not None:
            self._load_detail(row.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="read:detail")
    def _load_detail(self, app_id: int) -> None:
        try:
            text = describe_app(get_app_detail(self.thesis.db, app_id))
        except ThesisError as exc:
            text = Text(exc.msg, style="red")
        self.app.call_from_thread(self.query_one("#detail-text", Static).update, text)


def _size(size: int) -> str:
    return f"{size} B" if size < 1024 else f"{size / 1024:.1f} KB"


def describe_app(detail: AppDetail) -> Text:
    """The detail pane's text: identity, scan metadata, compose services, files."""
    meta = detail.metadata
    ports = (
        f"{detail.backend_port}/{detail.frontend_port}" if detail.backend_port else "none yet (p)"
    )
    text = Text()
    text.append(f"{detail.model_slug} app {detail.app_number}", style="bold")
    text.append(f" · {detail.status} · ports {ports}\n")
    text.append(f"folder {detail.source_path or NONE}")
    text.append(" (missing)\n" if detail.missing else "\n", style="red" if detail.missing else "")
    languages = ", ".join(f"{name} {lines}" for name, lines in meta.get("languages", {}).items())
    text.append(
        f"{meta.get('files', 0)} files · {meta.get('lines_of_code', 0)} lines"
        f"{' · ' + languages if languages else ''}"
        f" · hash {(detail.content_hash or NONE)[:12]}\n"
    )
    if meta.get("error"):
        text.append(f"compose: {meta['error']}\n", style="red")
    for name, service in (meta.get("services") or {}).items():
        source = service.get("build") or service.get("image") or "?"
        ports_text = ", ".join(service.get("ports") or []) or "no ports"
        text.append(f"service {name}: {source} · {ports_text}\n")
    for path, size in detail.files:
        text.append(f"  {path}  ", style="")
        text.append(f"{_size(size)}\n", style="dim")
    if detail.files_note:
        text.append(f"  ({detail.files_note})\n", style="dim")
    return text
