"""An index for an app's latest analysis: (application_id, created_at) on analysis_tasks.

The Applications listing looks up each app's latest analysis; with this index that is one
index probe per app instead of a window over every analysis.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 09:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_analysis_tasks_application_created",
        "analysis_tasks",
        ["application_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_analysis_tasks_application_created", table_name="analysis_tasks")
