"""Alembic owns the schema: migrations create exactly what the models describe, go down
and up again, and the app's upgrade-on-start is a no-op on a current database."""

from __future__ import annotations

import sqlite3

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from tui.db import Database, open_database
from tui.db.migrate import current_revision, downgrade, head_revision, upgrade, upgrade_to_head
from tui.db.models import Base, ModelCapability


def tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_upgrade_from_empty_creates_every_table_of_the_models(db_url) -> None:
    db = Database.from_url(db_url)
    assert current_revision(db) is None
    upgrade(db)
    assert current_revision(db) == head_revision()
    assert set(Base.metadata.tables) <= tables(db)
    db.dispose()


def test_autogenerate_finds_no_difference_between_models_and_migrations(db) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "target_metadata": Base.metadata,
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_downgrade_to_base_and_upgrade_again(db) -> None:
    downgrade(db, "base")
    assert tables(db) <= {"alembic_version"}
    assert current_revision(db) is None
    upgrade(db)
    with db.session() as s:
        s.add(
            ModelCapability(
                model_id="a_b", canonical_slug="a_b", provider="a", display_name="B", model_name="b"
            )
        )
    with db.session() as s:
        assert s.scalars(select(ModelCapability.canonical_slug)).all() == ["a_b"]


def test_upgrade_on_start_keeps_a_current_database_and_its_rows(db) -> None:
    with db.session() as s:
        s.add(
            ModelCapability(
                model_id="a_b", canonical_slug="a_b", provider="a", display_name="B", model_name="b"
            )
        )
    upgrade_to_head(db)
    assert current_revision(db) == head_revision()
    with db.session() as s:
        assert s.scalar(select(ModelCapability.canonical_slug)) == "a_b"


def test_open_database_creates_the_sqlite_file_and_sets_its_pragmas(tmp_path) -> None:
    path = tmp_path / "deep" / "er" / "thesis.db"
    db = open_database(f"sqlite:///{path}")
    assert path.exists()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    db.dispose()
    names = {n for (n,) in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert "generated_applications" in names
