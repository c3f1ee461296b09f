"""Owners of running work and why an app failed: a process that dies mid-task is seen.

analysis_tasks and generated_applications get owner_host, owner_pid, owner_start and
heartbeat_at; generated_applications gets status_detail (why its last build or start failed).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNER_COLUMNS = ("owner_host", "owner_pid", "owner_start", "heartbeat_at")


def _owner_columns() -> list[sa.Column]:
    return [
        sa.Column("owner_host", sa.String(length=255), nullable=True),
        sa.Column("owner_pid", sa.Integer(), nullable=True),
        sa.Column("owner_start", sa.String(length=64), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("analysis_tasks") as batch:
        for column in _owner_columns():
            batch.add_column(column)
    with op.batch_alter_table("generated_applications") as batch:
        batch.add_column(sa.Column("status_detail", sa.Text(), nullable=True))
        for column in _owner_columns():
            batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("generated_applications") as batch:
        for name in (*OWNER_COLUMNS, "status_detail"):
            batch.drop_column(name)
    with op.batch_alter_table("analysis_tasks") as batch:
        for name in OWNER_COLUMNS:
            batch.drop_column(name)
