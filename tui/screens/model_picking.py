"""The model list of the job and generation forms: a filter (`#model-filter`) over a list
of check boxes (`#models`) whose ticks are kept while the filter hides some of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.widgets import Input, SelectionList

from tui.errors import ThesisError
from tui.services.common import matches

SHOWN = 500
"""Models listed at most (the filter finds the others)."""


class PicksModels:
    """Mixed into a form screen that composes `#model-filter` and `#models`."""

    models: list[str]
    chosen: set[str]
    query_one: Any
    app: Any
    run_worker: Any
    show_error: Callable[[str], None]

    def load_models(self, source: Callable[[], list[str]], then: Callable[[], None]) -> None:
        """Read the models with `source` in a thread, list them, then call `then`."""

        def read() -> None:
            try:
                models = source()
            except ThesisError as exc:
                self.app.call_from_thread(self.show_error, exc.msg)
                return
            self.app.call_from_thread(self.show_models, models)
            self.app.call_from_thread(then)

        self.run_worker(read, thread=True, exclusive=True, exit_on_error=False,
                        group="read:form-models")  # fmt: skip

    def show_models(self, models: list[str]) -> None:
        self.models = models
        self.filter_models()

    def filter_models(self) -> None:
        search = self.query_one("#model-filter", Input).value
        shown = [slug for slug in self.models if matches(search, slug)]
        selection = self.query_one("#models", SelectionList)
        selection.clear_options()
        # Text, not str: a prompt string is read as markup, and slugs come from folder names.
        selection.add_options([(Text(slug), slug, slug in self.chosen) for slug in shown[:SHOWN]])
        if shown:  # space ticks the first match at once
            selection.highlighted = 0

    def toggle_model(self, event: SelectionList.SelectionToggled) -> None:
        self.chosen.symmetric_difference_update({str(event.selection.value)})
