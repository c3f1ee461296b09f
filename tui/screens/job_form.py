"""A new batch job: models (picked from a filtered list), an app range, types, options, priority.

The form shows, as it is edited, how many tasks the job will create and how many of them
will be skipped (no such app, nothing to start) before anything is stored. It stores the
job in a thread and dismisses with its id, which the app then runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, SelectionList, Static

from tui.errors import ThesisError, ValidationError
from tui.jobs.planner import create_job, plan
from tui.jobs.spec import JobSpec
from tui.screens.model_picking import PicksModels
from tui.services.apps import model_slugs
from tui.widgets.analysis_choices import AnalysisChoices
from tui.widgets.check import Check, CheckList
from tui.widgets.dialog import FormDialog

if TYPE_CHECKING:
    from tui.screens.host import Host


class JobFormScreen(PicksModels, FormDialog[int | None]):
    """Dismisses with the id of the job it stored, or None."""

    SUBMIT = "create"

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "create", "Create"),
    ]

    def __init__(self, types: tuple[str, ...] = ("security", "quality")) -> None:
        super().__init__()
        self.types = types
        self.models: list[str] = []
        self.chosen: set[str] = set()
        """Models ticked, kept while the filter hides some of them."""

    @property
    def thesis(self) -> Host:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(id="job-form", classes="dialog"):
            yield Static("New batch job", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                with Grid(classes="form-grid"):
                    yield Label("Name")
                    yield Input(placeholder="e.g. security study", id="name", compact=True)
                    yield Label("Apps")
                    yield Input("1-30", placeholder="e.g. 1-30 or 1,3,5-7", id="apps",
                                compact=True)  # fmt: skip
                    yield Label("Priority")
                    yield Input("normal", placeholder="low, normal, high or urgent",
                                id="priority", compact=True)  # fmt: skip
                    yield Label("Models")
                    yield Input(placeholder="filter; none ticked means all", id="model-filter",
                                compact=True)  # fmt: skip
                yield CheckList(id="models", compact=True)
                yield AnalysisChoices(self.types)
                yield Check("Run even where an earlier result could be reused", False,
                            id="force", compact=True)  # fmt: skip
            yield Static("", id="job-plan")
            yield Static("", id="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create (ctrl+s)", id="create", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#name", Input).focus()
        self.load_models(lambda: model_slugs(self.thesis.db), self._preview)

    @on(SelectionList.SelectionToggled, "#models")
    def _toggled(self, event: SelectionList.SelectionToggled) -> None:
        self.toggle_model(event)
        self._preview()

    @on(Input.Changed, "#model-filter")
    def _filter_changed(self) -> None:
        self.filter_models()

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _edited(self, event: Any) -> None:
        if getattr(event.control, "id", None) != "model-filter":
            self._preview()

    def spec(self) -> JobSpec:
        """The job as typed; raises ValidationError with one line."""
        types, options = self.query_one(AnalysisChoices).chosen()
        name = self.query_one("#name", Input).value.strip() or "study"
        return JobSpec.build(
            name=name,
            types=[str(kind) for kind in types],
            models=sorted(self.chosen) or "all",
            apps=self.query_one("#apps", Input).value,
            options=options,
            priority=self.query_one("#priority", Input).value or "normal",
            force=self.query_one("#force", Checkbox).value,
        )

    def _preview(self) -> None:
        try:
            spec = self.spec()
        except ValidationError as exc:
            self._show_plan("")
            self.show_error(exc.msg)
            return
        self.show_error("")
        self._plan(spec)

    @work(thread=True, exclusive=True, exit_on_error=False, group="read:job-form-plan")
    def _plan(self, spec: JobSpec) -> None:
        try:
            planned = plan(self.thesis.db, spec)
        except ThesisError as exc:
            self.app.call_from_thread(self.show_error, exc.msg)
            return
        text = (
            f"Creates {len(planned.tasks):,} tasks: {planned.runnable:,} to run, "
            f"{planned.skipped:,} skipped (no app, nothing to start)"
        )
        self.app.call_from_thread(self._show_plan, text)

    def _show_plan(self, text: str) -> None:
        self.query_one("#job-plan", Static).update(text)
        self.call_after_refresh(self.fit_body)

    def action_create(self) -> None:
        try:
            spec = self.spec()
        except ValidationError as exc:
            self.show_error(exc.msg)
            return
        self.query_one("#create", Button).disabled = True
        self._create(spec)

    @work(thread=True, exclusive=True, exit_on_error=False, group="write:job-form")
    def _create(self, spec: JobSpec) -> None:
        db, settings = self.thesis.db, self.thesis.settings
        try:
            created = create_job(db, settings, spec, created_by="tui")
        except ThesisError as exc:
            self.app.call_from_thread(self.refused, exc.msg)
            return
        self.app.call_from_thread(self.dismiss, created.id)
