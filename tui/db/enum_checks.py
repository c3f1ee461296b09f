"""Changing the values a non-native enum column accepts, for migrations (0007, 0008).

The values are a CHECK constraint (tui/db/types.py). PostgreSQL drops and adds it. SQLite
cannot alter a constraint, and rebuilding the table (Alembic's batch mode) would both drop
its triggers and, with foreign keys on inside the migration's transaction, cascade the DROP
TABLE into every row that references it; so the constraint's text is edited in the schema
itself (writable_schema, as SQLite documents for changes that leave the stored rows as they
are), and the schema version is bumped so every connection reads the schema again.
"""

from __future__ import annotations

import re
from typing import Any

from alembic import op
from sqlalchemy import text


def set_enum_check(table: str, column: str, name: str, values: tuple[str, ...]) -> None:
    """Make `table.column`'s CHECK constraint `name` accept exactly `values`."""
    bind: Any = op.get_bind()
    listed = ", ".join(f"'{value}'" for value in values)
    if bind.dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({column} IN ({listed}))")
        return
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    pattern = re.compile(rf"(CONSTRAINT {name} CHECK \({column} IN \()[^)]*\)")
    edited, found = pattern.subn(lambda m: f"{m.group(1)}{listed})", sql)
    if found != 1:
        raise RuntimeError(f"{table}: the constraint {name} is not where it should be")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (edited, table)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


ANALYSIS_TYPE_COLUMNS = {"analysis_tasks": "task_type", "batch_tasks": "test_type"}
"""The columns holding an analysis type, each with its CHECK `ck_<table>_analysis_type`."""


def set_analysis_types(values: tuple[str, ...]) -> None:
    """Make every analysis-type column accept exactly `values`."""
    for table, column in ANALYSIS_TYPE_COLUMNS.items():
        set_enum_check(table, column, f"ck_{table}_analysis_type", values)


def remove_analysis_type(value: str, values: tuple[str, ...]) -> None:
    """Undo the type `value` (migrations' downgrades): its tasks and analyses are deleted
    first, then the columns accept `values` (the list without it) again."""
    bind: Any = op.get_bind()
    for table, column in reversed(ANALYSIS_TYPE_COLUMNS.items()):
        # Table and column are ours (the constant above); the value is a bound parameter.
        delete = text(f"DELETE FROM {table} WHERE {column} = :value")  # noqa: S608  # nosec B608
        bind.execute(delete, {"value": value})
    set_analysis_types(values)
