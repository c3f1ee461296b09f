"""5 · Batch jobs: models x apps x analysis types, with their progress."""

from __future__ import annotations

from typing import Any

from tui.screens.base import Column, Query, TableScreen
from tui.services.batches import BatchJobRow, list_jobs
from tui.services.common import Page
from tui.widgets.format import status as fmt_status


class BatchJobsScreen(TableScreen):
    SUB_TITLE = "Batch jobs"
    MODE = "batch"
    NOUN = "jobs"
    EMPTY_HINT = (
        "No batch jobs yet.\n\n"
        "A batch runs analyses over models x apps x analysis types, headless or here."
    )
    COLUMNS = [
        Column("id", "Job", sortable=True),
        Column("name", "Name", sortable=True, elide="end"),
        Column("status", "Status", sortable=True),
        Column("priority", "Priority", sortable=True, priority=3),
        Column("progress", "Progress", sortable=True),
        Column("done", "Done/Total", priority=1),
        Column("failed", "Failed", sortable=True, priority=1),
        Column("created", "Created", sortable=True, priority=2),
    ]

    def fetch(self, query: Query, count: bool = True) -> Page[Any]:
        return list_jobs(
            self.thesis.db,
            **query.listing(count),
        )

    def row_cells(self, row: BatchJobRow) -> tuple[str, tuple[Any, ...]]:
        return str(row.id), (
            str(row.id),
            row.name,
            fmt_status(row.status),
            row.priority,
            f"{row.progress}%",
            f"{row.completed}/{row.total}",
            str(row.failed),
            row.created_at,
        )
