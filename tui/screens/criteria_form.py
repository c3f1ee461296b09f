"""The ranking's criteria, edited on screen: which metrics, their weights and directions, the
method and how many apps a model needs behind a value — what `thesis report rank` takes as
--criteria, --weights, --method and --min-apps.

Each metric the report has a value for is a row: a box to tick it, its weight (any number
≥ 0; they are normalised) and a box ticked when more is better (a benefit) or not (a cost).
The form checks the choice as the ranking would and says in one line what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Static

from tui.errors import ValidationError
from tui.widgets.check import Check
from tui.widgets.dialog import FormDialog


@dataclass(frozen=True)
class Choice:
    """A ranking as asked for: criteria as `key:benefit|cost`, their weights, the method and
    the apps a model needs behind each value."""

    criteria: tuple[str, ...]
    weights: tuple[float, ...]
    method: str = "topsis"
    min_apps: int = 5


def _number(text: str, what: str) -> float:
    try:
        value = float(text.strip() or "nan")
    except ValueError:
        raise ValidationError(f"{what}: {text.strip()!r} is not a number") from None
    if value != value or value < 0 or value == float("inf"):  # NaN, negative, infinite
        raise ValidationError(f"{what}: a weight is a number >= 0")
    return value


class CriteriaFormScreen(FormDialog[Choice | None]):
    """Dismisses with the Choice, checked against the report, or None."""

    SUBMIT = "rank"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "rank", "Rank"),
    ]

    def __init__(self, report: Any, choice: Choice) -> None:
        super().__init__()
        self.report = report
        self.choice = choice
        measured = {
            key for stats in report.models for key, e in stats.metrics.items() if e.mean is not None
        }
        self.metrics = [m for m in report.metrics if m.key in measured]
        """The metrics a model has a value for, in the report's order."""

    def compose(self) -> ComposeResult:
        picked = {}
        for raw, weight in zip(self.choice.criteria, self.choice.weights, strict=True):
            key, _, direction = raw.partition(":")
            picked[key] = (weight, direction)
        with Vertical(id="criteria-form", classes="dialog"):
            yield Static("Ranking criteria", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                with Grid(classes="form-grid"):
                    yield Label("Min apps")
                    yield Input(str(self.choice.min_apps), id="min-apps", compact=True,
                                placeholder="apps a model needs behind a value")  # fmt: skip
                yield Check("Weighted sum (WSM) instead of TOPSIS", self.choice.method == "wsm",
                            id="wsm", compact=True)  # fmt: skip
                yield Static("Criterion · weight · more is better", classes="form-section")
                with Grid(id="criteria-grid"):
                    for index, metric in enumerate(self.metrics):
                        weight, direction = picked.get(metric.key, (None, ""))
                        benefit = (direction or ("benefit" if metric.better == "higher" else
                                                 "cost")) == "benefit"  # fmt: skip
                        yield Check(metric.label, weight is not None, id=f"use-{index}",
                                    compact=True)  # fmt: skip
                        yield Input(_weight(weight), id=f"weight-{index}", compact=True,
                                    placeholder="1")  # fmt: skip
                        yield Check("", benefit, id=f"benefit-{index}", compact=True)
            yield Static("", id="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Rank (ctrl+s)", id="rank", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#use-0" if self.metrics else "#min-apps").focus()

    def chosen(self) -> Choice:
        """The form as a Choice; raises ValidationError with one line."""
        raw = self.query_one("#min-apps", Input).value.strip()
        if not raw.isdigit() or int(raw) < 1:
            raise ValidationError(f"Min apps: {raw!r} is not a whole number >= 1")
        criteria, weights = [], []
        for index, metric in enumerate(self.metrics):
            if not self.query_one(f"#use-{index}", Checkbox).value:
                continue
            text = self.query_one(f"#weight-{index}", Input).value or "1"
            weights.append(_number(text, metric.label))
            benefit = self.query_one(f"#benefit-{index}", Checkbox).value
            criteria.append(f"{metric.key}:{'benefit' if benefit else 'cost'}")
        if not criteria:
            raise ValidationError("Tick at least one criterion")
        method = "wsm" if self.query_one("#wsm", Checkbox).value else "topsis"
        choice = Choice(tuple(criteria), tuple(weights), method, int(raw))
        from tui.services.reports.rank import parse_criteria

        parse_criteria(self.report, list(choice.criteria), list(choice.weights))  # as it will
        return choice

    def action_rank(self) -> None:
        try:
            choice = self.chosen()
        except ValidationError as exc:
            self.show_error(exc.msg)
            return
        self.dismiss(choice)


def _weight(weight: float | None) -> str:
    if weight is None:
        return ""
    return f"{weight:g}"
