"""Host port allocations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import cast, select
from sqlalchemy.types import String

from tui.db import Database
from tui.db.models import PortAllocation
from tui.services.common import DEFAULT_LIMIT, Page, count_and_page, search_clause


@dataclass(frozen=True)
class PortRow:
    id: int
    model_slug: str
    app_number: int
    backend_port: int
    frontend_port: int
    allocated_at: datetime


def list_allocations(
    db: Database, *, search: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[PortRow]:
    p = PortAllocation
    statement = select(p).order_by(p.backend_port)
    where = search_clause(
        search, [p.model_name, cast(p.backend_port, String), cast(p.frontend_port, String)]
    )
    if where is not None:
        statement = statement.where(where)
    with db.session() as session:
        rows, total = count_and_page(session, statement, limit)
        return Page(
            [
                PortRow(
                    id=row.id,
                    model_slug=row.model_name,
                    app_number=row.app_number,
                    backend_port=row.backend_port,
                    frontend_port=row.frontend_port,
                    allocated_at=row.allocated_at,
                )
                for (row,) in rows
            ],
            total,
        )
