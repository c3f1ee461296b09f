"""Start analyses: which apps, which types, which tools, and the few options that matter.

The form stores an "analyse now" job itself (in a thread) before it closes, so a typo in an
app or a bad load-test number is shown where it was typed, and nothing is stored when any
part is wrong. It dismisses with the job's id and its number of analyses; the app runs it
with the batch engine, like any job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Static

from tui.db.models import AnalysisType
from tui.errors import ThesisError, ValidationError
from tui.jobs.planner import create_job
from tui.jobs.spec import JobSpec
from tui.services.analysis.options import SECURITY_TOOLS, form_fields
from tui.services.analysis.registry import KINDS, RUNNABLE
from tui.services.analysis.request import format_app_list, parse_app_list
from tui.widgets.check import Check
from tui.widgets.dialog import FormDialog

if TYPE_CHECKING:
    from tui.screens.host import Host

Apps = tuple[str, int]
"""(model slug, app number)."""

OPTIONS: list[tuple[str, str, str]] = list(
    dict.fromkeys(field for kind in KINDS.values() for field in form_fields(kind.options))
)
"""(option, label, placeholder) of each type's text options, as the registry lists them;
empty means the type's default."""


class AnalysisFormScreen(FormDialog[tuple[int, int] | None]):
    """Dismisses with (job id, analyses) of the one-off job it stored, or None."""

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
                yield Label("Types", classes="form-section")
                with Grid(classes="form-checks", id="types"):
                    for kind in RUNNABLE:
                        yield Check(str(kind), str(kind) in self.types, id=f"type-{kind}",
                                    compact=True)  # fmt: skip
                yield Label("Security tools", classes="form-section")
                with Grid(classes="form-checks", id="tools"):
                    for tool in SECURITY_TOOLS:
                        yield Check(tool, True, id=f"tool-{tool}", compact=True)
                with Grid(classes="form-grid form-options"):
                    for option, label, placeholder in OPTIONS:
                        yield Label(label)
                        yield Input(placeholder=placeholder, id=f"option-{option}", compact=True)
            yield Static("", id="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start (ctrl+s)", id="start", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#type-security", Checkbox).focus()

    def request(self) -> tuple[list[Apps], tuple[AnalysisType, ...], str, dict[str, Any]]:
        """(apps, types, tools, options) as typed, checked for shape; raises ValidationError."""
        apps = parse_app_list(self.query_one("#apps", Input).value)
        types = tuple(kind for kind in RUNNABLE if self.query_one(f"#type-{kind}", Checkbox).value)
        if not types:
            raise ValidationError("Choose at least one analysis type")
        tools = [tool for tool in SECURITY_TOOLS if self.query_one(f"#tool-{tool}", Checkbox).value]
        if AnalysisType.SECURITY in types and not tools:
            raise ValidationError("Choose at least one security tool (or untick security)")
        options: dict[str, Any] = {}
        for option, _label, _ in OPTIONS:
            text = self.query_one(f"#option-{option}", Input).value.strip()
            if text:
                options[option] = text  # parsed by each type's schema when stored
        return apps, types, ",".join(tools), options

    def action_start(self) -> None:
        try:
            apps, types, tools, options = self.request()
        except ValidationError as exc:
            self._show_error(exc.msg)
            return
        self.query_one("#start", Button).disabled = True
        self._create(apps, types, tools, options)

    @work(thread=True, exclusive=True, exit_on_error=False, group="write:analysis-form")
    def _create(
        self,
        apps: list[tuple[str, int]],
        types: tuple[AnalysisType, ...],
        tools: str,
        options: dict[str, Any],
    ) -> None:
        db, settings = self.thesis.db, self.thesis.settings
        try:
            spec = JobSpec.build(
                name=f"analyse {format_app_list(apps)}"[:200],
                types=[str(kind) for kind in types],
                explicit=apps,
                options={**options, "tools": tools},
                priority="urgent",
                force=True,
            )
            for kind in spec.types:
                KINDS[kind].run_check(db, settings, spec.config_of(kind))
            job = create_job(db, settings, spec, one_off=True, created_by="tui")
        except ThesisError as exc:
            self.app.call_from_thread(self._show_error, exc.msg)
            return
        self.app.call_from_thread(self.dismiss, (job.id, job.tasks - job.skipped))

    def _show_error(self, message: str) -> None:
        self.show_error(message)
        self.query_one("#start", Button).disabled = False

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_start()
