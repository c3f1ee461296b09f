"""5 · Batch jobs: studies over models x apps x analysis types, live, whoever runs them.

Counts come from the database (every runner's work: this TUI's, a `thesis batch run` in
another SSH session), refreshed every few seconds and whenever a task ends here. `n` plans
a new job and runs it here; `p`, `r`, `c` and `R` pause, resume, cancel and retry — requests
in the database that whichever process runs the job honours. `enter` opens a job: its
progress per model and its tasks, filterable, one key from each task's analysis.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from tui.errors import ThesisError, shown
from tui.jobs import control
from tui.screens.base import Column, Query, TableScreen
from tui.services.analyses import follow_analysis_log
from tui.services.analysis.findings import describe_summary
from tui.services.batches import (
    BatchJobRow,
    BatchTaskRow,
    breakdown,
    follow_job_log,
    get_job,
    list_jobs,
    list_tasks,
)
from tui.services.common import Page
from tui.services.reports.usage import UsageRow, usage
from tui.widgets.confirm import ConfirmModal
from tui.widgets.format import NONE, duration, number, progress_bar, usd
from tui.widgets.format import status as fmt_status
from tui.widgets.log_panel import LogPanel


def elapsed(row: BatchJobRow, now: datetime | None = None) -> float | None:
    if row.started_at is None:
        return None
    end = row.completed_at or now or datetime.now(UTC)
    return max((end - row.started_at).total_seconds(), 0.0)


def eta(row: BatchJobRow, now: datetime | None = None) -> str:
    """Time left at the pace so far (tasks that ran, not reused or skipped ones)."""
    if row.status not in ("running", "pending") or not row.pending + row.running:
        return NONE
    seconds = elapsed(row, now)
    ran = row.completed - row.reused + row.failed
    if not seconds or ran <= 0:
        return NONE
    return "~" + duration(seconds / ran * (row.pending + row.running))


def counts_line(row: BatchJobRow) -> str:
    return (
        f"{row.completed} done ({row.reused} reused) · {row.failed} failed · "
        f"{row.skipped} skipped · {row.cancelled} cancelled · {row.running} running · "
        f"{row.pending} pending"
    )


class BatchJobsScreen(TableScreen):
    SUB_TITLE = "Batch jobs"
    MODE = "batch"
    NOUN = "jobs"
    ROW_ACTIONS = frozenset({"open", "pause", "resume", "cancel_job", "retry"})
    EMPTY_HINT = (
        "No batch jobs yet.\n\n"
        "Press n to plan one: models x apps x analysis types, run here or headless with\n"
        "thesis batch create --name study --types security,quality && thesis batch run"
    )
    BINDINGS = [
        Binding("enter", "open", "Open", tooltip="The job: progress per model, its tasks"),
        Binding("n", "new", "New", tooltip="Plan a job (the form counts its tasks first)"),
        Binding("p", "pause", "Pause", tooltip="Claim no new task of the job; running ones end"),
        Binding("r", "resume", "Resume", tooltip="Resume a paused job and run it here"),
        Binding("c", "cancel_job", "Cancel", tooltip="Cancel the job (asks first)"),
        Binding("R", "retry", "Retry", tooltip="Queue the job's failed tasks again, run here"),
        Binding("W", "app.workers", "Workers", tooltip="The workers running tasks, on any machine"),
    ]
    COLUMNS = [
        Column("id", "Job", sortable=True),
        Column("name", "Name", sortable=True, elide="end", min_width=8),
        Column("status", "Status", sortable=True),
        Column("progress", "Progress", sortable=True),
        Column("done", "Done", priority=1),
        Column("failed", "Fail", sortable=True),
        Column("reused", "Reused", priority=3),
        Column("running", "Run", priority=3),
        Column("priority", "Priority", sortable=True, priority=3),
        Column("elapsed", "Elapsed", priority=2),
        Column("eta", "ETA", priority=1),
        Column("created", "Created", sortable=True, priority=3),
    ]

    def fetch(self, query: Query, count: bool = True) -> Page[Any]:
        return list_jobs(self.thesis.db, **query.listing(count))

    def row_cells(self, row: BatchJobRow) -> tuple[str, tuple[Any, ...]]:
        ended = row.total - row.pending - row.running
        return str(row.id), (
            str(row.id),
            row.name,
            fmt_status(row.status),
            progress_bar(row.progress),
            f"{ended}/{row.total}",
            str(row.failed),
            str(row.reused),
            str(row.running),
            row.priority,
            duration(elapsed(row)),
            eta(row),
            row.created_at,
        )

    # --- actions ---------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        row = self.require_selection()
        if row is not None:
            self.app.push_screen(JobScreen(row.id))

    def action_new(self) -> None:
        from tui.screens.job_form import JobFormScreen

        def created(job_id: int | None) -> None:
            if job_id is None:
                return
            self.cursor_to = str(job_id)
            self.notify(f"Job {job_id} planned; running it here (p pauses, c cancels)")
            self.thesis.run_jobs()
            self.reload()

        self.app.push_screen(JobFormScreen(), created)

    def _control(self, verb: str, then_run: bool = False) -> None:
        row = self.require_selection()
        if row is None:
            return

        def act() -> str:
            changed = getattr(control, verb)(self.thesis.db, row.id)
            extra = f" ({changed.tasks} tasks)" if changed.tasks else ""
            return f"Job {row.id}: {changed.status}{extra}"

        self.run_service(act, self.thesis.run_jobs if then_run else None)

    def action_pause(self) -> None:
        self._control("pause")

    def action_resume(self) -> None:
        self._control("resume", then_run=True)

    def action_retry(self) -> None:
        self._control("retry", then_run=True)

    def action_cancel_job(self) -> None:
        row = self.require_selection()
        if row is None:
            return
        open_tasks = row.pending + row.running

        def answer(confirmed: bool | None) -> None:
            if confirmed:
                self._control("cancel")

        self.app.push_screen(
            ConfirmModal(
                f"Cancel job {row.id}?",
                f"“{row.name}”: {open_tasks} open tasks end cancelled; running tools are "
                "killed and apps the job started are stopped, by whichever process runs "
                "them. Ended tasks keep their results.",
                confirm_label="Cancel job",
            ),
            answer,
        )


class JobScreen(TableScreen):
    """One job: its progress per model, then its tasks (filter by status, type or model)."""

    SUB_TITLE = "Batch job"
    MODE = "batch"
    PUSHED = True
    NOUN = "tasks"
    ROW_ACTIONS = frozenset({"open", "task_log"})
    HELP_PARTS = [("The log (tab to it)", LogPanel)]
    BINDINGS = [
        Binding("enter", "open", "Analysis", tooltip="The task's analysis, with its findings"),
        Binding(
            "l",
            "task_log",
            "Log",
            tooltip="Follow the highlighted task's log, live (l again hides it)",
        ),
        Binding("L", "job_log", "Job log", tooltip="Follow the job's log: a line per ended task"),
        Binding("f", "failed", "Failed", tooltip="Only failed tasks (f again: all)"),
        Binding("p", "pause", "Pause", tooltip="Pause the job"),
        Binding("r", "resume", "Resume", tooltip="Resume the job and run it here"),
        Binding(
            "dollar_sign",
            "usage",
            "Spent",
            show=False,
            tooltip="What the job's LLM calls cost, by model (g: by kind, by day)",
        ),
    ]
    COLUMNS = [
        Column("model", "Model", sortable=True, elide="middle", min_width=11),
        Column("app", "App", sortable=True),
        Column("type", "Type", sortable=True),
        Column("status", "Status", sortable=True),
        Column("attempts", "Try", sortable=True, priority=2),
        Column("duration", "Took", sortable=True, priority=1),
        Column("analysis", "Analysis", priority=3, elide="middle"),
        Column("runner", "Runner", priority=2, elide="middle"),
        Column("detail", "Why / outcome", elide="end", min_width=12),
    ]

    def __init__(self, job_id: int) -> None:
        super().__init__()
        self.job_id = job_id
        self.only_failed = False
        self.EMPTY_HINT = "No task matches."
        self._log_key: str | None = None

    def compose_below_table(self) -> ComposeResult:
        yield Static("", id="job-head", markup=False)
        yield LogPanel(id="logs")

    def on_mount(self) -> None:
        self.query_one(LogPanel).display = False
        super().on_mount()

    def _show_log(self, title: str, key: str, source: Any) -> None:
        """Follow `source` (batches of lines) in the log panel; the same key again hides it."""
        panel = self.query_one(LogPanel)
        if panel.display and self._log_key == key:
            self._hide_log()
            return
        panel.clear()
        panel.set_title(title)
        panel.display = True
        self.query_one("#job-head").display = False
        self._log_key = key
        self._follow(panel, source)

    def _hide_log(self) -> None:
        self._log_key = None
        self.workers.cancel_group(self, "log:job")
        self.query_one(LogPanel).display = False
        self.query_one("#job-head").display = True

    @work(thread=True, exclusive=True, exit_on_error=False, group="log:job")
    def _follow(self, panel: LogPanel, source: Any) -> None:
        worker = get_current_worker()
        try:
            for batch in source(lambda: worker.is_cancelled):
                if not worker.is_cancelled:
                    panel.push_many(batch)
        except ThesisError as exc:
            panel.push(f"({exc.msg})")

    def action_task_log(self) -> None:
        row = self.require_selection()
        if row is None:
            return
        if not row.analysis_task_id or row.reused:
            why = "it reused an earlier analysis" if row.reused else "it has not started"
            self.notify(f"{row.model} app {row.app_number} {row.type}: no log ({why})")
            return
        task_id, db = row.analysis_task_id, self.thesis.db
        self._show_log(
            f"log · {task_id}",
            task_id,
            lambda stopped: follow_analysis_log(db, task_id, stopped=stopped),
        )

    def action_job_log(self) -> None:
        job_id, db = self.job_id, self.thesis.db
        self._show_log(
            f"job {job_id} log",
            f"job-{job_id}",
            lambda stopped: follow_job_log(db, job_id, stopped=stopped),
        )

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "log:job")

    def fetch(self, query: Query, count: bool = True) -> Page[Any]:
        db = self.thesis.db
        job = get_job(db, self.job_id)
        models = breakdown(db, self.job_id, "model")
        page = list_tasks(
            db, self.job_id, status="failed" if self.only_failed else None, **query.listing(count)
        )
        self._head = _head_text(job, models, usage(db, "model", job_id=self.job_id)[-1])
        return page

    def rows_loaded(self, page: Page[Any]) -> None:
        super().rows_loaded(page)
        self.query_one("#job-head", Static).update(getattr(self, "_head", ""))

    def row_cells(self, row: BatchTaskRow) -> tuple[str, tuple[Any, ...]]:
        outcome = describe_summary(row.summary) if row.summary else ""
        detail = row.error or (f"reused: {outcome}" if row.reused else outcome)
        return str(row.id), (
            row.model,
            str(row.app_number),
            row.type,
            fmt_status(row.status + (" (reused)" if row.reused else "")),
            str(row.attempts),
            duration(row.seconds),
            row.analysis_task_id or NONE,
            shown(row.runner) if row.runner else NONE,  # a worker's name as given: escaped
            detail,
        )

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        row = self.require_selection()
        if row is None:
            return
        if not row.analysis_task_id:
            self.notify(f"{row.model} app {row.app_number} {row.type}: no analysis yet")
            return
        from tui.screens.analysis_detail import AnalysisDetailScreen

        self.app.push_screen(AnalysisDetailScreen(row.analysis_task_id))

    def action_usage(self) -> None:
        from tui.screens.usage import UsageScreen

        self.app.push_screen(UsageScreen(self.job_id))

    def action_failed(self) -> None:
        self.only_failed = not self.only_failed
        self.reload()

    def action_pause(self) -> None:
        self.run_service(lambda: _say(control.pause(self.thesis.db, self.job_id)))

    def action_resume(self) -> None:
        self.run_service(
            lambda: _say(control.resume(self.thesis.db, self.job_id)), self.thesis.run_jobs
        )

    def status_suffix(self) -> str:
        return " · failed only (f: all)" if self.only_failed else ""


def _say(changed: control.Changed) -> str:
    return f"Job {changed.job_id}: {changed.status}"


def _head_text(job: BatchJobRow, models: dict[str, Any], spent: UsageRow) -> Text:
    text = Text()
    text.append(f"Job {job.id} “{job.name}” ", style="bold")
    text.append(job.status, style=fmt_status(job.status).style)
    text.append(f" · {job.priority} · {duration(elapsed(job))} · ETA {eta(job)}")
    if spent.calls:
        text.append(f" · spent {usd(spent.usd)} USD on {number(spent.calls)} LLM calls ($)")
    text.append("\n")
    text.append(counts_line(job) + "\n", style="dim")
    for slug, done in list(models.items())[:6]:
        text.append_text(progress_bar(done.percent, 8))
        text.append(f"  {slug} {done.ended}/{done.total}")
        text.append(f" · {done.failed} failed\n" if done.failed else "\n")
    if len(models) > 6:
        text.append(f"… and {len(models) - 6} more models", style="dim")
    if job.log_path:
        text.append(f"log {job.log_path}", style="dim")
    text.rstrip()
    return text
