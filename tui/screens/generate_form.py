"""`g` on the Applications screen: generate apps — models (from the catalogue, those with an
OpenRouter id), templates, whether to replace apps that exist, a cost limit — with what it
should cost shown as the form is edited, before anything is asked. It stores a generation job
(`thesis batch create --types generation`) and dismisses with its id; the app runs it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, SelectionList, Static

from tui.errors import ThesisError, ValidationError
from tui.screens.model_picking import PicksModels
from tui.services.generation.estimate import generating_models
from tui.widgets.check import Check, CheckList
from tui.widgets.dialog import FormDialog

if TYPE_CHECKING:
    from tui.screens.host import Host


class GenerateFormScreen(PicksModels, FormDialog[int | None]):
    """Dismisses with the id of the generation job it stored, or None."""

    SUBMIT = "generate"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "generate", "Generate"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.models: list[str] = []
        self.chosen: set[str] = set()

    @property
    def thesis(self) -> Host:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(id="generate-form", classes="dialog"):
            yield Static("Generate apps", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                with Grid(classes="form-grid"):
                    yield Label("Templates")
                    yield Input("1-30", placeholder="e.g. 1-30, 1,3 or blog", id="templates",
                                compact=True)  # fmt: skip
                    yield Label("Cost limit")
                    yield Input(placeholder="USD; none when empty", id="max-cost", compact=True)
                    yield Label("Models")
                    yield Input(placeholder="filter the catalogue's models", id="model-filter",
                                compact=True)  # fmt: skip
                yield CheckList(id="models", compact=True)
                yield Check("Replace apps that exist", False, id="force", compact=True)
            yield Static("", id="generate-estimate")
            yield Static("", id="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Generate (ctrl+s)", id="generate", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#templates", Input).focus()
        self.load_models(lambda: generating_models(self.thesis.db), self._no_model)

    def _no_model(self) -> None:
        if not self.models:
            self.show_error("No model of the catalogue has an OpenRouter id: thesis models sync")

    @on(SelectionList.SelectionToggled, "#models")
    def _toggled(self, event: SelectionList.SelectionToggled) -> None:
        self.toggle_model(event)
        self._estimate()

    @on(Input.Changed, "#model-filter")
    def _filter_changed(self) -> None:
        self.filter_models()

    @on(Input.Changed, "#templates")
    @on(Input.Changed, "#max-cost")
    @on(Checkbox.Changed)
    def _edited(self) -> None:
        self._estimate()

    def _limit(self) -> float | None:
        """The cost limit typed (USD), None when empty; ValidationError when it is not one."""
        text = self.query_one("#max-cost", Input).value.strip().removeprefix("$").strip()
        if not text:
            return None
        try:
            usd = float(text)
        except ValueError:
            raise ValidationError(f"Cost limit “{text}” is not a number of USD") from None
        if not math.isfinite(usd) or not 0 < usd <= 1_000_000:
            raise ValidationError("The cost limit is a number of USD above 0, up to 1,000,000")
        return usd

    def _numbers(self) -> tuple[int, ...]:
        """The template numbers typed; ValidationError when they name none."""
        from tui.services.generation.templates import load_templates

        catalogue = load_templates(self.thesis.settings.templates_dir)
        spec = self.query_one("#templates", Input).value
        return tuple(loaded.template.number for loaded in catalogue.select(spec))

    def _estimate(self) -> None:
        try:
            numbers = self._numbers()
            self._limit()
        except ThesisError as exc:
            self.query_one("#generate-estimate", Static).update("")
            self.show_error(exc.msg)
            return
        self.show_error("")
        if self.chosen:
            self._cost(sorted(self.chosen), numbers)
        else:
            self.query_one("#generate-estimate", Static).update("Tick the models that generate")

    @work(thread=True, exclusive=True, exit_on_error=False, group="read:generate-cost")
    def _cost(self, models: list[str], numbers: tuple[int, ...]) -> None:
        from tui.services.generation.estimate import estimate_cost
        from tui.services.generation.templates import load_templates

        catalogue = load_templates(self.thesis.settings.templates_dir)
        chosen = [catalogue.get(number) for number in numbers]
        try:
            found = estimate_cost(self.thesis.db, models, chosen)
        except ThesisError as exc:
            self.app.call_from_thread(self.show_error, exc.msg)
            return
        self.app.call_from_thread(self._show_cost, found)

    def _show_cost(self, found: list[Any]) -> None:
        priced = [e for e in found if e.usd is not None]
        tokens = sum(e.prompt_tokens + e.completion_tokens for e in found)
        apps = sum(e.apps for e in found)
        text = f"{apps} apps, about {tokens:,} tokens"
        if priced:
            text += f", about {sum(e.usd for e in priced):,.2f} USD"
        if len(priced) < len(found):
            text += f" ({len(found) - len(priced)} models without a price)"
        text += "; retries on top"
        try:
            limit = self._limit()
        except ThesisError:
            limit = None  # said in the error line already
        if limit is not None:
            text += f"; stops asking at {limit:,.2f} USD"
        self.query_one("#generate-estimate", Static).update(Text(text))
        self.call_after_refresh(self.fit_body)

    def action_generate(self) -> None:
        from tui.jobs.spec import JobSpec

        try:
            if not self.chosen:
                raise ValidationError("Tick the models that generate")
            spec = JobSpec.build(
                name="generate",
                types="generation",
                models=sorted(self.chosen),
                apps=",".join(map(str, self._numbers())),
                force=self.query_one("#force", Checkbox).value,
                max_cost=self._limit(),
            )
        except ThesisError as exc:
            self.show_error(exc.msg)
            return
        self.query_one("#generate", Button).disabled = True
        self._create(spec)

    @work(thread=True, exclusive=True, exit_on_error=False, group="write:generate-form")
    def _create(self, spec: Any) -> None:
        from tui.jobs.planner import create_job

        try:
            created = create_job(self.thesis.db, self.thesis.settings, spec, created_by="tui")
        except ThesisError as exc:
            self.app.call_from_thread(self.refused, exc.msg)
            return
        self.app.call_from_thread(self.dismiss, created.id)
