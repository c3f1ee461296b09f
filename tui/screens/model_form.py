"""Add or edit a model: a compact form that validates with the catalogue's own schema before
it closes, so the user fixes a bad slug or price where they typed it."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Static

from tui.errors import ValidationError
from tui.services.schemas import ModelCreate, ModelRead, ModelUpdate, parse_input
from tui.widgets.check import Check
from tui.widgets.dialog import FormDialog

# (field, label, placeholder); every one is optional text the schema parses.
TEXT_FIELDS: list[tuple[str, str, str]] = [
    ("slug", "Slug", "required: provider_model, e.g. openai_gpt-4o"),
    ("provider", "Provider", "e.g. openai (optional)"),
    ("name", "Name", "e.g. GPT-4o (optional)"),
    ("model_id_openrouter", "OpenRouter id", "e.g. openai/gpt-4o (optional)"),
    ("parameters_billions", "Params (B)", "billions, e.g. 70 (optional)"),
    ("context_length", "Context", "tokens, e.g. 128000 (optional)"),
    ("max_output_tokens", "Max output", "tokens (optional)"),
    ("price_prompt", "$ in / 1M", "USD per 1M prompt tokens (optional)"),
    ("price_completion", "$ out / 1M", "USD per 1M completion tokens (optional)"),
]
FLAGS: list[tuple[str, str]] = [
    ("vision", "Vision"),
    ("function_calling", "Tools"),
    ("json_mode", "JSON"),
    ("streaming", "Streaming"),
]


class ModelFormScreen(FormDialog[ModelCreate | ModelUpdate | None]):
    """Dismisses with a validated ModelCreate (new) or ModelUpdate (edit), or None."""

    SUBMIT = "save"

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, model: ModelRead | None = None) -> None:
        super().__init__()
        self.model = model

    def compose(self) -> ComposeResult:
        title = f"Edit {self.model.slug}" if self.model else "Add a model"
        with Vertical(id="model-form", classes="dialog"):
            yield Static(title, classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                with Grid(id="model-form-grid"):
                    for field, label, placeholder in TEXT_FIELDS:
                        if field == "slug" and self.model is not None:
                            continue  # folders and results are named after it: fixed once made
                        yield Label(label)
                        yield Input(
                            self._initial(field),
                            placeholder=placeholder,
                            id=f"field-{field}",
                            compact=True,
                        )
                with Grid(id="model-form-flags", classes="form-checks"):
                    for field, label in FLAGS:
                        value = bool(getattr(self.model, field, False))
                        yield Check(label, value, id=f"flag-{field}", compact=True)
            yield Static("", id="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def _initial(self, field: str) -> str:
        value = getattr(self.model, field, None) if self.model else None
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    def values(self) -> dict[str, Any]:
        """What the form holds, as the schema's fields; empty text means "not given"."""
        data: dict[str, Any] = {}
        for input_ in self.query(Input):
            field = (input_.id or "").removeprefix("field-")
            text = input_.value.strip()
            if text:
                data[field] = text
            elif self.model is None:
                data[field] = None
        for checkbox in self.query(Checkbox):
            data[(checkbox.id or "").removeprefix("flag-")] = checkbox.value
        if self.model is None:
            return {key: value for key, value in data.items() if value is not None}
        return data

    def action_save(self) -> None:
        schema = ModelUpdate if self.model else ModelCreate
        try:
            result = parse_input(schema, self.values(), "model")
        except ValidationError as exc:
            self.show_error(exc.msg)
            return
        self.dismiss(result)
