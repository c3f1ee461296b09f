"""Alembic, driven from code: the app and every CLI command upgrade to head on start."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tui.db.session import Database, _first_line
from tui.errors import DatabaseError
from tui.paths import migrations_path


def alembic_config(db: Database | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    if db is not None:
        # configparser interpolates '%': escape it (URL-encoded query strings are full of it)
        url = db.engine.url.render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(db: Database) -> str | None:
    try:
        with db.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"Cannot read the schema version of {db.url}: {_first_line(exc)}"
        ) from None


MIGRATION_LOCK = 0x7468657369730001
"""PostgreSQL advisory lock key held while migrating ("thesis" and 1)."""


def _run(db: Database, action: str, revision: str, *, unless_at: str | None = None) -> None:
    """Run an Alembic command in one transaction that first takes a lock every other
    migrating process waits on: on PostgreSQL an advisory lock, on SQLite the write lock
    (BEGIN IMMEDIATE). Several processes starting on a fresh database then migrate once,
    one after the other, instead of racing to create the same tables. With `unless_at`,
    nothing is done when, once the lock is held, the schema is already at that revision."""
    config = alembic_config(db)
    try:
        with db.write_engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            at = MigrationContext.configure(conn).get_current_revision() if unless_at else None
            if unless_at is not None and at == unless_at:
                return
            config.attributes["connection"] = conn
            getattr(command, action)(config, revision)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"Migrating {db.url} failed: {_first_line(exc)}") from None
    except CommandError as exc:  # e.g. a revision made by a newer version of thesis
        raise DatabaseError(
            f"Cannot migrate {db.url}: {_first_line(exc)} (was it made by a newer thesis?)"
        ) from None


def upgrade_to_head(db: Database) -> None:
    """Bring the schema to the newest revision (does nothing when it is already there)."""
    head = head_revision()
    if current_revision(db) == head:
        return
    _run(db, "upgrade", "head", unless_at=head)


def upgrade(db: Database, revision: str = "head") -> None:
    _run(db, "upgrade", revision)


def downgrade(db: Database, revision: str) -> None:
    _run(db, "downgrade", revision)
