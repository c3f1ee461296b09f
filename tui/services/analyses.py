"""Analyses and their results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from tui.db import Database
from tui.db.models import AnalysisTask, GeneratedApplication
from tui.services.common import DEFAULT_LIMIT, Page, apply_sort, count_and_page, search_clause


@dataclass(frozen=True)
class AnalysisRow:
    id: int
    task_id: str
    task_type: str
    model_slug: str
    app_number: int
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    findings: int | None

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.completed_at is None:
            return None
        return (self.completed_at - self.started_at).total_seconds()


def list_analyses(
    db: Database,
    *,
    search: str | None = None,
    sort: str | None = None,
    descending: bool = False,
    limit: int = DEFAULT_LIMIT,
) -> Page[AnalysisRow]:
    """Analyses, newest first unless sorted by one of SORTS."""
    t, a = AnalysisTask, GeneratedApplication
    statement = (
        select(t, a.model_slug, a.app_number)
        .join(a, a.id == t.application_id)
        .order_by(t.created_at.desc(), t.id.desc())
    )
    statement = apply_sort(
        statement,
        sort,
        descending,
        {
            "task": t.task_id,
            "type": t.task_type,
            "model": a.model_slug,
            "app": a.app_number,
            "status": t.status,
            "started": t.started_at,
        },
        tiebreak=[t.id.desc()],
    )
    where = search_clause(search, [t.task_id, t.task_type, t.status, a.model_slug])
    if where is not None:
        statement = statement.where(where)
    with db.session() as session:
        rows, total = count_and_page(session, statement, limit)
        return Page(
            [
                AnalysisRow(
                    id=task.id,
                    task_id=task.task_id,
                    task_type=str(task.task_type),
                    model_slug=slug,
                    app_number=number,
                    status=str(task.status),
                    started_at=task.started_at,
                    completed_at=task.completed_at,
                    findings=(task.summary or {}).get("total_findings"),
                )
                for task, slug, number in rows
            ],
            total,
        )
