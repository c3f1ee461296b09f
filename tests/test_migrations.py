"""Alembic owns the schema, on SQLite and on PostgreSQL: the migrations build exactly what
the models describe, go down to nothing and up again, and the upgrade every start runs does
nothing to a database that is already current."""

from __future__ import annotations

import pprint
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect, select, text

from tui.db import open_database
from tui.db.migrate import current_revision, downgrade, head_revision, upgrade, upgrade_to_head
from tui.db.models import Base, GeneratedApplication, ModelCapability, PortAllocation
from tui.db.session import SQLITE_BUSY_TIMEOUT_MS, Database

SLUG = "openai_gpt-4o"


@pytest.fixture
def empty_db(db_url: str) -> Iterator[Database]:
    """The test database as found: no tables, no schema version."""
    database = Database.from_url(db_url)
    yield database
    database.dispose()


def tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def write_an_app(db: Database) -> None:
    with db.session() as s:
        s.add(
            ModelCapability(
                model_id=SLUG,
                canonical_slug=SLUG,
                provider="openai",
                display_name="GPT-4o",
                model_name="gpt-4o",
            )
        )
        s.flush()
        s.add(GeneratedApplication(model_slug=SLUG, app_number=1))
        s.flush()
        s.add(PortAllocation(model_name=SLUG, app_number=1, backend_port=5001, frontend_port=8001))


def test_upgrade_from_empty_creates_every_table_of_the_models(empty_db: Database) -> None:
    assert tables(empty_db) == set()
    assert current_revision(empty_db) is None
    assert head_revision() is not None

    upgrade(empty_db)

    assert current_revision(empty_db) == head_revision()
    assert tables(empty_db) == set(Base.metadata.tables) | {"alembic_version"}


def test_autogenerate_finds_no_difference_between_the_models_and_the_migrated_database(
    empty_db: Database,
) -> None:
    upgrade(empty_db)
    with empty_db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "target_metadata": Base.metadata,
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], "models and migrations differ:\n" + pprint.pformat(diff)


def test_downgrade_to_base_drops_every_table_and_upgrading_again_works(
    empty_db: Database,
) -> None:
    upgrade(empty_db)
    write_an_app(empty_db)

    downgrade(empty_db, "base")

    assert tables(empty_db) <= {"alembic_version"}
    assert current_revision(empty_db) is None

    upgrade(empty_db)

    assert current_revision(empty_db) == head_revision()
    assert tables(empty_db) == set(Base.metadata.tables) | {"alembic_version"}
    with empty_db.session() as s:  # the old rows went with their tables
        assert s.scalars(select(GeneratedApplication)).all() == []
    write_an_app(empty_db)
    with empty_db.session() as s:
        assert s.scalars(select(PortAllocation.backend_port)).all() == [5001]


def test_upgrade_to_head_on_a_current_database_changes_nothing(empty_db: Database) -> None:
    upgrade_to_head(empty_db)
    revision = current_revision(empty_db)
    assert revision == head_revision()
    write_an_app(empty_db)

    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(empty_db.engine, "before_cursor_execute", record)
    try:
        upgrade_to_head(empty_db)
    finally:
        event.remove(empty_db.engine, "before_cursor_execute", record)

    assert statements, "the revision was not even read"
    writes = [
        statement
        for statement in statements
        if statement.lstrip().split(None, 1)[0].upper()
        in {"CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE"}
    ]
    assert writes == []
    assert current_revision(empty_db) == revision
    with empty_db.session() as s:
        assert s.scalars(select(GeneratedApplication.model_slug)).all() == [SLUG]
        assert s.scalars(select(PortAllocation.frontend_port)).all() == [8001]


def test_open_database_on_a_fresh_sqlite_path_creates_it_migrated_with_its_pragmas(
    tmp_path: Path,
) -> None:
    path = tmp_path / "not" / "yet" / "there" / "thesis.db"
    db = open_database(f"sqlite:///{path}")
    try:
        assert path.is_file()
        assert current_revision(db) == head_revision()
        # Pragmas are per connection: check two at once, each must have them.
        with db.engine.connect() as first, db.engine.connect() as second:
            for conn in (first, second):
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                busy = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
                assert busy == SQLITE_BUSY_TIMEOUT_MS > 0
        write_an_app(db)
        with db.session() as s:
            assert s.execute(text("SELECT COUNT(*) FROM port_allocations")).scalar() == 1
    finally:
        db.dispose()


def test_a_database_from_a_newer_version_is_a_one_line_error(sqlite_url) -> None:
    from tui.errors import DatabaseError

    db = open_database(sqlite_url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    db.dispose()
    with pytest.raises(DatabaseError, match="9999") as caught:
        open_database(sqlite_url)
    assert "\n" not in caught.value.msg


def test_a_tilde_in_an_sqlite_url_means_the_home_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    db = open_database("sqlite:///~/sub/thesis.db")
    db.dispose()
    assert (tmp_path / "sub" / "thesis.db").exists()


def test_the_head_read_from_the_files_is_alembics() -> None:
    """Starting at head skips importing Alembic: its idea of head must be Alembic's."""
    from tui.db.migrate import head_revision
    from tui.db.revisions import head_from_files

    assert head_from_files() == head_revision()
