"""The functional analysis type: `functional` joins the values an analysis and a batch task
may have.

The types are a CHECK constraint on analysis_tasks.task_type and batch_tasks.test_type
(non-native enums, tui/db/types.py). PostgreSQL drops and adds each constraint. SQLite
cannot alter a constraint, and rebuilding analysis_tasks would both drop its triggers and,
with foreign keys on inside the migration's transaction, cascade the DROP TABLE into every
row that references it; so the constraint's text is edited in the schema itself
(writable_schema, the way SQLite documents for changes that leave the stored rows as they
are: a CHECK that accepts one more value), and the schema version is bumped so every
connection reads it again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 01:00:00
"""

import re
from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("security", "performance", "quality", "ai_review", "zap", "smoke")
AFTER = (*BEFORE, "functional")
COLUMNS = {"analysis_tasks": "task_type", "batch_tasks": "test_type"}


def _values(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _set(values: tuple[str, ...]) -> None:
    bind = op.get_bind()
    for table, column in COLUMNS.items():
        name = f"ck_{table}_analysis_type"
        if bind.dialect.name == "postgresql":
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            op.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({column} IN ({_values(values)}))"
            )
            continue
        sql = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).scalar_one()
        pattern = re.compile(rf"(CONSTRAINT {name} CHECK \({column} IN \()[^)]*\)")
        edited, found = pattern.subn(lambda m: f"{m.group(1)}{_values(values)})", sql)
        if found != 1:
            raise RuntimeError(f"{table}: the constraint {name} is not where it should be")
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
        bind.exec_driver_sql("PRAGMA writable_schema = ON")
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
            (edited, table),
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    _set(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM batch_tasks WHERE test_type = 'functional'")
    op.execute("DELETE FROM analysis_tasks WHERE task_type = 'functional'")
    _set(BEFORE)
