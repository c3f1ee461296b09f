"""Generation as a job's task: `generation` joins the values an analysis and a batch task
may have, so the batch engine runs, resumes and records generations as it does analyses
(the CHECK constraints changed in place: tui/db/enum_checks.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 01:40:00
"""

from collections.abc import Sequence

from alembic import op

from tui.db.enum_checks import set_enum_check

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("security", "performance", "quality", "ai_review", "zap", "smoke", "functional")
AFTER = (*BEFORE, "generation")
COLUMNS = {"analysis_tasks": "task_type", "batch_tasks": "test_type"}


def _set(values: tuple[str, ...]) -> None:
    for table, column in COLUMNS.items():
        set_enum_check(table, column, f"ck_{table}_analysis_type", values)


def upgrade() -> None:
    _set(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM batch_tasks WHERE test_type = 'generation'")
    op.execute("DELETE FROM analysis_tasks WHERE task_type = 'generation'")
    _set(BEFORE)
