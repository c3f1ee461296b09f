"""The schema's rules, enforced by the database itself, on SQLite and PostgreSQL alike.

Deletes go through raw SQL so the tests prove the database cascades, not the ORM."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from tui.db import Database
from tui.db.models import (
    AnalysisTask,
    AnalysisType,
    AuditLog,
    BatchAnalysis,
    BatchJob,
    BatchTask,
    ContainerizedTest,
    GeneratedApplication,
    ModelCapability,
    ModelUsage,
    OpenRouterAnalysis,
    Outcome,
    PerformanceTest,
    PortAllocation,
    SecurityAnalysis,
    Setting,
    ZapAnalysis,
)
from tui.db.types import utcnow

SLUG = "openai_gpt-4o"


def add_model(db: Database, slug: str = SLUG) -> None:
    with db.session() as s:
        s.add(
            ModelCapability(
                model_id=slug,
                canonical_slug=slug,
                provider=slug.split("_")[0],
                display_name=slug,
                model_name=slug,
            )
        )


def add_app(db: Database, number: int = 1, slug: str = SLUG) -> int:
    with db.session() as s:
        app = GeneratedApplication(model_slug=slug, app_number=number)
        s.add(app)
        s.flush()
        return app.id


def add_ports(db: Database, number: int = 1, backend: int = 5001, frontend: int = 8001) -> None:
    with db.session() as s:
        s.add(
            PortAllocation(
                model_name=SLUG, app_number=number, backend_port=backend, frontend_port=frontend
            )
        )


def add_job(db: Database) -> int:
    with db.session() as s:
        job = BatchJob(name="nightly")
        s.add(job)
        s.flush()
        return job.id


def count(db: Database, model: type) -> int:
    with db.session() as s:
        return len(s.scalars(select(model)).all())


def refused(db: Database, *objects: object) -> None:
    with pytest.raises(IntegrityError), db.session() as s:
        s.add_all(objects)


@pytest.fixture
def app_db(db: Database) -> Database:
    add_model(db)
    return db


# --- unique constraints ------------------------------------------------------------------


def test_second_model_with_the_same_slug_is_refused(app_db) -> None:
    refused(
        app_db,
        ModelCapability(
            model_id="other", canonical_slug=SLUG, provider="o", display_name="x", model_name="x"
        ),
    )


def test_second_model_with_the_same_model_id_is_refused(app_db) -> None:
    refused(
        app_db,
        ModelCapability(
            model_id=SLUG, canonical_slug="other", provider="o", display_name="x", model_name="x"
        ),
    )


def test_second_app_with_same_model_and_number_is_refused(app_db) -> None:
    add_app(app_db, 1)
    refused(app_db, GeneratedApplication(model_slug=SLUG, app_number=1))
    assert count(app_db, GeneratedApplication) == 1


@pytest.mark.parametrize(
    ("backend", "frontend"),
    [(5001, 8002), (5002, 8001)],
    ids=["same-backend-port", "same-frontend-port"],
)
def test_a_port_already_allocated_cannot_be_allocated_again(app_db, backend, frontend) -> None:
    add_app(app_db, 1)
    add_app(app_db, 2)
    add_ports(app_db, 1, 5001, 8001)
    refused(
        app_db,
        PortAllocation(model_name=SLUG, app_number=2, backend_port=backend, frontend_port=frontend),
    )


def test_an_app_gets_one_port_allocation_only(app_db) -> None:
    add_app(app_db, 1)
    add_ports(app_db, 1, 5001, 8001)
    refused(
        app_db, PortAllocation(model_name=SLUG, app_number=1, backend_port=5002, frontend_port=8002)
    )


def test_task_ids_and_test_ids_and_setting_keys_are_unique(app_db) -> None:
    app_id = add_app(app_db)
    with app_db.session() as s:
        s.add(AnalysisTask(task_id="t1", application_id=app_id, task_type=AnalysisType.SECURITY))
        s.add(ContainerizedTest(test_id="c1", application_id=app_id, test_type="smoke"))
        s.add(Setting(key="theme", value={"dark": True}))
    refused(app_db, AnalysisTask(task_id="t1", application_id=app_id, task_type=AnalysisType.ZAP))
    refused(app_db, ContainerizedTest(test_id="c1", application_id=app_id, test_type="smoke"))
    refused(app_db, Setting(key="theme", value=1))


def test_a_batch_job_holds_each_model_app_type_once(app_db) -> None:
    job_id = add_job(app_db)

    def task() -> BatchTask:
        return BatchTask(
            job_id=job_id, model_name=SLUG, app_number=1, test_type=AnalysisType.SECURITY
        )

    with app_db.session() as s:
        s.add(task())
    refused(app_db, task())


# --- check constraints -------------------------------------------------------------------


@pytest.mark.parametrize("number", [0, 31, -1])
def test_app_number_outside_1_to_30_is_refused(app_db, number) -> None:
    refused(app_db, GeneratedApplication(model_slug=SLUG, app_number=number))


@pytest.mark.parametrize("number", [1, 30])
def test_app_numbers_1_and_30_are_accepted(app_db, number) -> None:
    add_app(app_db, number)
    add_ports(app_db, number)
    job_id = add_job(app_db)
    with app_db.session() as s:
        s.add(
            BatchTask(
                job_id=job_id, model_name=SLUG, app_number=number, test_type=AnalysisType.SMOKE
            )
        )
    assert count(app_db, BatchTask) == 1


@pytest.mark.parametrize("number", [0, 31])
def test_port_allocations_and_batch_tasks_refuse_app_numbers_outside_1_to_30(
    app_db, number
) -> None:
    job_id = add_job(app_db)
    refused(
        app_db,
        BatchTask(job_id=job_id, model_name=SLUG, app_number=number, test_type=AnalysisType.SMOKE),
    )
    # A port row for app 0/31 cannot exist: its app cannot, and the check says so too.
    refused(
        app_db,
        PortAllocation(model_name=SLUG, app_number=number, backend_port=5001, frontend_port=8001),
    )


def progress_rows(db: Database, progress: int) -> list[object]:
    app_id = add_app(db, 5)
    job_id = add_job(db)
    return [
        BatchJob(name="p", progress=progress),
        BatchTask(
            job_id=job_id,
            model_name=SLUG,
            app_number=1,
            test_type=AnalysisType.SMOKE,
            progress=progress,
        ),
        AnalysisTask(
            task_id="p", application_id=app_id, task_type=AnalysisType.SECURITY, progress=progress
        ),
        BatchAnalysis(name="legacy", progress=progress),
    ]


@pytest.mark.parametrize("progress", [-1, 101])
@pytest.mark.parametrize(
    "index", [0, 1, 2, 3], ids=["batch_jobs", "batch_tasks", "analysis_tasks", "batch_analyses"]
)
def test_progress_outside_0_to_100_is_refused(app_db, progress, index) -> None:
    refused(app_db, progress_rows(app_db, progress)[index])


def test_progress_0_and_100_are_accepted(app_db) -> None:
    with app_db.session() as s:
        s.add_all([BatchJob(name="a", progress=0), BatchJob(name="b", progress=100)])
    assert count(app_db, BatchJob) == 2


@pytest.mark.parametrize(
    ("table", "column", "extra"),
    [
        ("generated_applications", "status", {"model_slug": SLUG, "app_number": 1}),
        ("batch_jobs", "status", {"name": "x", "priority": "normal"}),
        ("batch_jobs", "priority", {"name": "x", "status": "pending"}),
    ],
)
def test_a_status_outside_its_enum_is_refused_by_the_database(app_db, table, column, extra):
    """Raw SQL bypasses the ORM's own enum check: the CHECK constraint must catch it."""
    values = {**extra, column: "bogus"}
    now = utcnow().replace(tzinfo=None).isoformat(sep=" ")
    defaults = {
        "generated_applications": {"status": "not_created", "created_at": now, "updated_at": now},
        "batch_jobs": {
            "progress": 0,
            "total_tests": 0,
            "completed_tests": 0,
            "failed_tests": 0,
            "created_at": now,
            "updated_at": now,
        },
    }[table]
    row = {**defaults, **values}
    columns = ", ".join(row)
    params = ", ".join(f":{name}" for name in row)
    with pytest.raises(IntegrityError), app_db.session() as s:
        s.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({params})"), row)


# --- foreign keys and cascades -----------------------------------------------------------


def test_an_app_of_a_model_not_in_the_catalogue_is_refused(db) -> None:
    refused(db, GeneratedApplication(model_slug="nobody_model", app_number=1))


def test_ports_for_an_app_that_does_not_exist_are_refused(app_db) -> None:
    refused(
        app_db, PortAllocation(model_name=SLUG, app_number=7, backend_port=5001, frontend_port=8001)
    )


def test_deleting_an_app_deletes_its_ports_analyses_and_results(app_db) -> None:
    app_id = add_app(app_db)
    add_ports(app_db)
    with app_db.session() as s:
        task = AnalysisTask(task_id="t", application_id=app_id, task_type=AnalysisType.SECURITY)
        s.add(task)
        s.flush()
        s.add_all(
            [
                SecurityAnalysis(application_id=app_id, analysis_task_id=task.id),
                PerformanceTest(application_id=app_id),
                ZapAnalysis(application_id=app_id),
                OpenRouterAnalysis(application_id=app_id),
                ContainerizedTest(test_id="c", application_id=app_id, test_type="smoke"),
                ModelUsage(model_name="m", provider="p", application_id=app_id),
                AuditLog(
                    user="u",
                    action="start",
                    resource_type="app",
                    application_id=app_id,
                    outcome=Outcome.SUCCESS,
                ),
            ]
        )
    with app_db.session() as s:
        s.execute(text("DELETE FROM generated_applications WHERE id = :id"), {"id": app_id})
    for model in (
        PortAllocation,
        AnalysisTask,
        SecurityAnalysis,
        PerformanceTest,
        ZapAnalysis,
        OpenRouterAnalysis,
        ContainerizedTest,
    ):
        assert count(app_db, model) == 0, model.__tablename__
    with app_db.session() as s:
        usage = s.scalars(select(ModelUsage)).one()
        audit = s.scalars(select(AuditLog)).one()
        assert usage.application_id is None and audit.application_id is None


def test_deleting_a_model_deletes_its_apps_and_their_ports(app_db) -> None:
    add_app(app_db, 1)
    add_app(app_db, 2)
    add_ports(app_db, 1)
    with app_db.session() as s:
        s.execute(text("DELETE FROM model_capabilities WHERE canonical_slug = :s"), {"s": SLUG})
    assert count(app_db, GeneratedApplication) == 0
    assert count(app_db, PortAllocation) == 0


def test_deleting_a_batch_job_deletes_its_tasks(app_db) -> None:
    job_id = add_job(app_db)
    with app_db.session() as s:
        s.add_all(
            BatchTask(job_id=job_id, model_name=SLUG, app_number=n, test_type=AnalysisType.SMOKE)
            for n in (1, 2, 3)
        )
    with app_db.session() as s:
        s.execute(text("DELETE FROM batch_jobs WHERE id = :id"), {"id": job_id})
    assert count(app_db, BatchTask) == 0


# --- types ---------------------------------------------------------------------------------


def test_datetimes_come_back_timezone_aware_in_utc(app_db) -> None:
    moment = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)
    app_id = add_app(app_db)
    with app_db.session() as s:
        s.get(GeneratedApplication, app_id).last_status_check = moment
    with app_db.session() as s:
        stored = s.get(GeneratedApplication, app_id).last_status_check
        assert stored == moment and stored.tzinfo is not None
        assert stored.utcoffset().total_seconds() == 0


def test_writing_a_naive_datetime_is_refused(app_db) -> None:
    app_id = add_app(app_db)
    with pytest.raises(StatementError, match="naive datetime"), app_db.session() as s:
        s.get(GeneratedApplication, app_id).last_status_check = datetime(2026, 1, 1)


def test_json_columns_round_trip_nested_values(app_db) -> None:
    metadata = {
        "languages": {"python": 120, "js": 40},
        "services": [{"name": "api", "ports": [5000]}],
        "empty": None,
        "ok": True,
    }
    app_id = add_app(app_db)
    with app_db.session() as s:
        s.get(GeneratedApplication, app_id).app_metadata = metadata
    with app_db.session() as s:
        assert s.get(GeneratedApplication, app_id).app_metadata == metadata
