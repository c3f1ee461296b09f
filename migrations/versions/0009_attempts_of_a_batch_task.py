"""Every analysis a batch task ran knows that task, not only the attempt it ended with.

`batch_tasks.analysis_task_id` points at a task's current attempt; the attempts before it
(a runner killed, a retry) were lost to the job. What a job spent on model calls is the calls
of all its attempts: `analysis_tasks.batch_task_id` says whose attempt each analysis was, so
a job's shown cost and its cost limit count the same calls.

Existing rows: each current attempt gets its task (the earlier ones cannot be told apart).
No foreign key: jobs and their tasks are never deleted, and one would make the two tables
refer to each other. An ADD COLUMN: SQLite alters the table in place, keeping its triggers.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_analysis_tasks_batch_task_id"


def upgrade() -> None:
    op.add_column("analysis_tasks", sa.Column("batch_task_id", sa.Integer(), nullable=True))
    op.create_index(INDEX, "analysis_tasks", ["batch_task_id"])
    op.execute(
        "UPDATE analysis_tasks SET batch_task_id = ("
        " SELECT MIN(b.id) FROM batch_tasks b"
        " WHERE b.analysis_task_id = analysis_tasks.id AND NOT b.reused)"
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="analysis_tasks")
    # SQLite drops a column in place (3.35+); a batch rebuild would drop 0004's triggers.
    op.execute("ALTER TABLE analysis_tasks DROP COLUMN batch_task_id")
