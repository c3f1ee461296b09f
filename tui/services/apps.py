"""Generated applications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from tui.db import Database
from tui.db.models import AnalysisTask, GeneratedApplication, PortAllocation
from tui.services.common import DEFAULT_LIMIT, Page, count_and_page, search_clause


@dataclass(frozen=True)
class AppRow:
    id: int
    model_slug: str
    app_number: int
    status: str
    backend_port: int | None
    frontend_port: int | None
    last_status_check: datetime | None
    missing: bool
    last_analysis: str | None


def list_applications(
    db: Database, *, search: str | None = None, limit: int | None = DEFAULT_LIMIT
) -> Page[AppRow]:
    """Apps with their ports and the type/status of their latest analysis."""
    a = GeneratedApplication
    latest = select(
        AnalysisTask.application_id,
        AnalysisTask.task_type,
        AnalysisTask.status,
        func.row_number()
        .over(partition_by=AnalysisTask.application_id, order_by=AnalysisTask.created_at.desc())
        .label("rank"),
    ).subquery()
    statement = (
        select(
            a,
            PortAllocation.backend_port,
            PortAllocation.frontend_port,
            latest.c.task_type,
            latest.c.status,
        )
        .outerjoin(
            PortAllocation,
            (PortAllocation.model_name == a.model_slug)
            & (PortAllocation.app_number == a.app_number),
        )
        .outerjoin(latest, (latest.c.application_id == a.id) & (latest.c.rank == 1))
        .order_by(a.model_slug, a.app_number)
    )
    where = search_clause(search, [a.model_slug, a.status])
    if where is not None:
        statement = statement.where(where)
    with db.session() as session:
        rows, total = count_and_page(session, statement, limit)
        return Page(
            [
                AppRow(
                    id=app.id,
                    model_slug=app.model_slug,
                    app_number=app.app_number,
                    status=str(app.status),
                    backend_port=backend,
                    frontend_port=frontend,
                    last_status_check=app.last_status_check,
                    missing=app.missing_since is not None,
                    last_analysis=f"{task_type} {task_status}" if task_type else None,
                )
                for app, backend, frontend, task_type, task_status in rows
            ],
            total,
        )
