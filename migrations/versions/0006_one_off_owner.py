"""The process that asked for an "analyse now" job, on the job's row.

A one-off job is run at once by the process that created it (the TUI, `thesis analyze`). One
killed before a runner claimed its tasks left them pending for ever: no runner held them, so
none was seen to die. With the asking process on the job, the next start ends such a job's
pending tasks as a dead runner's are ended.

An ADD COLUMN each: SQLite alters the table in place.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNER = ("owner_host", "owner_pid", "owner_start")


def upgrade() -> None:
    op.add_column("batch_jobs", sa.Column("owner_host", sa.String(length=255), nullable=True))
    op.add_column("batch_jobs", sa.Column("owner_pid", sa.Integer(), nullable=True))
    op.add_column("batch_jobs", sa.Column("owner_start", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batch_jobs") as batch:
        for name in OWNER:
            batch.drop_column(name)
