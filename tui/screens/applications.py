"""2 · Applications: every (model, app N) with its status, ports and last analysis."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from tui.errors import ThesisError, shown
from tui.screens.base import Column, Query, Scope, TableScreen
from tui.widgets.confirm import ConfirmModal
from tui.widgets.filter_bar import FilterBar
from tui.widgets.format import NONE
from tui.widgets.format import status as fmt_status
from tui.widgets.log_panel import LogPanel

if TYPE_CHECKING:
    from tui.services.apps import AppDetail, AppRow
    from tui.services.common import Page
    from tui.services.container_logs import LogFollower

# Listing needs only the apps service: Docker (health, containers), the scanner and the
# Analyses screen are imported by the actions that use them, so the screen opens sooner.


class ApplicationsScreen(TableScreen):
    SUB_TITLE = "Applications"
    MODE = "applications"
    NOUN = "apps"
    # (`a` stays: it analyses the marked apps even when a filter shows none of them.)
    ROW_ACTIONS = frozenset({
        "drill_down", "details", "mark", "start_stop", "logs", "build", "restart", "health",
        "allocate_ports", "remove",
    })  # fmt: skip
    EMPTY_HINT = (
        "No generated applications yet.\n\n"
        "Scan a folder laid out <model_slug>/app<N>/ with  thesis apps scan DIR\n"
        "(default folder: THESIS_APPS_DIR)."
    )
    BINDINGS = [
        Binding(
            "enter",
            "drill_down",
            "Analyses",
            tooltip="The app's analyses (esc comes back)",
        ),
        Binding(
            "i",
            "details",
            "Info",
            tooltip="Show the app's folder, files and compose services (i again hides them)",
        ),
        Binding(
            "a",
            "analyse",
            "Analyse",
            tooltip="Start analyses of the marked apps, or of the highlighted one",
        ),
        Binding("space", "mark", "Mark", tooltip="Mark or unmark the app for a"),
        Binding("U", "clear_marks", "Unmark all", tooltip="Clear every mark"),
        Binding(
            "s",
            "start_stop",
            "Start/stop",
            tooltip="Start the app (then check it answers "
            "and follow its logs), or stop it (asks first)",
        ),
        Binding("l", "logs", "Logs", tooltip="Follow the app's container logs (l again hides)"),
        Binding(
            "b", "build", "Build", tooltip="Build the app's images; the output streams into the log"
        ),
        Binding("r", "restart", "Restart", tooltip="Restart the app's containers"),
        Binding("h", "health", "Health", tooltip="Probe the app's published services over HTTP"),
        Binding(
            "p",
            "allocate_ports",
            "Ports",
            tooltip="Give the app a backend and a frontend port (it keeps ports it has)",
        ),
        Binding("u", "scan", "Scan", tooltip="Scan THESIS_APPS_DIR for apps (as thesis apps scan)"),
        Binding(
            "g",
            "generate",
            "Generate",
            tooltip="Generate apps with models, from templates (a job; its cost shown first)",
        ),
        Binding(
            "x",
            "remove",
            "Remove",
            tooltip="Remove the app's containers and network (asks first; files and results stay)",
        ),
        Binding(
            "X", "remove(True)", "Remove+images", tooltip="Remove them and the app's images too"
        ),
    ]
    HELP_PARTS = [("The log (tab to it)", LogPanel), ("The filter", FilterBar)]
    COLUMNS = [
        Column("model", "Model", sortable=True, elide="middle", min_width=14),
        Column("app", "App", sortable=True),
        Column("status", "Status", sortable=True, elide="end", min_width=10),
        Column("backend", "Backend", sortable=True, priority=2),
        Column("frontend", "Frontend", sortable=True, priority=2),
        Column("checked", "Last check", sortable=True, priority=3),
        Column("analysis", "Last analysis", sortable=True, priority=1, elide="end"),
    ]

    def fetch(self, query: Query, count: bool = True) -> Page[Any]:
        from tui.services.apps import list_applications

        return list_applications(
            self.thesis.db,
            **query.listing(count),
            model=self.scope.model if self.scope else None,
        )

    def __init__(self, scope: Scope | None = None) -> None:
        super().__init__(scope)
        self.marked: set[tuple[str, int]] = set()
        """(model, app N) marked with space for `a`."""

    def row_cells(self, row: AppRow) -> tuple[str, tuple[Any, ...]]:
        status = f"{row.status} (missing)" if row.missing else row.status
        return str(row.id), (
            self._model_cell(row),
            str(row.app_number),
            fmt_status(status),
            str(row.backend_port) if row.backend_port else NONE,
            str(row.frontend_port) if row.frontend_port else NONE,
            row.last_status_check,
            row.last_analysis or NONE,
        )

    def _model_cell(self, row: AppRow) -> str:
        marked = (row.model_slug, row.app_number) in self.marked
        return f"● {row.model_slug}" if marked else row.model_slug

    def status_suffix(self) -> str:
        if not self.marked:
            return ""
        visible = {(row.model_slug, row.app_number) for row in self.row_data.values()}
        hidden = len(self.marked - visible)
        return f" · {len(self.marked)} marked" + (f", {hidden} not shown" if hidden else "")

    def rows_loaded(self, page: Page[Any]) -> None:
        """Marks of apps that are gone (deleted, or scanned away) are dropped."""
        if self.marked and not self.search and page.total is not None and page.shown == page.total:
            present = {(row.model_slug, row.app_number) for row in page.rows}
            if not self.marked <= present:
                self.marked &= present
                self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_marks":
            return bool(self.marked)  # nothing to clear: U is not offered
        return super().check_action(action, parameters)

    def action_clear_marks(self) -> None:
        count = len(self.marked)
        self.marked.clear()
        self.refresh_rows()
        self.refresh_status()
        self.refresh_bindings()
        self.notify(f"Unmarked {count} app{'s' if count != 1 else ''}.")

    def action_mark(self) -> None:
        """Mark or unmark the highlighted app for `a`, then move down."""
        row = self.require_selection()
        if row is None:
            return
        key = (row.model_slug, row.app_number)
        self.marked.symmetric_difference_update({key})
        self.refresh_rows({str(row.id)})
        self.query_one(DataTable).action_cursor_down()
        self.refresh_status()
        self.refresh_bindings()

    def action_analyse(self) -> None:
        """The start form for the marked apps, or the highlighted one when none is marked."""
        if self.marked:
            self.thesis.new_analyses(sorted(self.marked))
            return
        row = self.require_selection()
        if row is not None:
            self.thesis.new_analyses([(row.model_slug, row.app_number)])

    def action_allocate_ports(self) -> None:
        """Give the selected app a backend and frontend port (it keeps ports it has)."""
        from tui.services.ports import allocate_ports

        row = self.require_selection()
        if row is None:
            return
        thesis, settings = self.thesis, self.thesis.settings

        def allocate() -> str:
            ports = allocate_ports(
                thesis.db,
                row.model_slug,
                row.app_number,
                settings.backend_ports,
                settings.frontend_ports,
            )
            return (
                f"{row.model_slug} app {row.app_number}: backend {ports.backend_port}, "
                f"frontend {ports.frontend_port}."
            )

        self.run_service(allocate)

    # --- scan and detail pane ----------------------------------------------------------

    def action_scan(self) -> None:
        """Scan THESIS_APPS_DIR, as `thesis apps scan` does."""
        from tui.services.scanner import scan_apps

        thesis, root = self.thesis, self.thesis.settings.apps_dir
        self.notify(f"Scanning {root} …")

        def scan() -> str:
            report = scan_apps(thesis.db, root, create=True)
            if report.skipped:
                skipped = "; ".join(
                    f"{shown(Path(p).name)}: {shown(r)}" for p, r in report.skipped[:3]
                )
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
        yield LogPanel(id="logs")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#detail").display = False
        self.query_one(LogPanel).display = False

    def on_unmount(self) -> None:
        self._stop_following()

    def action_generate(self) -> None:
        """g: a form for a generation job, which then runs here."""
        from tui.screens.generate_form import GenerateFormScreen

        def created(job_id: int | None) -> None:
            if job_id is None:
                return
            self.notify(f"Generation job {job_id} planned; running it here (5 shows it)")
            self.thesis.run_jobs()
            self.reload()

        self.app.push_screen(GenerateFormScreen(), created)

    def action_refresh(self) -> None:
        """ctrl+r: ask Docker for every app's state now, then reload."""
        self.thesis.sync_docker()
        super().action_refresh()

    @on(DataTable.RowSelected)
    def action_drill_down(self) -> None:
        """enter: the highlighted app's analyses, on a screen of their own (esc back)."""
        from tui.screens.analyses import AnalysesScreen

        row = self.selected_row()
        if row is not None:
            self.app.push_screen(AnalysesScreen(Scope(row.model_slug, row.app_number)))

    def action_details(self) -> None:
        pane = self.query_one("#detail")
        pane.display = not pane.display
        if pane.display:
            self.query_one(LogPanel).display = False
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
        from tui.services.apps import get_app_detail

        try:
            text = describe_app(get_app_detail(self.thesis.db, app_id))
        except ThesisError as exc:
            text = Text(exc.msg, style="red")
        self.app.call_from_thread(self.query_one("#detail-text", Static).update, text)

    # --- containers and their logs -----------------------------------------------------

    _log_app: tuple[str, int] | None = None
    _follower: LogFollower | None = None
    _follow_generation = 0

    def _console(self, row: AppRow) -> LogPanel:
        """The log panel, showing `row`'s app (cleared when it showed another app)."""
        panel = self.query_one(LogPanel)
        key = (row.model_slug, row.app_number)
        if self._log_app != key:
            self._stop_following()
            panel.clear()
            panel.set_title(f"logs · {row.model_slug} app {row.app_number}")
            self._log_app = key
        self.query_one("#detail").display = False
        panel.display = True
        return panel

    def _container_action(self, verb: str, then_follow: bool = False) -> None:
        from tui.services.health import check_health, verdict

        row = self.require_selection()
        if row is None:
            return
        panel = self._console(row)
        service = self.thesis.containers
        slug, number = row.model_slug, row.app_number

        def act() -> str:
            if verb == "build":
                tags = service.build(slug, number, panel.push)
                return f"{slug} app {number}: built {len(tags)} images."
            target = (service.restart if verb == "restart" else service.start)(
                slug, number, panel.push
            )
            results = check_health(service, slug, number, panel.push)
            started = f"{target.label} started, but "
            return f"{target.label} is running: " + verdict(results, failure_prefix=started)

        def run() -> str:
            try:
                return act()
            except ThesisError as exc:
                panel.push(f"!! {exc.msg}")  # the reason stays in the panel after the toast
                raise

        self.run_service(run, then=(lambda: self._follow(slug, number)) if then_follow else None)

    def action_build(self) -> None:
        """Build the selected app's images; the output streams into the log panel."""
        self._container_action("build")

    def action_restart(self) -> None:
        self._container_action("restart", then_follow=True)

    def action_start_stop(self) -> None:
        """Start the selected app (then check it answers and follow its logs), or stop it."""
        row = self.require_selection()
        if row is None:
            return
        if row.status != "running":
            self._container_action("start", then_follow=True)
            return
        service = self.thesis.containers

        def stop(confirmed: bool | None) -> None:
            if not confirmed:
                return
            panel = self._console(row)

            def run() -> str:
                count = service.stop(row.model_slug, row.app_number, panel.push)
                return f"{row.model_slug} app {row.app_number}: stopped {count} containers."

            self.run_service(run)

        self.app.push_screen(
            ConfirmModal(
                f"Stop {row.model_slug} app {row.app_number}?",
                "Its containers are stopped (kept, with their logs); s starts them again.",
                confirm_label="Stop",
            ),
            stop,
        )

    def action_remove(self, images: bool = False) -> None:
        """Remove the selected app's containers and network (x), and its images (X)."""
        row = self.require_selection()
        if row is None:
            return
        service = self.thesis.containers
        what = "containers, network and images" if images else "containers and network"

        def remove(confirmed: bool | None) -> None:
            if not confirmed:
                return
            panel = self._console(row)

            def run() -> str:
                count = service.remove(row.model_slug, row.app_number, panel.push, images=images)
                return f"{row.model_slug} app {row.app_number}: removed {count} containers."

            self.run_service(run)

        self.app.push_screen(
            ConfirmModal(
                f"Remove {row.model_slug} app {row.app_number}?",
                f"Removes the app's {what}. Its files, ports, results and saved logs stay."
                + ("" if images else " Its images stay (X removes them too)."),
                confirm_label="Remove",
            ),
            remove,
        )

    def action_health(self) -> None:
        """Probe the selected app's published services over HTTP (a containerized test)."""
        from tui.services.health import check_health, verdict

        row = self.require_selection()
        if row is None:
            return
        panel = self._console(row)
        service = self.thesis.containers

        self.run_service(
            lambda: verdict(check_health(service, row.model_slug, row.app_number, panel.push))
        )

    def action_logs(self) -> None:
        """Show the selected app's container logs, following new lines; again to hide them."""
        row = self.require_selection()
        if row is None:
            return
        panel = self.query_one(LogPanel)
        if panel.display and self._log_app == (row.model_slug, row.app_number):
            self._stop_following()
            panel.display = False
            return
        self._console(row).clear()
        self._follow(row.model_slug, row.app_number)

    def _stop_following(self) -> None:
        self._follow_generation += 1
        if self._follower is not None:
            self._follower.close()
            self._follower = None

    def _follow(self, model_slug: str, app_number: int) -> None:
        self._stop_following()
        panel = self.query_one(LogPanel)
        self._follow_logs(panel, model_slug, app_number, self._follow_generation)

    @work(thread=True, exit_on_error=False, group="logs")
    def _follow_logs(
        self, panel: LogPanel, model_slug: str, app_number: int, generation: int
    ) -> None:
        try:
            follower = self.thesis.containers.follow_logs(model_slug, app_number)
        except ThesisError as exc:
            panel.push(f"({exc.msg})")
            return
        self._follower = follower
        if generation != self._follow_generation:
            follower.close()  # the user moved on while we connected
            return
        for line in follower.lines():
            panel.push(line)
        if generation == self._follow_generation:
            self._follower = None
            panel.push("(end of the logs: the containers stopped; l twice to read them again)")


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
    if detail.status_detail:
        text.append(f"{detail.status_detail}\n", style="red")
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
