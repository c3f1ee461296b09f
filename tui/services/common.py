"""Small shapes every listing service shares."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Connection, Select, Text, and_, cast, func, or_, select

from tui.errors import ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

T = TypeVar("T")

DEFAULT_LIMIT = 1000


@dataclass(frozen=True)
class Page(Generic[T]):
    """Rows of one listing, filtered and limited in SQL, and how many matched in all."""

    rows: list[T]
    total: int | None
    """None: not counted (asked with count=False, and there may be more than the page)."""

    @property
    def shown(self) -> int:
        return len(self.rows)


def search_clause(
    search: str | None, columns: Sequence[ColumnElement[Any]]
) -> ColumnElement[bool] | None:
    """Case-insensitive "every word appears in one of these columns"; None for no search.

    Each column is read as text (numbers and enums too: callers pass them as they are). One
    case-insensitive LIKE per column, ORed: the database stops at the first column
    that matches (ILIKE on PostgreSQL, whose planner then keeps to the ordered index and
    stops after a page; a single LIKE over the columns joined was twice as slow there).
    """
    words = (search or "").split()
    if not words:
        return None
    return and_(
        *(
            or_(*(cast(column, Text).icontains(word, autoescape=True) for column in columns))
            for word in words
        )
    )


def matches(search: str | None, text: str) -> bool:
    """Case-insensitive "every word of `search` appears in `text`": the rule of
    `search_clause`, for the few rows a screen filters in Python (models, a report's rows)."""
    haystack = text.lower()
    return all(word in haystack for word in (search or "").lower().split())


def count_and_page(
    session: Connection | Session, statement: Select, limit: int | None, count: bool = True
) -> tuple[list, int | None]:
    """Run `statement` limited, and count all rows it would return (on a Core connection
    or an ORM session).

    Two queries, on purpose: the page stops at `limit` matches, and the count reads only
    what the filter needs (a window count over the page would make every row be built).
    `limit=0` asks for the count alone.
    """
    if limit == 0:
        rows = []
    else:
        rows = list(session.execute(statement if limit is None else statement.limit(limit)).all())
    if limit is None or len(rows) < limit:
        return rows, len(rows)  # the page holds them all: no count needed
    if not count:
        return rows, None
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
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


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """`items` in slices of at most `size`: an IN list kept under SQLite's variable limit."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
