"""Small shapes every listing service shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from tui.errors import ValidationError

T = TypeVar("T")

DEFAULT_LIMIT = 1000


@dataclass(frozen=True)
class Page(Generic[T]):
    """Rows of one listing, filtered and limited in SQL, and how many matched in all."""

    rows: list[T]
    total: int

    @property
    def shown(self) -> int:
        return len(self.rows)


def search_clause(
    search: str | None, columns: Sequence[ColumnElement[str]]
) -> ColumnElement[bool] | None:
    """Case-insensitive "every word appears in one of these columns"; None for no search."""
    words = (search or "").split()
    if not words:
        return None
    return and_(
        *(
            or_(*(func.lower(column).contains(word.lower(), autoescape=True) for column in columns))
            for word in words
        )
    )


def count_and_page(session: Session, statement: Select, limit: int) -> tuple[list, int]:
    """Run `statement` limited, and count all rows it would return."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = list(session.execute(statement.limit(limit)).all())
    return rows, int(total or 0)


def apply_sort(
    statement: Select,
    sort: str | None,
    descending: bool,
    columns: dict[str, ColumnElement[Any]],
    tiebreak: Sequence[ColumnElement[Any]],
) -> Select:
    """ORDER BY the named column (nulls last), then the tiebreak; unknown names are refused.

    With no sort name the statement keeps its own default order.
    """
    if sort is None:
        return statement
    if sort not in columns:
        raise ValidationError(f"Cannot sort by {sort!r}; choose one of: {', '.join(columns)}")
    column = columns[sort]
    ordered = column.desc() if descending else column.asc()
    return statement.order_by(None).order_by(column.is_(None), ordered, *tiebreak)
