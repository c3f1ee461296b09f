"""Workers: the `thesis worker` processes (and TUIs, `thesis batch run`) that run a study's
tasks, on one machine or several, and where each task and app runs.

- `workers`: a row per runner process — its name, host, pid and start, the procrastinate
  worker it registered as (PostgreSQL), the Docker engine it uses, the types it takes, its
  concurrency, its heartbeat, when it stopped. Never deleted: a study's history says who ran
  what.
- `batch_tasks.worker_id`: the runner that claimed the task (running, or ran it).
- `generated_applications.docker_host`: the Docker engine the app's containers run on, so the
  tasks that need it up go to a worker on that engine.

ADD COLUMNs: SQLite alters the tables in place, keeping their triggers. No foreign keys to
`workers`: its rows are never deleted.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("process_start", sa.String(length=64), nullable=True),
        sa.Column("procrastinate_id", sa.BigInteger(), nullable=True),
        sa.Column("docker_host", sa.String(length=500), nullable=True),
        sa.Column("types", sa.JSON(), nullable=True),
        sa.Column("concurrency", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_workers_name", "workers", ["name"])
    op.add_column("batch_tasks", sa.Column("worker_id", sa.Integer(), nullable=True))
    op.create_index("ix_batch_tasks_worker_id", "batch_tasks", ["worker_id"])
    op.add_column(
        "generated_applications", sa.Column("docker_host", sa.String(length=500), nullable=True)
    )


def downgrade() -> None:
    # SQLite drops a column in place (3.35+); a batch rebuild would drop the triggers.
    op.drop_index("ix_batch_tasks_worker_id", table_name="batch_tasks")
    op.execute("ALTER TABLE batch_tasks DROP COLUMN worker_id")
    op.execute("ALTER TABLE generated_applications DROP COLUMN docker_host")
    op.drop_index("ix_workers_name", table_name="workers")
    op.drop_table("workers")
