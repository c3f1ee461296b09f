"""What the batch engine needs of batch jobs and tasks.

batch_tasks get the owner columns (host, pid, process start, heartbeat) of the runner that
claimed them, so a dead runner's tasks go back to pending; `reused` and `cache_key` for a
task that stands on an earlier analysis of the same content. analysis_tasks get `cache_key`
(indexed: the lookup of a reusable analysis). batch_jobs get `one_off`: the TUI's and
`thesis analyze`'s runs are jobs too, listed apart from studies.

Every step is an ADD COLUMN, so SQLite alters the tables in place and the triggers of 0004
on analysis_tasks stay.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNER = ("owner_host", "owner_pid", "owner_start", "heartbeat_at")


def upgrade() -> None:
    op.add_column("batch_tasks", sa.Column("owner_host", sa.String(length=255), nullable=True))
    op.add_column("batch_tasks", sa.Column("owner_pid", sa.Integer(), nullable=True))
    op.add_column("batch_tasks", sa.Column("owner_start", sa.String(length=64), nullable=True))
    op.add_column("batch_tasks", sa.Column("heartbeat_at", sa.DateTime(timezone=True)))
    op.add_column(
        "batch_tasks",
        sa.Column("reused", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("batch_tasks", sa.Column("cache_key", sa.String(length=64), nullable=True))
    op.add_column("analysis_tasks", sa.Column("cache_key", sa.String(length=64), nullable=True))
    op.create_index("ix_analysis_tasks_cache_key", "analysis_tasks", ["cache_key"])
    op.add_column(
        "batch_jobs",
        sa.Column("one_off", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("batch_jobs") as batch:
        batch.drop_column("one_off")
    op.drop_index("ix_analysis_tasks_cache_key", table_name="analysis_tasks")
    op.drop_column("analysis_tasks", "cache_key")
    with op.batch_alter_table("batch_tasks") as batch:
        for name in (*OWNER, "reused", "cache_key"):
            batch.drop_column(name)
