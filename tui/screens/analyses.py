"""4 · Analyses: every analysis with its status, duration and findings."""

from __future__ import annotations

from typing import Any

from tui.screens.base import Column, Query, TableScreen
from tui.services.analyses import AnalysisRow, list_analyses
from tui.services.common import Page
from tui.widgets.format import NONE, duration, when
from tui.widgets.format import status as fmt_status


class AnalysesScreen(TableScreen):
    SUB_TITLE = "Analyses"
    MODE = "analyses"
    NOUN = "analyses"
    EMPTY_HINT = "No analyses yet.\n\nRun one with  thesis analyze MODEL N --type security"
    COLUMNS = [
        Column("task", "Task", sortable=True),
        Column("type", "Type", sortable=True),
        Column("model", "Model", sortable=True),
        Column("app", "App", sortable=True),
        Column("status", "Status", sortable=True),
        Column("started", "Started", sortable=True),
        Column("duration", "Duration"),
        Column("findings", "Findings"),
    ]

    def fetch(self, query: Query) -> Page[Any]:
        return list_analyses(
            self.thesis.db, search=query.search, sort=query.sort, descending=query.descending
        )

    def row_cells(self, row: AnalysisRow) -> tuple[str, tuple[Any, ...]]:
        return str(row.id), (
            row.task_id,
            row.task_type,
            row.model_slug,
            str(row.app_number),
            fmt_status(row.status),
            when(row.started_at),
            duration(row.duration_seconds),
            NONE if row.findings is None else str(row.findings),
        )
