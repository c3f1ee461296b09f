"""Alembic, driven from code: the app and every CLI command upgrade to head on start."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
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


def _run(db: Database, action: str, revision: str) -> None:
    config = alembic_config(db)
    try:
        with db.engine.begin() as conn:
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
    if current_revision(db) == head_revision():
        return
    _run(db, "upgrade", "head")


def upgrade(db: Database, revision: str = "head") -> None:
    _run(db, "upgrade", revision)


def downgrade(db: Database, revision: str) -> None:
    _run(db, "downgrade", revision)
