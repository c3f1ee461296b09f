"""4 · Analyses: every analysis with its status, duration and result (findings, endpoints
passed, services up, requests/s, review score or spend: `findings.headline`).

`n` starts analyses (on the highlighted analysis's app, or any apps typed in the form),
`enter` opens one with its findings, `l` follows its log as it is written and `c` cancels
its run, whichever process runs it.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable
from textual.worker import get_current_worker

from tui.db.tables import UNFINISHED
from tui.errors import ThesisError
from tui.jobs import control
from tui.screens.base import Column, Query, TableScreen
from tui.services.analyses import AnalysisRow, follow_analysis_log, list_analyses
from tui.services.analysis.findings import headline
from tui.services.common import Page
from tui.widgets.confirm import ConfirmModal
from tui.widgets.filter_bar import FilterBar
from tui.widgets.format import NONE, duration
from tui.widgets.format import status as fmt_status
from tui.widgets.log_panel import LogPanel


class AnalysesScreen(TableScreen):
    SUB_TITLE = "Analyses"
    MODE = "analyses"
    NOUN = "analyses"
    ROW_ACTIONS = frozenset({"open", "log", "cancel_analysis"})
    EMPTY_HINT = (
        "No analyses yet.\n\n"
        "Press n to start one, a on the Applications screen (2), or run\n"
        "thesis analyze MODEL N --type security"
    )
    BINDINGS = [
        Binding(
            "enter",
            "open",
            "Open",
            tooltip="Open the analysis: its findings or measurements (esc back)",
        ),
        Binding("n", "new", "New", tooltip="Start analyses (the form names the apps and types)"),
        Binding(
            "l",
            "log",
            "Log",
            tooltip="Follow the analysis's log as it is written (l again hides it)",
        ),
        Binding(
            "c",
            "cancel_analysis",
            "Cancel",
            tooltip="Cancel the highlighted analysis's run, whichever process runs it (asks first)",
        ),
    ]
    HELP_PARTS = [("The log (tab to it)", LogPanel), ("The filter", FilterBar)]
    COLUMNS = [
        Column("task", "Task", sortable=True, priority=3, elide="middle", min_width=10),
        Column("type", "Type", sortable=True),
        Column("model", "Model", sortable=True, elide="middle", min_width=11),
        Column("app", "App", sortable=True),
        Column("status", "Status", sortable=True),
        Column("started", "Started", sortable=True, priority=2),
        Column("duration", "Took", priority=1),
        Column("result", "Result", elide="end"),
    ]

    _log_task: str | None = None

    def fetch(self, query: Query, count: bool = True) -> Page[Any]:
        scope = self.scope
        return list_analyses(
            self.thesis.db,
            **query.listing(count),
            model=scope.model if scope else None,
            app_number=scope.app_number if scope else None,
            ids=scope.analyses if scope else None,
        )

    def row_cells(self, row: AnalysisRow) -> tuple[str, tuple[Any, ...]]:
        return row.task_id, (
            row.task_id,
            row.task_type,
            row.model_slug,
            str(row.app_number),
            fmt_status(row.status),
            row.started_at,
            duration(row.duration_seconds),
            headline(row.summary) or NONE,
        )

    def compose_below_table(self) -> ComposeResult:
        yield LogPanel(id="logs")

    def on_mount(self) -> None:
        self.query_one(LogPanel).display = False  # before the first load, which may show it
        super().on_mount()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        if self.is_current:  # not when `thesis` makes the screen ahead, out of sight
            self._follow_started()

    def reload(self) -> None:
        super().reload()
        self._follow_started()

    def _follow_started(self) -> None:
        """Show the log of analyses just started (here or on another screen)."""
        task_id, self.thesis.follow_next = self.thesis.follow_next, None
        if task_id is not None:
            self.cursor_to = task_id  # c, l and enter then act on the new run
            self.follow(task_id)

    # --- actions --------------------------------------------------------------------------

    def action_new(self) -> None:
        """The start form, for the highlighted analysis's app (edit the apps there)."""
        row = self.selected_row()
        self.thesis.new_analyses([(row.model_slug, row.app_number)] if row else [])

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        row = self.selected_row()
        if row is not None:
            from tui.screens.analysis_detail import AnalysisDetailScreen

            self.app.push_screen(AnalysisDetailScreen(row.task_id))

    def action_log(self) -> None:
        """Follow the highlighted analysis's log; again on the same one to hide it."""
        row = self.require_selection()
        if row is None:
            return
        panel = self.query_one(LogPanel)
        if panel.display and self._log_task == row.task_id:
            self._stop_following()
            panel.display = False
            return
        self.follow(row.task_id)

    def follow(self, task_id: str) -> None:
        panel = self.query_one(LogPanel)
        panel.clear()
        panel.set_title(f"log · {task_id}")
        panel.display = True
        self._log_task = task_id
        self._follow_log(panel, task_id)

    def _stop_following(self) -> None:
        self._log_task = None
        self.workers.cancel_group(self, "log:analysis")

    def on_unmount(self) -> None:
        self._stop_following()

    @work(thread=True, exclusive=True, exit_on_error=False, group="log:analysis")
    def _follow_log(self, panel: LogPanel, task_id: str) -> None:
        worker = get_current_worker()
        try:
            for batch in follow_analysis_log(
                self.thesis.db, task_id, stopped=lambda: worker.is_cancelled
            ):
                if not worker.is_cancelled:  # the panel may show another log by now
                    panel.push_many(batch)
        except ThesisError as exc:
            panel.push(f"({exc.msg})")

    def action_cancel_analysis(self) -> None:
        """Cancel the run of the highlighted analysis, whichever process runs it: a request
        in the database; its runner kills the tool and ends it cancelled."""
        row = self.require_selection()
        if row is None:
            return
        if row.status not in UNFINISHED:
            self.notify(f"{row.task_id} is {row.status}: nothing to cancel.", severity="warning")
            return
        self._ask_to_cancel(row.task_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="read:cancel")
    def _ask_to_cancel(self, task_id: str) -> None:
        try:
            run = control.run_of(self.thesis.db, task_id)
        except ThesisError as exc:
            self.app.call_from_thread(self.notify, exc.msg, severity="error")
            return
        self.app.call_from_thread(self._confirm_cancel, task_id, run)

    def _confirm_cancel(self, task_id: str, run: control.RunOf | None) -> None:
        if run is None:
            self.notify(
                f"{task_id} is not run by a job (an older `thesis analyze`?); "
                "stop its process there.",
                severity="warning",
                timeout=8,
            )
            return
        others = run.open_tasks - 1
        also = f" and the {others} others started with it" if others > 0 else ""

        def cancel(confirmed: bool | None) -> None:
            if confirmed:
                self.run_service(
                    lambda: (
                        f"Cancelling {task_id}{also}."
                        if control.cancel_run(self.thesis.db, run)
                        else f"{task_id} had already ended."
                    )
                )

        where = "" if run.one_off else f" (one task of batch job {run.job_id})"
        self.app.push_screen(
            ConfirmModal(
                f"Cancel {task_id}{also}?",
                f"Whichever process runs it{where} kills the running tool and marks the "
                "unfinished analyses cancelled. Finished ones keep their results.",
                confirm_label="Cancel run",
            ),
            cancel,
        )
