"""0 · Dashboard: the lab's pulse, the first screen.

Per model: its apps, how many are up, analysed, being analysed now and failing (their latest
analysis failed), and the security findings of their latest analyses by severity. Under the
table, the jobs that have not ended with their progress, and the latest failed analyses.
`enter` opens the model's apps; the table refreshes every few seconds like the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Static

from tui.screens.base import Column, Query, Scope, TableScreen
from tui.widgets.columns import ago, elide
from tui.widgets.format import number, progress_bar

JOB_BAR = 7
"""Cells of a job's progress bar: the panel is half the screen."""

if TYPE_CHECKING:
    from tui.services.common import Page
    from tui.services.dashboard import JobPulse, ModelPulse, Pulse


class DashboardScreen(TableScreen):
    SUB_TITLE = "Dashboard"
    MODE = "dashboard"
    NOUN = "models"
    ROW_ACTIONS = frozenset({"drill_down"})
    BINDINGS = [
        Binding("enter", "drill_down", "Apps", tooltip="The model's apps (esc comes back)"),
    ]
    EMPTY_HINT = (
        "No apps yet: nothing to take the pulse of.\n\n"
        "Import the catalogue (thesis models sync), scan the generated apps\n"
        "(thesis apps scan), then analyse them: 5 and n start a study."
    )
    COLUMNS = [
        Column("model", "Model", sortable=True, elide="middle", min_width=14),
        Column("apps", "Apps", sortable=True),
        Column("up", "Up", sortable=True, priority=2),
        Column("analysed", "Done", sortable=True),
        Column("running", "Run", sortable=True, priority=1),
        Column("failing", "Fail", sortable=True),
        Column("critical", "Crit", sortable=True, priority=1),
        Column("high", "High", sortable=True, priority=1),
        Column("medium", "Med", sortable=True, priority=2),
        Column("low", "Low", sortable=True, priority=2),
    ]
    HELP_NOTES = [
        "Up: apps whose containers run. Done: apps with a completed analysis. Run: analyses "
        "not ended. Fail: apps whose latest analysis failed. Crit…Low: the findings of "
        "each app's latest security analysis.",
    ]

    def __init__(self, scope: Scope | None = None) -> None:
        super().__init__(scope)
        self.pulse: Pulse | None = None

    def compose_below_table(self) -> ComposeResult:
        with Horizontal(id="pulse"):
            yield Static("", id="pulse-jobs", markup=False)
            yield Static("", id="pulse-failures", markup=False)

    def fetch(self, query: Query, count: bool = True) -> Page[Any]:
        from tui.services.dashboard import pulse

        self.pulse = pulse(
            self.thesis.db,
            search=query.search,
            sort=query.sort,
            descending=query.descending,
            limit=query.limit or None,
        )
        return self.pulse.models

    def row_cells(self, row: ModelPulse) -> tuple[str, tuple[Any, ...]]:
        def count(value: int, style: str = "") -> Text:
            return Text(number(value), style=style if value else "dim")

        return row.model, (
            row.model,
            count(row.apps),
            count(row.up, "green"),
            count(row.analysed),
            count(row.running, "cyan"),
            count(row.failing, "bold red"),
            count(row.critical, "bold red"),
            count(row.high, "red"),
            count(row.medium, "yellow"),
            count(row.low),
        )

    def rows_loaded(self, page: Page[Any]) -> None:
        if self.pulse is None:
            return
        jobs = self.query_one("#pulse-jobs", Static)
        # Half the screen less the padding and the border, until the panel is laid out.
        width = max(jobs.content_size.width or (self.size.width or 80) // 2 - 3, 20)
        jobs.update(_jobs(self.pulse.jobs, width))
        self.query_one("#pulse-failures", Static).update(_failures(self.pulse, width))

    def on_resize(self, event: Any) -> None:
        super().on_resize(event)
        if self._page is not None:
            self.rows_loaded(self._page)

    @on(DataTable.RowSelected)
    def action_drill_down(self) -> None:
        """enter: the model's apps, on a screen of their own (esc back)."""
        from tui.screens.applications import ApplicationsScreen

        row = self.require_selection()
        if row is not None:
            self.app.push_screen(ApplicationsScreen(Scope(row.model)))


def _line(*parts: tuple[str, str]) -> Text:
    text = Text(end="")
    for part, style in parts:
        text.append(part, style=style)
    return text


def _jobs(jobs: list[JobPulse], width: int) -> Text:
    title = f"Jobs · {sum(job.status == 'running' for job in jobs)} running"
    lines = [_line((title, "bold"))]
    if not jobs:
        lines.append(_line(("No job waiting or running (5, n: a study)", "dim")))
    for job in jobs:
        done = job.done
        tail = f" {number(done.ended)}/{number(done.total)}"
        if done.failed:
            tail += f" {number(done.failed)}✗"
        if job.status == "running":
            bar = progress_bar(done.percent, JOB_BAR)
        else:  # the word in the bar's place: a pending or paused job is not moving
            bar = Text(f"{job.status:<{JOB_BAR}} {done.percent:>3}%", style="yellow")
        room = max(width - len(bar) - len(tail) - 1, 8)
        name = elide(f"#{job.id} {job.name}", room, middle=False)
        line = _line((f"{name} ", ""))
        line.append_text(bar)
        line.append(tail)
        lines.append(line)
    return _joined(lines)


def _failures(pulse: Pulse, width: int) -> Text:
    failing = pulse.totals.failing
    lines = [_line(("Latest failures", "bold"), (f" · {number(failing)} apps failing", ""))]
    if not pulse.failures:
        lines.append(_line(("No failed analysis", "dim")))
    for failure in pulse.failures:
        app = f"{elide(failure.model, 14)}/{failure.app_number}"
        lines.append(
            _line((f"{_age(failure.when)} ", "dim"),
                  (f"{app} {failure.type}: ", "bold"), (failure.reason, "red"))
        )  # fmt: skip
    return _joined(lines)


def _joined(lines: list[Text]) -> Text:
    """The lines as one text (the stylesheet cuts each at the panel's edge, with …)."""
    return Text("\n", end="").join(lines)


def _age(value: Any) -> str:
    """`12s`, `3m`, `5h`, `6d`; the month and day after a week."""
    age = ago(value)
    return age.removesuffix(" ago") if age.endswith(" ago") else age[5:]
