"""Opening the database: connect, and bring the schema to the newest revision.

Apart from session.py so the engine and sessions do not import the migrations that use
them (session.py <- migrate.py <- here).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tui.db.revisions import head_from_files
from tui.db.session import Database


def open_database(url: str, *, upgrade: bool = True) -> Database:
    """Open the database at `url` and (by default) migrate it to the newest schema."""
    db = Database.from_url(url)
    db.check_connection()
    if upgrade and not _at_head(db):
        from tui.db.migrate import upgrade_to_head

        upgrade_to_head(db)
    return db


def _at_head(db: Database) -> bool:
    """Whether the schema is at the newest revision, asked without importing Alembic."""
    head = head_from_files()
    if head is None:
        return False
    try:
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    except SQLAlchemyError:
        return False  # no version table yet: a new database, which Alembic creates
