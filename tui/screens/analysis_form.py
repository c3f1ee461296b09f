"""Start analyses: which apps, which types, which tools, and the few options that matter.

The form stores an "analyse now" job itself (in a thread) before it closes, so a typo in an
app or a bad load-test number is shown where it was typed, and nothing is stored when any
part is wrong. It dismisses with the job's id and its number of analyses; the app runs it
with the batch engine, like any job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Static

from tui.db.models import AnalysisType
from tui.errors import ThesisError, ValidationError
from tui.jobs.planner import create_job
from tui.jobs.spec import JobSpec
from tui.services.analysis.request import format_app_list, parse_app_list
from tui.widgets.analysis_choices import AnalysisChoices
from tui.widgets.dialog import FormDialog

if TYPE_CHECKING:
    from tui.screens.host import Host

Apps = tuple[str, int]
"""(model slug, app number)."""


class AnalysisFormScreen(FormDialog[tuple[int, int] | None]):
    """Dismisses with (job id, analyses) of the one-off job it stored, or None."""

    SUBMIT = "start"

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "start", "Start"),
    ]

    def __init__(self, apps: list[tuple[str, int]], types: tuple[str, ...] = ("security",)):
        super().__init__()
        self.apps = apps
        self.types = types

    @property
    def thesis(self) -> Host:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        count = len(self.apps)
        with Vertical(id="analysis-form", classes="dialog"):
            yield Static(f"Analyse {count} app{'s' if count != 1 else ''}", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                with Grid(classes="form-grid"):
                    yield Label("Apps")
                    yield Input(
                        format_app_list(self.apps),
                        placeholder="model/N or model/N-M, space-separated",
                        id="apps",
                        compact=True,
                    )
                yield AnalysisChoices(self.types)
            yield Static("", id="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start (ctrl+s)", id="start", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#type-security", Checkbox).focus()

    def request(self) -> tuple[list[Apps], tuple[AnalysisType, ...], dict[str, Any]]:
        """(apps, types, options) as typed, checked for shape; raises ValidationError."""
        apps = parse_app_list(self.query_one("#apps", Input).value)
        types, options = self.query_one(AnalysisChoices).chosen()
        return apps, types, options

    def action_start(self) -> None:
        try:
            apps, types, options = self.request()
        except ValidationError as exc:
            self.refused(exc.msg)
            return
        self.query_one("#start", Button).disabled = True
        self._create(apps, types, options)

    @work(thread=True, exclusive=True, exit_on_error=False, group="write:analysis-form")
    def _create(
        self,
        apps: list[tuple[str, int]],
        types: tuple[AnalysisType, ...],
        options: dict[str, Any],
    ) -> None:
        db, settings = self.thesis.db, self.thesis.settings
        try:
            spec = JobSpec.build(
                name=f"analyse {format_app_list(apps)}"[:200],
                types=[str(kind) for kind in types],
                explicit=apps,
                options=options,
                priority="urgent",
                force=True,
            )
            job = create_job(db, settings, spec, one_off=True, created_by="tui")
        except ThesisError as exc:
            self.app.call_from_thread(self.refused, exc.msg)
            return
        self.app.call_from_thread(self.dismiss, (job.id, job.tasks - job.skipped))
