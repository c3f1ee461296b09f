"""The functional analysis type: `functional` joins the values an analysis and a batch task
may have (the CHECK constraints of analysis_tasks.task_type and batch_tasks.test_type,
changed in place: tui/db/enum_checks.py says why and how).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 01:00:00
"""

from collections.abc import Sequence

from alembic import op

from tui.db.enum_checks import set_enum_check

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("security", "performance", "quality", "ai_review", "zap", "smoke")
AFTER = (*BEFORE, "functional")
COLUMNS = {"analysis_tasks": "task_type", "batch_tasks": "test_type"}


def _set(values: tuple[str, ...]) -> None:
    for table, column in COLUMNS.items():
        set_enum_check(table, column, f"ck_{table}_analysis_type", values)


def upgrade() -> None:
    _set(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM batch_tasks WHERE test_type = 'functional'")
    op.execute("DELETE FROM analysis_tasks WHERE task_type = 'functional'")
    _set(BEFORE)
