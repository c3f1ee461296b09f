"""4 · Analyses: every analysis with its status, duration and findings."""

from __future__ import annotations

from typing import Any

from tui.screens.base import Column, TableScreen
from tui.services.analyses import AnalysisRow, list_analyses
from tui.services.common import Page
from tui.widgets.format import NONE, duration, when


class AnalysesScreen(TableScreen):
    SUB_TITLE = "Analyses"
    NOUN = "analyses"
    EMPTY_HINT = "No analyses yet.\n\nRun one with  thesis analyze MODEL N --type security"
    COLUMNS = [
        Column("task", "Task"),
        Column("type", "Type"),
        Column("model", "Model"),
        Column("app", "App"),
        Column("status", "Status"),
        Column("started", "Started"),
        Column("duration", "Duration"),
        Column("findings", "Findings"),
    ]

    def fetch(self, search: str) -> Page[Any]:
        return list_analyses(self.thesis.db, search=search)

    def row_cells(self, row: AnalysisRow) -> tuple[str, tuple[Any, ...]]:
        return str(row.id), (
            row.task_id,
            row.task_type,
            row.model_slug,
            str(row.app_number),
            row.status,
            when(row.started_at),
            duration(row.duration_seconds),
            NONE if row.findings is None else str(row.findings),
        )
