"""Each app's latest analysis on its own row, kept by triggers on analysis_tasks.

The Applications listing filters, sorts and counts 9,000 apps on every keystroke; with the
latest analysis on the app row that is one scan of one table instead of a lookup into
analysis_tasks per app. Triggers keep the four columns true whoever writes an analysis
(the TUI, the CLI, a batch runner, another tool): an insert makes the new analysis the
latest when it is newer, a status change of the latest one is copied, and deleting the
latest one falls back to the one before.

Note for later migrations: on SQLite, recreating analysis_tasks (a batch_alter_table that
cannot ALTER in place) drops these triggers; create them again after such a step
(`create_triggers()` here). tests/test_apps_listing.py checks they are in place at head.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("last_analysis_id", "last_analysis_type", "last_analysis_status", "last_analysis_at")

# The latest analysis of app `:app` (newest created_at, then the highest id).
LATEST = """
    SELECT t.id, {type}, {status}, t.created_at FROM analysis_tasks t
    WHERE t.application_id = {app} ORDER BY t.created_at DESC, t.id DESC LIMIT 1
"""
# NEW is newer than the app's recorded latest analysis (or is it).
NEWER = """(
    {g}.last_analysis_id IS NULL OR {g}.last_analysis_id = NEW.id
    OR NEW.created_at > {g}.last_analysis_at
    OR (NEW.created_at = {g}.last_analysis_at AND NEW.id > {g}.last_analysis_id)
)"""
# SQLite before 3.33 has no alias in UPDATE: its triggers name the table.
G = "generated_applications"

# On insert and on update alike: NEW becomes the app's latest analysis when it is newer.
SQLITE_TAKE_NEW = f"""
        UPDATE generated_applications SET last_analysis_id = NEW.id,
            last_analysis_type = NEW.task_type, last_analysis_status = NEW.status,
            last_analysis_at = NEW.created_at
        WHERE id = NEW.application_id AND {NEWER.format(g=G)};
"""

SQLITE = [
    f"""
    CREATE TRIGGER thesis_last_analysis_insert AFTER INSERT ON analysis_tasks BEGIN
        {SQLITE_TAKE_NEW}
    END
    """,
    f"""
    CREATE TRIGGER thesis_last_analysis_update
    AFTER UPDATE OF status, task_type, created_at ON analysis_tasks BEGIN
        {SQLITE_TAKE_NEW}
    END
    """,
    f"""
    CREATE TRIGGER thesis_last_analysis_delete AFTER DELETE ON analysis_tasks BEGIN
        UPDATE generated_applications SET ({", ".join(COLUMNS)}) = (
            {LATEST.format(type="t.task_type", status="t.status", app="OLD.application_id")}
        )
        WHERE id = OLD.application_id AND last_analysis_id = OLD.id;
    END
    """,
]

PG_LATEST_OF_OLD = LATEST.format(
    type="t.task_type::text", status="t.status::text", app="OLD.application_id"
)

POSTGRES = [
    f"""
    CREATE FUNCTION thesis_last_analysis() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            UPDATE generated_applications AS g SET ({", ".join(COLUMNS)}) = (
                {PG_LATEST_OF_OLD}
            )
            WHERE g.id = OLD.application_id AND g.last_analysis_id = OLD.id;
            RETURN OLD;
        END IF;
        UPDATE generated_applications AS g SET last_analysis_id = NEW.id,
            last_analysis_type = NEW.task_type::text, last_analysis_status = NEW.status::text,
            last_analysis_at = NEW.created_at
        WHERE g.id = NEW.application_id AND {NEWER.format(g="g")};
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER thesis_last_analysis
    AFTER INSERT OR DELETE OR UPDATE OF status, task_type, created_at ON analysis_tasks
    FOR EACH ROW EXECUTE FUNCTION thesis_last_analysis()
    """,
]


def create_triggers() -> None:
    for statement in POSTGRES if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS thesis_last_analysis ON analysis_tasks")
        op.execute("DROP FUNCTION IF EXISTS thesis_last_analysis()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS thesis_last_analysis_{name}")


def upgrade() -> None:
    with op.batch_alter_table("generated_applications") as batch:
        batch.add_column(sa.Column("last_analysis_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_analysis_type", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("last_analysis_status", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("last_analysis_at", sa.DateTime(timezone=True), nullable=True))
    postgres = op.get_bind().dialect.name == "postgresql"
    latest = LATEST.format(
        type="t.task_type::text" if postgres else "t.task_type",
        status="t.status::text" if postgres else "t.status",
        app="generated_applications.id",
    )
    op.execute(f"UPDATE generated_applications SET ({', '.join(COLUMNS)}) = ({latest})")
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    with op.batch_alter_table("generated_applications") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
