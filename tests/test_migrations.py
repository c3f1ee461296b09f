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
from tui.db.models import (
    Base,
    GeneratedApplication,
    ModelCapability,
    ModelUsage,
    PortAllocation,
    SecurityAnalysis,
)
from tui.db.session import SQLITE_BUSY_TIMEOUT_MS, Database

SLUG = "openai_gpt-4o"


@pytest.fixture
def empty_db(db_url: str) -> Iterator[Database]:
    """The test database as found: no tables, no schema version."""
    database = Database.from_url(db_url)
    yield database
    database.dispose()


QUEUE_TABLES = {"procrastinate_jobs", "procrastinate_workers", "procrastinate_events",
                "procrastinate_periodic_defers"}  # fmt: skip


def tables(db: Database) -> set[str]:
    """Our tables; procrastinate's (PostgreSQL only) are checked apart."""
    return set(inspect(db.engine).get_table_names()) - QUEUE_TABLES


def queue_tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names()) & QUEUE_TABLES


def write_an_app(db: Database) -> None:
    """A model, its app 1 and its ports; the app naming only the columns every revision has
    (a test may stand at an older one)."""
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
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO generated_applications (model_slug, app_number, status, created_at, "
            "updated_at) VALUES (:slug, 1, 'not_created', '2026-01-01', '2026-01-01')"
        ), {"slug": SLUG})  # fmt: skip
    with db.session() as s:
        s.add(PortAllocation(model_name=SLUG, app_number=1, backend_port=5001, frontend_port=8001))


def test_upgrade_from_empty_creates_every_table_of_the_models(empty_db: Database) -> None:
    assert tables(empty_db) == set()
    assert current_revision(empty_db) is None
    assert head_revision() is not None

    upgrade(empty_db)

    assert current_revision(empty_db) == head_revision()
    assert tables(empty_db) == set(Base.metadata.tables) | {"alembic_version"}
    # The shared task queue: procrastinate's schema on PostgreSQL, none on SQLite.
    assert queue_tables(empty_db) == (QUEUE_TABLES if empty_db.dialect == "postgresql" else set())


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
                "include_object": lambda obj, name, kind, reflected, _: (
                    not (kind == "table" and reflected and name in QUEUE_TABLES)
                ),
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

    assert tables(empty_db) <= {"alembic_version"} and queue_tables(empty_db) == set()
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


def test_0007_lets_analyses_be_functional_keeping_every_row_and_trigger(
    empty_db: Database,
) -> None:
    """From 0006 with an app, an analysis and a row referring to it: after 0007 the rows are
    all there (no rebuilt table cascaded into them), a functional analysis is accepted and
    becomes the app's latest (the trigger still runs), a type out of the list is refused;
    down again, the functional rows go and the old list is back."""
    upgrade(empty_db, "0006")
    write_an_app(empty_db)
    with empty_db.engine.begin() as conn:
        app = conn.scalar(text("SELECT id FROM generated_applications"))
        conn.execute(text(
            "INSERT INTO analysis_tasks (task_id, application_id, task_type, status, progress, "
            "created_at) VALUES ('s-1', :app, 'security', 'completed', 100, '2026-01-01')"
        ), {"app": app})  # fmt: skip
        task = conn.scalar(text("SELECT id FROM analysis_tasks"))
    with empty_db.session() as s:  # rows that refer to the analysis, cascading or not
        s.add(SecurityAnalysis(application_id=app, analysis_task_id=task))
        s.add(ModelUsage(model_name="m", provider="p", analysis_task_id=task))

    upgrade(empty_db, "0007")

    insert = (
        "INSERT INTO analysis_tasks (task_id, application_id, task_type, status, progress, "
        "created_at) VALUES (:id, :app, :type, 'pending', 0, '2026-02-01')"
    )
    with empty_db.engine.begin() as conn:
        assert conn.scalar(text("SELECT count(*) FROM security_analyses")) == 1
        assert conn.scalar(text("SELECT analysis_task_id FROM model_usage")) == task
        conn.execute(text(insert), {"id": "f-1", "app": app, "type": "functional"})
        latest = conn.scalar(text("SELECT last_analysis_type FROM generated_applications"))
        assert latest == "functional"
    with pytest.raises(Exception, match=r"(?i)check"), empty_db.engine.begin() as conn:
        conn.execute(text(insert), {"id": "x-1", "app": app, "type": "bogus"})
    with empty_db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO batch_jobs (name, status, priority, progress, total_tests, "
            "completed_tests, failed_tests, one_off, created_at, updated_at) VALUES "
            "('j', 'pending', 'normal', 0, 0, 0, 0, false, '2026-01-01', '2026-01-01')"
        ))  # fmt: skip
        job = conn.scalar(text("SELECT id FROM batch_jobs"))
        conn.execute(text(
            "INSERT INTO batch_tasks (job_id, model_name, app_number, test_type, status, "
            "progress, attempts, reused, created_at) VALUES "
            "(:job, 'm', 1, 'functional', 'pending', 0, 0, false, '2026-01-01')"
        ), {"job": job})  # fmt: skip

    downgrade(empty_db, "0006")

    with empty_db.engine.begin() as conn:
        assert conn.scalar(text("SELECT count(*) FROM analysis_tasks")) == 1
        assert conn.scalar(text("SELECT count(*) FROM batch_tasks")) == 0
        assert conn.scalar(text("SELECT count(*) FROM security_analyses")) == 1
    with pytest.raises(Exception, match=r"(?i)check"), empty_db.engine.begin() as conn:
        conn.execute(text(insert), {"id": "f-2", "app": app, "type": "functional"})
    upgrade_to_head(empty_db)


def test_0009_gives_each_current_attempt_its_task_and_keeps_the_triggers(
    empty_db: Database,
) -> None:
    """From 0008, a job whose task's current attempt is analysis A, and an analysis B a
    second job reused: after 0009 A belongs to the first job's task and B to no task (a
    reuse is not an attempt); the latest-analysis trigger still runs; down again, the
    column goes and the rows stay."""
    upgrade(empty_db, "0008")
    write_an_app(empty_db)
    analysis = (
        "INSERT INTO analysis_tasks (task_id, application_id, task_type, status, progress, "
        "created_at) VALUES (:id, :app, 'security', 'completed', 100, :at)"
    )
    with empty_db.engine.begin() as conn:
        app = conn.scalar(text("SELECT id FROM generated_applications"))
        for task_id, at in (("a", "2026-01-01"), ("b", "2026-01-02")):
            conn.execute(text(analysis), {"id": task_id, "app": app, "at": at})
        ids = dict(conn.execute(text("SELECT task_id, id FROM analysis_tasks")).all())
        for name, analysis_id, reused in (("first", ids["a"], False), ("second", ids["b"], True)):
            conn.execute(text(
                "INSERT INTO batch_jobs (name, status, priority, progress, total_tests, "
                "completed_tests, failed_tests, one_off, created_at, updated_at) VALUES "
                "(:name, 'completed', 'normal', 0, 1, 1, 0, false, '2026-01-01', '2026-01-01')"
            ), {"name": name})  # fmt: skip
            job = conn.scalar(text("SELECT id FROM batch_jobs WHERE name = :n"), {"n": name})
            conn.execute(text(
                "INSERT INTO batch_tasks (job_id, model_name, app_number, test_type, status, "
                "progress, attempts, reused, analysis_task_id, created_at) VALUES "
                "(:job, 'm', 1, 'security', 'completed', 100, 1, :reused, :a, '2026-01-01')"
            ), {"job": job, "reused": reused, "a": analysis_id})  # fmt: skip
        first_task = conn.scalar(text("SELECT min(id) FROM batch_tasks"))

    upgrade(empty_db, "0009")

    with empty_db.engine.begin() as conn:
        owners = dict(conn.execute(text("SELECT task_id, batch_task_id FROM analysis_tasks")).all())
        assert owners == {"a": first_task, "b": None}
        conn.execute(text(analysis), {"id": "c", "app": app, "at": "2026-01-03"})
        latest = conn.scalar(text("SELECT last_analysis_id FROM generated_applications"))
        assert latest == conn.scalar(text("SELECT id FROM analysis_tasks WHERE task_id = 'c'"))

    downgrade(empty_db, "0008")

    columns = {column["name"] for column in inspect(empty_db.engine).get_columns("analysis_tasks")}
    assert "batch_task_id" not in columns
    with empty_db.engine.begin() as conn:
        assert conn.scalar(text("SELECT count(*) FROM analysis_tasks")) == 3
    upgrade_to_head(empty_db)


def test_0012_puts_a_task_that_ran_before_in_front_of_its_job_and_back(postgres_url) -> None:
    """On PostgreSQL the waiting tokens are renumbered: twice the job's rank, plus one for a
    task that ran before; down again, the job's rank."""
    db = Database.from_url(postgres_url)
    try:
        upgrade(db, "0011")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO batch_jobs (name, status, priority, progress, total_tests, "
                "completed_tests, failed_tests, one_off, created_at, updated_at) VALUES "
                "('j', 'pending', 'high', 0, 2, 0, 0, false, '2026-01-01', '2026-01-01')"
            ))  # fmt: skip
            job = conn.scalar(text("SELECT id FROM batch_jobs"))
            for number, started in ((1, None), (2, "2026-01-02")):
                conn.execute(text(
                    "INSERT INTO batch_tasks (job_id, model_name, app_number, test_type, "
                    "status, progress, attempts, reused, created_at, started_at) VALUES "
                    "(:job, 'm', :n, 'security', 'pending', 0, 0, false, '2026-01-01', :s)"
                ), {"job": job, "n": number, "s": started})  # fmt: skip

        def priorities() -> list[int]:
            with db.engine.begin() as conn:
                return list(conn.scalars(text(
                    "SELECT p.priority FROM procrastinate_jobs p JOIN batch_tasks t "
                    "ON t.id = (p.args->>'task')::bigint ORDER BY t.app_number"
                )))  # fmt: skip

        assert priorities() == [2, 2]
        upgrade(db, "0012")
        assert priorities() == [4, 5]
        downgrade(db, "0011")
        assert priorities() == [2, 2]
        upgrade_to_head(db)
    finally:
        db.dispose()
