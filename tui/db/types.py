"""Column types shared by the models: aware UTC datetimes and string-backed enums."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, TypeDecorator
from sqlalchemy.engine import Dialect


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC. The only clock the data model uses."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime that always goes in and comes out timezone-aware in UTC.

    SQLite stores no offset, so naive values read back are UTC by construction. A naive
    value written by our own code is a bug (the original crashed comparing naive and aware
    datetimes), so it is refused instead of guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: use tui.db.types.utcnow()")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    """A VARCHAR column with a CHECK constraint allowing only the enum's values.

    Non-native so both SQLite and PostgreSQL store plain strings and Alembic can add values
    with a batch migration; the database still refuses anything else.
    """

    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class StrEnum(enum.StrEnum):
    """An enum whose members are their string values (comparisons with str work)."""

    @classmethod
    def values(cls) -> list[str]:
        return [m.value for m in cls]
