"""The functional analysis type: `functional` joins the values an analysis and a batch task
may have (the CHECK constraints of analysis_tasks.task_type and batch_tasks.test_type,
changed in place: tui/db/enum_checks.py says why and how).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 01:00:00
"""

from collections.abc import Sequence

from tui.db.enum_checks import remove_analysis_type, set_analysis_types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("security", "performance", "quality", "ai_review", "zap", "smoke")
AFTER = (*BEFORE, "functional")


def upgrade() -> None:
    set_analysis_types(AFTER)


def downgrade() -> None:
    remove_analysis_type("functional", BEFORE)
