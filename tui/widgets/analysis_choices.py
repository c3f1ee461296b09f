"""What to run: the analysis types, the security tools and each type's options.

The part the analysis start form and the batch job form share: the same check boxes and
option fields, read the same way (each type's schema parses the options when the job is
stored, registry.py).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Checkbox, Input, Label

from tui.db.models import AnalysisType
from tui.errors import ValidationError
from tui.services.analysis.options import SECURITY_TOOLS
from tui.services.analysis.registry import ANALYSES, FORM_OPTIONS
from tui.widgets.check import Check


class AnalysisChoices(Vertical):
    DEFAULT_CSS = """
    AnalysisChoices {
        height: auto;
    }
    """

    def __init__(self, types: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.types = types

    def compose(self) -> ComposeResult:
        yield Label("Types", classes="form-section")
        with Grid(classes="form-checks", id="types"):
            for kind in ANALYSES:
                yield Check(str(kind), str(kind) in self.types, id=f"type-{kind}", compact=True)
        yield Label("Security tools", classes="form-section")
        with Grid(classes="form-checks", id="tools"):
            for tool in SECURITY_TOOLS:
                yield Check(tool, True, id=f"tool-{tool}", compact=True)
        with Grid(classes="form-grid form-options"):
            for option, label, placeholder in FORM_OPTIONS:
                yield Label(label)
                yield Input(placeholder=placeholder, id=f"option-{option}", compact=True)

    def chosen(self) -> tuple[tuple[AnalysisType, ...], dict[str, Any]]:
        """(types, options as typed, `tools` among them); raises ValidationError."""
        types = tuple(kind for kind in ANALYSES if self.query_one(f"#type-{kind}", Checkbox).value)
        if not types:
            raise ValidationError("Choose at least one analysis type")
        tools = [tool for tool in SECURITY_TOOLS if self.query_one(f"#tool-{tool}", Checkbox).value]
        if AnalysisType.SECURITY in types and not tools:
            raise ValidationError("Choose at least one security tool (or untick security)")
        options: dict[str, Any] = {"tools": ",".join(tools)}
        for option, _label, _ in FORM_OPTIONS:
            text = self.query_one(f"#option-{option}", Input).value.strip()
            if text:
                options[option] = text  # parsed by each type's schema when stored
        return types, options
