"""Batch jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, select

from tui.db import Database
from tui.db.models import BatchJob, JobPriority
from tui.services.common import DEFAULT_LIMIT, Page, apply_sort, count_and_page, search_clause


@dataclass(frozen=True)
class BatchJobRow:
    id: int
    name: str
    status: str
    priority: str
    progress: int
    total: int
    completed: int
    failed: int
    created_at: datetime


PRIORITY_RANK = {priority: rank for rank, priority in enumerate(JobPriority)}
"""low < normal < high < urgent, as the enum lists them (not as the words sort)."""


def priority_rank(column: ColumnElement[Any]) -> ColumnElement[int]:
    """The priority as a number, so sorting by it ranks urgent above high."""
    return case({str(p): rank for p, rank in PRIORITY_RANK.items()}, value=column, else_=-1)


def list_jobs(
    db: Database,
    *,
    search: str | None = None,
    sort: str | None = None,
    descending: bool = False,
    limit: int = DEFAULT_LIMIT,
    count: bool = True,
) -> Page[BatchJobRow]:
    """Batch jobs, newest first unless sorted."""
    j = BatchJob
    statement = select(j).order_by(j.created_at.desc(), j.id.desc())
    statement = apply_sort(
        statement,
        sort,
        descending,
        {
            "id": j.id,
            "name": j.name,
            "status": j.status,
            "priority": priority_rank(j.priority),
            "progress": j.progress,
            "failed": j.failed_tests,
            "created": j.created_at,
        },
        tiebreak=[j.id.desc()],
    )
    where = search_clause(search, [j.name, j.status, j.priority])
    if where is not None:
        statement = statement.where(where)
    with db.session() as session:
        rows, total = count_and_page(session, statement, limit, count)
        return Page(
            [
                BatchJobRow(
                    id=job.id,
                    name=job.name,
                    status=str(job.status),
                    priority=str(job.priority),
                    progress=job.progress,
                    total=job.total_tests,
                    completed=job.completed_tests,
                    failed=job.failed_tests,
                    created_at=job.created_at,
                )
                for (job,) in rows
            ],
            total,
        )
