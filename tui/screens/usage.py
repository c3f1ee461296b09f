"""$ · Usage & cost: every LLM call recorded in `model_usage`, summed by model, by kind of
call or by day, with the total; as `thesis report usage` prints it. Opened from any screen
(`$`, or the palette), or from a job's view for what that job spent (`$` there)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from textual.binding import Binding

from tui.errors import shown
from tui.screens.base import Column, Query, TableScreen
from tui.widgets.format import number, usd

if TYPE_CHECKING:
    from tui.services.common import Page
    from tui.services.reports.usage import UsageRow

GROUPS = {"model": ("Model", "models"), "kind": ("Kind of call", "kinds of call"),
          "day": ("Day (UTC)", "days")}  # fmt: skip
"""How the calls are summed, in the order `g` goes through them: the first column's label,
and what the status line counts."""


class UsageScreen(TableScreen):
    SUB_TITLE = "Usage & cost"
    MODE = "reports"
    PUSHED = True
    BINDINGS = [
        Binding("g", "group", "Group", tooltip="Sum by model, by kind of call, by day (in turn)"),
    ]
    EMPTY_HINT = (
        "No LLM call recorded yet.\n\n"
        "Every call of ours to a model (an AI review, a generation) is recorded here\n"
        "with its tokens and its cost from the catalogue's prices."
    )
    COLUMNS: ClassVar[list[Column]] = [
        Column("key", "Model", sortable=True, elide="middle", min_width=12),
        Column("calls", "Calls", sortable=True),
        Column("prompt", "Prompt tok", sortable=True, priority=2),
        Column("completion", "Compl. tok", sortable=True, priority=2),
        Column("tokens", "Tokens", sortable=True, priority=1),
        Column("usd", "USD", sortable=True),
    ]

    def __init__(self, job_id: int | None = None, by: str = "model") -> None:
        super().__init__()
        self.job_id = job_id
        self.by = by
        self.total: UsageRow | None = None
        self._label()

    def _label(self) -> None:
        label, self.NOUN = GROUPS[self.by]
        self.COLUMNS = [replace(type(self).COLUMNS[0], label=label), *type(self).COLUMNS[1:]]

    def fetch(self, query: Query, count: bool = True) -> Page[Any]:
        from tui.services.common import Page, matches
        from tui.services.reports.usage import usage

        *rows, self.total = usage(self.thesis.db, self.by, job_id=self.job_id)  # type: ignore[arg-type]
        rows = [row for row in rows if matches(query.search, row.key)]
        if query.sort:
            field = {"prompt": "prompt_tokens", "completion": "completion_tokens",
                     "tokens": "total_tokens"}.get(query.sort, query.sort)  # fmt: skip
            rows.sort(key=lambda row: (getattr(row, field), row.key), reverse=query.descending)
        return Page(rows[: query.limit] if query.limit else [], len(rows))

    def row_cells(self, row: UsageRow) -> tuple[str, tuple[Any, ...]]:
        return row.key, (
            shown(row.key),  # a model name or a kind of call as recorded: never acting
            number(row.calls),
            number(row.prompt_tokens),
            number(row.completion_tokens),
            number(row.total_tokens),
            usd(row.usd),
        )

    def status_suffix(self) -> str:
        text = f" · job {self.job_id}" if self.job_id is not None else ""
        if self.total is not None and self.total.calls:
            text += (
                f" · total {usd(self.total.usd)} USD, {number(self.total.calls)} calls, "
                f"{number(self.total.total_tokens)} tokens"
            )
        return text

    def action_group(self) -> None:
        groups = list(GROUPS)
        self.by = groups[(groups.index(self.by) + 1) % len(groups)]
        self._label()
        self.fitted = None  # the first column's label changed: rebuild the columns
        self.sort_by(None)
        self.notify(f"By {GROUPS[self.by][0].lower()}")
